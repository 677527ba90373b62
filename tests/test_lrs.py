"""Forwarding learning records to an LRS, through the front door: people ask, react and learn
in the Slack stand-in; the scheduler's jobs queue the statements and send them to the LRS
stand-in (a real HTTP server) at instants the test chooses; the LRS fails on request.

What is checked is what the LRS ends up with: every statement Eddy exports for the period,
exactly once, whatever the LRS did meanwhile.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot import lrs as forwarding
from bot import xapi
from bot.clock import ManualClock
from bot.sandbox import SlackStandIn
from bot.sandbox.lrs import LrsStandIn
from bot.scheduler import JobRun, run_jobs
from bot.settings import SettingsError, load_settings
from store.lrs import PENDING, REJECTED, SENT, LrsOutbox
from tests.conftest import (
    ALEX,
    GENERAL,
    KIM,
    PINNED,
    RIO,
    ROOT,
    SAM,
    Instance,
    postgres_database,
)
from tests.test_cli import eddy as eddy_cli

KEY, SECRET = "eddy-key", "eddy-secret"
LRS_JOBS = ("queue-lrs-statements", "forward-to-lrs", "forget-sent-lrs-statements")
CHECK, BULB = "white_check_mark", "bulb"
QUESTIONS = (
    "how do I reset my VPN password?",
    "where do I find the holiday calendar",
    "how do I book a meeting room",
    "what is the expense policy for travel",
    "how do I get a parking permit for the new office garage",
)
EVERYTHING = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


@pytest.fixture
def content() -> Path:
    return ROOT / "content"


@pytest.fixture
def lrs() -> Iterator[LrsStandIn]:
    with LrsStandIn(username=KEY, password=SECRET) as stand_in:
        yield stand_in


def forwarding_to(lrs: LrsStandIn, **overrides: object) -> dict[str, object]:
    """The LRS settings, with the endpoint as an operator might type it (no trailing slash)."""
    return {
        "eddy_lrs_url": lrs.url.rstrip("/"),
        "eddy_lrs_username": KEY,
        "eddy_lrs_password": SECRET,
        **overrides,
    }


@pytest.fixture
def instance(slack, database, content, clock, lrs) -> Iterator[Instance]:
    """Eddy forwarding to the LRS stand-in, on a movable clock the workspace shares."""
    slack.workspace.clock = clock
    eddy = Instance(slack, database, content, clock, **forwarding_to(lrs))
    slack.connect(eddy.target)
    yield eddy
    eddy.close()


def learning_happens(slack: SlackStandIn, instance: Instance, *, rounds: int = 4) -> None:
    """People ask questions (each round, everyone asks every question), give recognition with
    reactions, and start a learning path (its first lesson arrives at once)."""
    for _ in range(rounds):
        for person in (KIM, SAM, RIO):
            for question in QUESTIONS:
                slack.command(person, GENERAL, f"/ask {question}")
    tip = slack.say(SAM, GENERAL, "Tip: pin the runbook in the channel topic.")
    slack.react(ALEX, tip, CHECK)
    slack.react(KIM, tip, BULB)
    slack.command(RIO, GENERAL, "/learn start working-in-slack")
    instance.runtime.work.wait_idle()


def exported(instance: Instance) -> dict[str, dict]:
    """Every statement Eddy exports for all time, by id."""
    store, team_id = instance.runtime.store, instance.runtime.team_id
    assert xapi.record(store, team_id, instance.runtime.clock.now()) is not None
    return {s["id"]: s for s in xapi.statements_in(store, team_id, EVERYTHING)}


def jobs_at(instance: Instance, now: datetime) -> dict[str, object]:
    """Run the scheduler's jobs once at `now`; the LRS jobs' results by name."""
    runs: list[JobRun] = run_jobs(instance.runtime, now)
    assert all(run.ok for run in runs), runs
    return {run.name: run.result for run in runs if run.name in LRS_JOBS}


def outbox(instance: Instance) -> list[LrsOutbox]:
    with instance.runtime.store.session() as session:
        return list(session.exec(select(LrsOutbox)).all())


def by_status(instance: Instance) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in outbox(instance):
        counts[row.status] = counts.get(row.status, 0) + 1
    return counts


def next_attempt(instance: Instance) -> datetime:
    """When the earliest pending statement is next tried."""
    return min(row.next_attempt_at for row in outbox(instance) if row.status == PENDING)


def assert_stored_exactly_once(lrs: LrsStandIn, statements: dict[str, dict]) -> None:
    assert len(lrs.received_ids) == len(set(lrs.received_ids)), "a statement was stored twice"
    assert lrs.stored == statements


def test_statements_reach_the_lrs_in_batches_once_each(slack, instance, clock, lrs):
    learning_happens(slack, instance)
    statements = exported(instance)
    assert len(statements) > forwarding.BATCH_SIZE  # so that it takes more than one batch

    results = jobs_at(instance, clock.advance(timedelta(minutes=1)))

    assert results["queue-lrs-statements"] == f"{len(statements)} queued"
    assert (
        results["forward-to-lrs"]
        == f"{len(statements)} sent (0 already there), 0 rejected, 0 to retry"
    )
    assert_stored_exactly_once(lrs, statements)
    posts = lrs.posts()
    assert [len(post.body) for post in posts] == [
        forwarding.BATCH_SIZE,
        len(statements) - forwarding.BATCH_SIZE,
    ]
    for post in posts:
        assert post.status == 200
        assert post.headers["x-experience-api-version"] == "1.0.3"
        assert post.headers["content-type"] == "application/json"
        assert post.headers["authorization"].startswith("Basic ")
    # Oldest first: the LRS gets the day in the order it happened.
    sent_order = [s["timestamp"] for post in posts for s in post.body]
    assert sent_order == sorted(sent_order)
    assert by_status(instance) == {SENT: len(statements)}

    # Later passes re-read the last hour (the overlap) but send only what is new.
    tip = slack.say(KIM, GENERAL, "The wiki has a page on this.")
    slack.react(SAM, tip, CHECK)
    instance.runtime.work.wait_idle()
    now_exported = exported(instance)
    results = jobs_at(instance, clock.advance(timedelta(minutes=1)))
    assert results["queue-lrs-statements"] == f"{len(now_exported) - len(statements)} queued"
    assert_stored_exactly_once(lrs, now_exported)
    assert len(lrs.posts()) == len(posts) + 1
    jobs_at(instance, clock.advance(timedelta(minutes=1)))
    assert len(lrs.posts()) == len(posts) + 1

    status = forwarding.status(instance.runtime.store)
    assert (status["pending"], status["sent"], status["rejected"]) == (0, len(now_exported), 0)
    assert status["errors"] == []


def test_turned_on_later_it_sends_the_history_from_the_first_event(slack, instance, clock, lrs):
    learning_happens(slack, instance, rounds=1)
    clock.advance(timedelta(days=3))
    slack.command(KIM, GENERAL, f"/ask {QUESTIONS[0]}")
    statements = exported(instance)

    now = clock.advance(timedelta(minutes=1))
    jobs_at(instance, now)

    assert_stored_exactly_once(lrs, statements)
    queued_until = forwarding.status(instance.runtime.store)["queued_until"]
    assert queued_until == {instance.runtime.team_id: now.isoformat(timespec="seconds")}


def test_sent_statements_are_forgotten_after_a_week_and_never_sent_again(
    slack, instance, clock, lrs
):
    learning_happens(slack, instance)
    statements = exported(instance)
    jobs_at(instance, clock.advance(timedelta(minutes=1)))
    assert by_status(instance) == {SENT: len(statements)}

    results = jobs_at(instance, clock.advance(forwarding.KEEP_SENT + timedelta(hours=1)))

    assert results["forget-sent-lrs-statements"] == f"{len(statements)} forgotten"
    assert outbox(instance) == []
    assert_stored_exactly_once(lrs, statements)


def test_an_outage_loses_nothing_and_sends_nothing_twice(slack, instance, clock, lrs, caplog):
    learning_happens(slack, instance)
    statements = exported(instance)

    # The LRS is overloaded: every pass that tries gets a 503, and waits longer each time.
    lrs.fail_next(503, times=3)
    now = clock.advance(timedelta(minutes=1))
    with caplog.at_level(logging.WARNING, logger="bot.lrs"):
        results = jobs_at(instance, now)
    assert results["forward-to-lrs"] == (
        f"0 sent (0 already there), 0 rejected, {len(statements)} to retry"
    )
    assert any("unavailable (HTTP 503" in r.getMessage() for r in caplog.records)
    waits = [next_attempt(instance) - now]
    for _ in range(2):
        now = clock.advance(waits[-1])
        jobs_at(instance, now)
        waits.append(next_attempt(instance) - now)
    assert waits[0] <= timedelta(seconds=30) < waits[1] <= timedelta(minutes=1) < waits[2]
    # While it waits, nobody asks the LRS: one request per attempt, not one per batch.
    jobs_at(instance, clock.advance(waits[-1] / 2))
    assert len(lrs.posts()) == 3

    # Then it is down altogether: connections are refused.
    lrs.go_down()
    now = clock.advance(waits[-1])
    results = jobs_at(instance, now)
    assert results["forward-to-lrs"].endswith(f"{len(statements)} to retry")
    waits.append(next_attempt(instance) - now)
    assert waits[-1] > waits[-2]
    assert by_status(instance) == {PENDING: len(statements)}
    assert lrs.stored == {}
    tried = [row for row in outbox(instance) if row.attempts]
    assert tried and all("no answer" in (row.last_error or "") for row in tried)

    # It comes back: everything arrives, once.
    lrs.come_back()
    jobs_at(instance, clock.advance(waits[-1]))
    assert_stored_exactly_once(lrs, statements)
    assert by_status(instance) == {SENT: len(statements)}


def test_backoff_is_capped_at_an_hour(slack, instance, clock, lrs):
    learning_happens(slack, instance)
    lrs.go_down()
    now = clock.advance(timedelta(minutes=1))
    jobs_at(instance, now)
    for _ in range(9):
        now = clock.advance(next_attempt(instance) - now)
        jobs_at(instance, now)
    wait = next_attempt(instance) - now
    assert forwarding.LONGEST_WAIT * 0.8 <= wait <= forwarding.LONGEST_WAIT
    assert max(row.attempts for row in outbox(instance)) == 10


@pytest.mark.parametrize("lost_how", [0, 500], ids=["dropped connection", "500 after storing"])
def test_a_lost_answer_is_retried_without_storing_anything_twice(
    slack, instance, clock, lrs, caplog, lost_how
):
    learning_happens(slack, instance)
    statements = exported(instance)
    lrs.lose_answers(status=lost_how)  # the LRS stores the first batch; Eddy never hears so

    now = clock.advance(timedelta(minutes=1))
    jobs_at(instance, now)
    assert len(lrs.stored) == forwarding.BATCH_SIZE
    assert SENT not in by_status(instance)

    with caplog.at_level(logging.WARNING, logger="bot.lrs"):
        results = jobs_at(instance, clock.advance(next_attempt(instance) - now))

    assert_stored_exactly_once(lrs, statements)
    assert by_status(instance) == {SENT: len(statements)}
    assert results["forward-to-lrs"] == (
        f"{len(statements)} sent ({forwarding.BATCH_SIZE} already there), 0 rejected, 0 to retry"
    )
    # The batch the LRS had answered 409; each of its statements was then PUT by id.
    conflicts = [r for r in lrs.posts() if r.status == 409]
    assert len(conflicts) == 1
    puts = [r for r in lrs.requests if r.method == "PUT"]
    assert [r.query["statementId"] for r in puts] == conflicts[0].statement_ids
    assert {r.status for r in puts} == {409}
    already = [r for r in caplog.records if "already had statement" in r.getMessage()]
    assert len(already) == forwarding.BATCH_SIZE
    assert all(r.levelno == logging.WARNING for r in already)


def test_a_statement_the_lrs_refuses_is_rejected_and_the_rest_arrive(
    slack, instance, clock, lrs, caplog, database, tmp_path
):
    learning_happens(slack, instance)
    statements = exported(instance)
    refused = next(s["id"] for s in statements.values() if s["verb"]["id"] == xapi.GAVE.iri)
    lrs.refuse(refused, "result.score.raw must be a number")

    with caplog.at_level(logging.ERROR, logger="bot.lrs"):
        results = jobs_at(instance, clock.advance(timedelta(minutes=1)))

    assert results["forward-to-lrs"] == (
        f"{len(statements) - 1} sent (0 already there), 1 rejected, 0 to retry"
    )
    assert_stored_exactly_once(lrs, {k: v for k, v in statements.items() if k != refused})
    [row] = [row for row in outbox(instance) if row.status == REJECTED]
    assert row.statement_id == refused
    assert "result.score.raw must be a number" in (row.last_error or "")
    [logged] = [r for r in caplog.records if refused in r.getMessage()]
    assert logged.levelno == logging.ERROR
    assert "result.score.raw must be a number" in logged.getMessage()
    status = eddy_cli("lrs", "status", cwd=tmp_path, DATABASE_URL=database)
    assert status.returncode == 0, status.stderr
    said = " ".join(status.stdout.split())
    assert f"forwarding is off: 0 waiting, {len(statements) - 1} sent" in said  # no URL here
    assert "1 rejected" in said and refused in said and "result.score.raw must be" in said

    # Nothing more is tried for it on its own...
    jobs_at(instance, clock.advance(timedelta(hours=2)))
    assert refused not in lrs.stored
    # ...until an operator asks, once the LRS takes it.
    del lrs.lrs.refusals[refused]
    again = eddy_cli("lrs", "retry", cwd=tmp_path, DATABASE_URL=database)
    assert "1 refused statement(s) queued again." in again.stdout
    jobs_at(instance, clock.advance(timedelta(minutes=1)))
    assert_stored_exactly_once(lrs, statements)


def test_retry_after_is_honoured(slack, instance, clock, lrs):
    learning_happens(slack, instance)
    statements = exported(instance)
    lrs.fail_next(429, retry_after=600)

    asked_at = clock.advance(timedelta(minutes=1))
    jobs_at(instance, asked_at)
    assert next_attempt(instance) == asked_at + timedelta(seconds=600)

    jobs_at(instance, clock.advance(timedelta(minutes=9)))
    assert len(lrs.requests) == 1  # nine minutes on, it still waits

    jobs_at(instance, clock.advance(timedelta(minutes=1)))
    assert_stored_exactly_once(lrs, statements)


def test_wrong_credentials_wait_and_say_what_to_check(slack, instance, clock, lrs, caplog):
    learning_happens(slack, instance)
    statements = exported(instance)
    lrs.accept_credentials(KEY, "a-new-secret")

    with caplog.at_level(logging.ERROR, logger="bot.lrs"):
        now = clock.advance(timedelta(minutes=1))
        jobs_at(instance, now)
    [logged] = [r for r in caplog.records if r.name == "bot.lrs"]
    assert "EDDY_LRS_USERNAME and EDDY_LRS_PASSWORD" in logged.getMessage()
    assert SECRET not in logged.getMessage()
    assert by_status(instance) == {PENDING: len(statements)}

    lrs.accept_credentials(KEY, SECRET)  # the LRS's administrator puts the key back
    jobs_at(instance, clock.advance(next_attempt(instance) - now))
    assert_stored_exactly_once(lrs, statements)


def test_forwarding_off_does_nothing(slack, tmp_path, clock):
    slack.workspace.clock = clock
    eddy = Instance(slack, f"sqlite:///{tmp_path / 'off.db'}", ROOT / "content", clock)
    slack.connect(eddy.target)
    try:
        learning_happens(slack, eddy)
        results = jobs_at(eddy, clock.advance(timedelta(minutes=1)))
        assert results == {name: "off" for name in LRS_JOBS}
        assert outbox(eddy) == []
    finally:
        eddy.close()


def test_two_instances_forward_each_statement_once(slack, content, lrs):
    """Two Eddy processes on one PostgreSQL database run the jobs at the same moment: the
    batch one of them is sending is not the other's to send."""
    database = postgres_database()
    url = next(database)
    clock = ManualClock(PINNED)
    slack.workspace.clock = clock
    first = Instance(slack, url, content, clock, **forwarding_to(lrs))
    second = Instance(slack, url, content, clock, **forwarding_to(lrs))
    try:
        slack.connect(first.target)
        learning_happens(slack, first)
        statements = exported(first)
        now = clock.advance(timedelta(minutes=1))

        held = lrs.hold_next()  # the first instance's first batch is mid-send...
        first_runs = threading.Thread(target=run_jobs, args=(first.runtime, now))
        first_runs.start()
        try:
            assert held.arrived.wait(timeout=30)
            results = jobs_at(second, now)  # ...while the second runs its jobs
        finally:
            held.release.set()
            first_runs.join(timeout=30)

        assert results["queue-lrs-statements"] == "0 queued"
        assert results["forward-to-lrs"].startswith(
            f"{len(statements) - forwarding.BATCH_SIZE} sent"
        )
        assert_stored_exactly_once(lrs, statements)
        posted = [i for post in lrs.posts() for i in post.statement_ids]
        assert sorted(posted) == sorted(statements)  # no batch was sent twice
        assert by_status(first) == {SENT: len(statements)}
    finally:
        first.close()
        second.close()
        next(database, None)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"eddy_lrs_url": "lrs.example.com/xapi"},
            "EDDY_LRS_URL is not valid: must be an http(s) URL; set it to your Learning Record "
            "Store's xAPI endpoint, such as https://lrs.example.com/xapi/, or leave it empty "
            "to send nothing (in .env or the environment).",
        ),
        (
            {"eddy_lrs_url": "https://lrs.example.com/xapi/", "eddy_lrs_username": KEY},
            "EDDY_LRS_PASSWORD is not set: EDDY_LRS_USERNAME and EDDY_LRS_PASSWORD go together, "
            "so set both to your LRS's key and secret, or leave both empty (in .env or the "
            "environment).",
        ),
        (
            {"eddy_lrs_password": SECRET},
            "EDDY_LRS_USERNAME is not set: EDDY_LRS_USERNAME and EDDY_LRS_PASSWORD go together, "
            "so set both to your LRS's key and secret, or leave both empty (in .env or the "
            "environment).",
        ),
    ],
    ids=["not a URL", "key without secret", "secret without key"],
)
def test_lrs_settings_errors_are_one_clear_sentence(overrides, message):
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None, **overrides)
    assert str(raised.value) == message
    assert SECRET not in str(raised.value)


def test_the_lrs_url_is_an_endpoint_with_or_without_its_slash():
    plain = load_settings(env_file=None, eddy_lrs_url=" https://lrs.example.com/xapi ")
    assert plain.eddy_lrs_url == "https://lrs.example.com/xapi/"
    assert plain.forwards_to_lrs
    assert not load_settings(env_file=None).forwards_to_lrs


def test_a_retry_after_date_counts_from_the_answers_own_date():
    """An HTTP-date Retry-After is read against the LRS's own `Date` header, so neither clock's
    skew matters and Eddy reads no clock for it; without that header it is not trusted."""
    answered = "Wed, 21 Oct 2026 07:28:00 GMT"
    assert forwarding.retry_after("Wed, 21 Oct 2026 07:30:00 GMT", answered) == timedelta(minutes=2)
    assert forwarding.retry_after("Wed, 21 Oct 2026 07:20:00 GMT", answered) == timedelta()
    assert forwarding.retry_after("Wed, 21 Oct 2026 07:30:00 GMT", None) is None
    assert forwarding.retry_after("120") == timedelta(seconds=120)
    assert forwarding.retry_after("soon", answered) is None
    assert forwarding.retry_after("²", answered) is None  # a digit to str.isdigit(), not int()
