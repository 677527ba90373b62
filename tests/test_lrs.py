"""Forwarding learning records to an LRS, through the front door: people ask, react and learn
in the Slack stand-in; the scheduler's jobs queue the statements and send them to the LRS
stand-in (a real HTTP server) at instants the test chooses; the LRS fails, or refuses some
statements, on request; operators use `app.py lrs status` and `lrs retry`.

What is checked is what the LRS ends up with: every statement Eddy exports for the period,
exactly once, whatever the LRS did meanwhile, except those it refused, which are set aside
with its reasons and never block the others; and how often a failing LRS is asked.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot import lrs as forwarding
from bot import xapi
from bot.clock import ManualClock
from bot.scheduler import JOBS, JobRun, run_job, run_jobs
from bot.settings import SettingsError, load_settings
from sandbox import SlackStandIn
from sandbox.lrs import LrsRequest, LrsStandIn
from store import lrs as store_lrs
from store.lrs import PENDING, REJECTED, SENT, LrsBackoff, LrsOutbox
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
def lrs(clock) -> Iterator[LrsStandIn]:
    with LrsStandIn(username=KEY, password=SECRET, clock=clock) as stand_in:
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


def backoff(instance: Instance) -> LrsBackoff | None:
    """The LRS's backoff, as every instance sees it (None: it answered the last attempt)."""
    endpoint = forwarding.endpoint_of(instance.runtime.settings.eddy_lrs_url)
    with instance.runtime.store.session() as session:
        return store_lrs.backoff(session, endpoint=endpoint)


def next_try(instance: Instance) -> datetime:
    """When the failing LRS is tried next."""
    state = backoff(instance)
    assert state is not None, "the LRS is not failing"
    return state.next_try_at


def status(instance: Instance) -> dict:
    return forwarding.status(instance.runtime.store, instance.runtime.settings)


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

    found = status(instance)
    assert (found["pending"], found["sent"], found["rejected"]) == (0, len(now_exported), 0)
    assert found["backoff"] is None
    assert found["rejected_statements"] == []


def test_turned_on_later_it_sends_the_history_from_the_first_event(slack, instance, clock, lrs):
    learning_happens(slack, instance, rounds=1)
    clock.advance(timedelta(days=3))
    slack.command(KIM, GENERAL, f"/ask {QUESTIONS[0]}")
    statements = exported(instance)

    now = clock.advance(timedelta(minutes=1))
    jobs_at(instance, now)

    assert_stored_exactly_once(lrs, statements)
    queued_until = status(instance)["queued_until"]
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
    waits = [next_try(instance) - now]
    for _ in range(2):
        now = clock.advance(waits[-1])
        jobs_at(instance, now)
        waits.append(next_try(instance) - now)
    assert waits[0] <= timedelta(seconds=30) < waits[1] <= timedelta(minutes=1) < waits[2]
    # While it waits, nobody asks the LRS: one request per attempt, not one per batch.
    jobs_at(instance, clock.advance(waits[-1] / 2))
    assert len(lrs.posts()) == 3

    # Then it is down altogether: connections are refused.
    lrs.go_down()
    now = clock.advance(waits[-1])
    results = jobs_at(instance, now)
    assert results["forward-to-lrs"].endswith(f"{len(statements)} to retry")
    waits.append(next_try(instance) - now)
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
    assert backoff(instance) is None  # its first answer ends the waiting


def test_backoff_is_capped_at_an_hour(slack, instance, clock, lrs):
    learning_happens(slack, instance)
    lrs.go_down()
    now = clock.advance(timedelta(minutes=1))
    jobs_at(instance, now)
    for _ in range(9):
        now = clock.advance(next_try(instance) - now)
        jobs_at(instance, now)
    wait = next_try(instance) - now
    assert forwarding.LONGEST_WAIT * 0.8 <= wait <= forwarding.LONGEST_WAIT
    state = backoff(instance)
    assert state is not None and state.failures == 10
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

    with caplog.at_level(logging.INFO, logger="bot.lrs"):
        results = jobs_at(instance, clock.advance(next_try(instance) - now))

    assert_stored_exactly_once(lrs, statements)
    assert by_status(instance) == {SENT: len(statements)}
    assert results["forward-to-lrs"] == (
        f"{len(statements)} sent ({forwarding.BATCH_SIZE} already there), 0 rejected, 0 to retry"
    )
    # The batch the LRS had answered 409; each of its statements was then PUT by id, and each
    # 409 made Eddy read what the LRS holds under that id: the same statement, as the LRS
    # writes it (stored, authority and version added, the timestamp in its own form).
    conflicts = [r for r in lrs.posts() if r.status == 409]
    assert len(conflicts) == 1
    puts = [r for r in lrs.requests if r.method == "PUT"]
    assert [r.query["statementId"] for r in puts] == conflicts[0].statement_ids
    assert {r.status for r in puts} == {409}
    gets = [r for r in lrs.requests if r.method == "GET"]
    assert [r.query["statementId"] for r in gets] == conflicts[0].statement_ids
    assert {r.status for r in gets} == {200}
    already = [r for r in caplog.records if "already had statement" in r.getMessage()]
    assert len(already) == forwarding.BATCH_SIZE
    assert all(r.levelno == logging.INFO for r in already)


def requests_holding(lrs: LrsStandIn, statement_id: str) -> list[LrsRequest]:
    return [r for r in lrs.requests if statement_id in r.statement_ids]


@pytest.mark.parametrize("refused_with", [422, 400, 413, 418])
def test_a_statement_the_lrs_refuses_is_set_aside_and_the_others_go_on(
    slack, instance, clock, lrs, caplog, refused_with
):
    """Ralph answers 422 for a statement its model rejects; other LRSs 400, or 413 for one too
    big; any client error that is not about the credentials, the address or the moment is
    about a statement. The batch is sent again one statement at a time to find which."""
    learning_happens(slack, instance)
    statements = exported(instance)
    refused = next(s for s in statements.values() if s["verb"]["id"] == xapi.GAVE.iri)
    lrs.refuse(refused["id"], "result.score.raw must be a number", status=refused_with)

    with caplog.at_level(logging.INFO, logger="bot.lrs"):
        results = jobs_at(instance, clock.advance(timedelta(minutes=1)))

    assert results["forward-to-lrs"] == (
        f"{len(statements) - 1} sent (0 already there), 1 rejected, 0 to retry"
    )
    assert_stored_exactly_once(lrs, {k: v for k, v in statements.items() if k != refused["id"]})
    [row] = [row for row in outbox(instance) if row.status == REJECTED]
    assert row.statement_id == refused["id"]
    reason = row.last_error or ""
    assert reason.startswith(f"HTTP {refused_with}: ") and reason.endswith(
        "result.score.raw must be a number"
    )
    assert refused["actor"]["account"]["name"] not in reason  # Ralph quotes the statement back
    assert backoff(instance) is None  # the LRS answered: nothing waits for it
    # One error, naming the statement, its verb and the LRS's reason; not the address.
    [logged] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged.levelno == logging.ERROR
    assert refused["id"] in logged.getMessage()
    assert xapi.GAVE.iri in logged.getMessage()
    assert reason in logged.getMessage()
    assert not any("EDDY_LRS_URL" in r.getMessage() for r in caplog.records)

    # Nothing more is tried for it on its own, while the rest keeps flowing.
    tried = len(requests_holding(lrs, refused["id"]))
    slack.command(KIM, GENERAL, f"/ask {QUESTIONS[1]}")
    instance.runtime.work.wait_idle()
    jobs_at(instance, clock.advance(timedelta(hours=2)))
    assert len(requests_holding(lrs, refused["id"])) == tried
    assert_stored_exactly_once(
        lrs, {k: v for k, v in exported(instance).items() if k != refused["id"]}
    )


def test_a_statement_the_lrs_finds_invalid_by_itself_is_refused_as_ralph_would(
    slack, instance, clock, lrs, caplog
):
    """The stand-in's own checks answer as Ralph does (422 and FastAPI's `detail`), and its
    reason reads as the field and the message."""
    learning_happens(slack, instance, rounds=1)
    statements = exported(instance)
    now = clock.advance(timedelta(minutes=1))
    broken = {k: v for k, v in next(iter(statements.values())).items() if k != "verb"}
    broken["id"] = str(uuid.uuid5(xapi.NAMESPACE, "a statement with no verb"))
    forwarding.queue(instance.runtime.store, instance.runtime.team_id, [broken], now)

    with caplog.at_level(logging.ERROR, logger="bot.lrs"):
        results = jobs_at(instance, now)

    assert (
        results["forward-to-lrs"]
        == f"{len(statements)} sent (0 already there), 1 rejected, 0 to retry"
    )
    assert_stored_exactly_once(lrs, statements)
    assert {r.status for r in lrs.posts()} == {422}
    [row] = [row for row in outbox(instance) if row.status == REJECTED]
    assert (row.statement_id, row.last_error) == (broken["id"], "HTTP 422: verb: Field required")
    [logged] = [r for r in caplog.records if r.name == "bot.lrs"]
    assert broken["id"] in logged.getMessage() and "(no verb)" in logged.getMessage()


@pytest.mark.parametrize("held", ["the same", "different", "unreadable"])
def test_an_id_the_lrs_knows_is_sent_only_if_it_holds_the_same_statement(
    slack, instance, clock, lrs, caplog, held
):
    """An LRS answers 409 for an id it has (batch or PUT): Eddy reads what it holds under that
    id and compares, ignoring what an LRS adds or writes its own way. The same → sent; a
    different statement, or one it cannot read, is an error an operator sees."""
    learning_happens(slack, instance)
    statements = exported(instance)
    ours = next(s for s in statements.values() if s["verb"]["id"] == xapi.ASKED.iri)
    if held == "different":
        lrs.holds({**ours, "object": {**ours["object"], "id": ours["object"]["id"] + "-other"}})
    else:
        lrs.holds(json.loads(json.dumps(ours)))
    if held == "unreadable":
        lrs.forbid_reads()  # Eddy's key may write statements, not read them

    with caplog.at_level(logging.INFO, logger="bot.lrs"):
        results = jobs_at(instance, clock.advance(timedelta(minutes=1)))

    gets = [r for r in lrs.requests if r.method == "GET"]
    assert [(r.query["statementId"], r.status) for r in gets] == [
        (ours["id"], 403 if held == "unreadable" else 200)
    ]
    [row] = [row for row in outbox(instance) if row.statement_id == ours["id"]]
    logged = [r for r in caplog.records if ours["id"] in r.getMessage()]
    if held == "the same":
        assert results["forward-to-lrs"] == (
            f"{len(statements)} sent (1 already there), 0 rejected, 0 to retry"
        )
        assert row.status == SENT
        assert [r.levelno for r in logged] == [logging.INFO]
        assert_stored_exactly_once(lrs, statements)
        return
    assert results["forward-to-lrs"] == (
        f"{len(statements) - 1} sent (0 already there), 1 rejected, 0 to retry"
    )
    assert row.status == REJECTED
    if held == "different":
        assert row.last_error == (
            "the LRS already holds a different statement under this id (they differ at object.id)"
        )
    else:
        assert row.last_error == (
            "the LRS already holds a statement under this id, and Eddy could not compare it "
            "with its own (HTTP 403: this key may not read statements)"
        )
    [error] = logged
    assert error.levelno == logging.ERROR and row.last_error in error.getMessage()
    others = {k: v for k, v in statements.items() if k != ours["id"]}
    assert {k: v for k, v in lrs.stored.items() if k != ours["id"]} == others
    assert ours["id"] not in lrs.received_ids  # Eddy never had it stored


def test_statements_compare_as_an_lrs_may_write_them():
    """What an LRS adds or writes its own way is no difference; the rest is."""
    ours = {
        "id": "0b0e5e36-5d1e-5a6f-9c1b-8f5a3c2a1d00",
        "actor": {"account": {"homePage": "https://acme.slack.com/", "name": "U1"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/asked", "display": {"en-US": "asked"}},
        "object": {"id": "https://acme.slack.com/eddy/questions/1"},
        "result": {"success": True, "score": {"raw": 1}},
        "context": {
            "registration": "5d9a1d9e-0b53-5b2c-a3a5-0c0c7e7b1a11",
            "contextActivities": {"parent": {"id": "https://acme.slack.com/eddy/paths/p"}},
        },
        "timestamp": "2026-03-04T10:00:00.123+00:00",
    }
    written_its_own_way = {
        "version": "1.0.0",
        "stored": "2026-03-04T10:00:01Z",
        "authority": {"objectType": "Agent", "mbox": "mailto:lrs@example.com"},
        "timestamp": "2026-03-04T11:00:00.123456+01:00",
        "context": {
            "contextActivities": {
                "parent": [{"objectType": "Activity", "id": "https://acme.slack.com/eddy/paths/p"}]
            },
            "registration": "5D9A1D9E-0B53-5B2C-A3A5-0C0C7E7B1A11",
        },
        "result": {"score": {"raw": 1.0}, "success": True},
        "object": {"objectType": "Activity", "id": "https://acme.slack.com/eddy/questions/1"},
        "verb": {"display": {"en-US": "asked"}, "id": "http://adlnet.gov/expapi/verbs/asked"},
        "actor": {
            "objectType": "Agent",
            "account": {"name": "U1", "homePage": "https://acme.slack.com/"},
        },
        "id": "0B0E5E36-5D1E-5A6F-9C1B-8F5A3C2A1D00",
    }
    assert forwarding.difference(ours, written_its_own_way) is None
    later = {**written_its_own_way, "timestamp": "2026-03-04T10:00:00.124Z"}
    assert forwarding.difference(ours, later) == "timestamp"
    not_true = {**written_its_own_way, "result": {"score": {"raw": 1}, "success": 1}}
    assert forwarding.difference(ours, not_true) == "result.success"
    someone_else = json.loads(json.dumps(written_its_own_way))
    someone_else["actor"]["account"]["name"] = "U2"
    assert forwarding.difference(ours, someone_else) == "actor.account.name"
    more = {**written_its_own_way, "attachments": []}
    assert forwarding.difference(ours, more) == "attachments"


def test_a_down_lrs_is_asked_less_and_less_often_while_events_keep_coming(
    slack, instance, clock, lrs
):
    """The LRS answers 503 for two hours while someone asks a question every 10 seconds, and
    the jobs run as the scheduler runs them (queueing every minute, forwarding every 30
    seconds). New statements wait with the others: the LRS is asked a handful of times, each
    wait twice the last (up to an hour), not every 30 seconds."""
    lrs.fail_next(503, times=10_000)
    jobs = {job.name: job for job in JOBS}
    people = (KIM, SAM, RIO)
    asked_at: list[datetime] = []
    for tick in range(1, 2 * 360 + 1):  # ten-second ticks
        now = clock.advance(timedelta(seconds=10))
        slack.command(people[tick % 3], GENERAL, f"/ask {QUESTIONS[tick % len(QUESTIONS)]}")
        if tick % 6 == 0:
            assert run_job(instance.runtime, jobs["queue-lrs-statements"], now).ok
        if tick % 3 == 0:
            before = len(lrs.requests)
            assert run_job(instance.runtime, jobs["forward-to-lrs"], now).ok
            asked_at += [now] * (len(lrs.requests) - before)
    instance.runtime.work.wait_idle()

    assert 6 <= len(asked_at) <= 10, asked_at  # every 30 seconds would be 240
    gaps = [later - earlier for earlier, later in itertools.pairwise(asked_at)]
    for failures, gap in enumerate(gaps, start=1):
        doubled = min(forwarding.FIRST_WAIT * 2 ** (failures - 1), forwarding.LONGEST_WAIT)
        assert gap >= doubled * 0.8, (failures, gaps)
    state = backoff(instance)
    assert state is not None and state.failures == len(asked_at)
    assert state.last_error == "HTTP 503: fault on request"
    assert by_status(instance) == {PENDING: len(outbox(instance))}  # nothing lost, none sent
    assert lrs.stored == {}


def test_retry_after_is_honoured(slack, instance, clock, lrs):
    learning_happens(slack, instance)
    statements = exported(instance)
    lrs.fail_next(429, retry_after=600)

    asked_at = clock.advance(timedelta(minutes=1))
    jobs_at(instance, asked_at)
    assert next_try(instance) == asked_at + timedelta(seconds=600)

    jobs_at(instance, clock.advance(timedelta(minutes=9)))
    assert len(lrs.requests) == 1  # nine minutes on, it still waits

    jobs_at(instance, clock.advance(timedelta(minutes=1)))
    assert_stored_exactly_once(lrs, statements)


@pytest.mark.parametrize(
    ("answered", "advice"),
    [
        (401, "check EDDY_LRS_USERNAME and EDDY_LRS_PASSWORD"),
        (403, "check EDDY_LRS_USERNAME and EDDY_LRS_PASSWORD"),
        (404, "check EDDY_LRS_URL"),
        (405, "check EDDY_LRS_URL"),
    ],
)
def test_an_endpoint_problem_holds_everything_and_says_what_to_check(
    slack, instance, clock, lrs, caplog, answered, advice
):
    learning_happens(slack, instance)
    statements = exported(instance)
    lrs.fail_next(answered)

    with caplog.at_level(logging.INFO, logger="bot.lrs"):
        now = clock.advance(timedelta(minutes=1))
        jobs_at(instance, now)
    [logged] = [r for r in caplog.records if r.name == "bot.lrs"]
    assert logged.levelno == logging.ERROR
    assert advice in logged.getMessage()
    assert f"{len(statements)} statements wait" in logged.getMessage()
    assert SECRET not in logged.getMessage()
    assert by_status(instance) == {PENDING: len(statements)}  # none rejected

    jobs_at(instance, clock.advance(next_try(instance) - now))  # the setup was fixed
    assert_stored_exactly_once(lrs, statements)


def test_wrong_credentials_wait_until_the_lrs_takes_them_again(slack, instance, clock, lrs):
    learning_happens(slack, instance)
    statements = exported(instance)
    lrs.accept_credentials(KEY, "a-new-secret")
    now = clock.advance(timedelta(minutes=1))
    jobs_at(instance, now)
    assert by_status(instance) == {PENDING: len(statements)}

    lrs.accept_credentials(KEY, SECRET)  # the LRS's administrator puts the key back
    jobs_at(instance, clock.advance(next_try(instance) - now))
    assert_stored_exactly_once(lrs, statements)


def cli(instance: Instance, lrs: LrsStandIn, tmp_path: Path, *args: str, **env: str):
    """`app.py ARGS` as an operator runs it beside the instance: its database and LRS
    settings, on the test's clock."""
    settings = {
        "DATABASE_URL": instance.runtime.settings.database_url,
        "EDDY_LRS_URL": lrs.url,
        "EDDY_LRS_USERNAME": KEY,
        "EDDY_LRS_PASSWORD": SECRET,
        "EDDY_CLOCK": instance.runtime.clock.now().isoformat(),
    }
    return eddy_cli(*args, cwd=tmp_path, **(settings | env))


def said(done) -> str:
    return " ".join(done.stdout.split())


def test_after_the_credentials_are_fixed_lrs_retry_sends_everything_at_once(
    slack, instance, clock, lrs, tmp_path
):
    learning_happens(slack, instance)
    statements = exported(instance)
    host = f"127.0.0.1:{lrs.port}"
    lrs.accept_credentials(KEY, "a-new-secret")  # rotated at the LRS, not yet in Eddy's settings
    first = now = clock.advance(timedelta(minutes=1))
    jobs_at(instance, now)
    for _ in range(3):
        now = clock.advance(next_try(instance) - now)
        jobs_at(instance, now)
    clock.advance(timedelta(seconds=10))

    shown = cli(instance, lrs, tmp_path, "lrs", "status")
    assert shown.returncode == 0, shown.stderr
    assert f"forwarding to the LRS at {host}: {len(statements)} waiting, 0 sent" in said(shown)
    assert (
        f"the LRS failed 4 times in a row since {first.isoformat(timespec='seconds')}: next "
        f"try at {next_try(instance).isoformat(timespec='seconds')}"
    ) in said(shown)
    assert "last error: HTTP 401" in said(shown)

    # With the old secret, the LRS still refuses: one sentence says why, and nothing is lost.
    tried = cli(instance, lrs, tmp_path, "lrs", "retry")
    assert tried.returncode == 1
    assert said(tried) == (
        f"Sent 0 statements to the LRS at {host} (0 already there), 0 rejected, "
        f"{len(statements)} still waiting."
    )
    [sentence] = [line for line in tried.stderr.splitlines() if line.strip()]
    assert sentence.startswith(f"The LRS at {host} refused Eddy's credentials (HTTP 401")
    assert sentence.endswith(
        "check EDDY_LRS_USERNAME and EDDY_LRS_PASSWORD, and that the key may write statements."
    )
    assert SECRET not in tried.stderr + tried.stdout
    waited_until = next_try(instance)

    # Someone asks a question a moment later, before any queueing pass: `lrs retry` takes it
    # on too. The operator puts the new secret in Eddy's settings: everything goes at once,
    # well before the backoff's next try.
    slack.command(KIM, GENERAL, f"/ask {QUESTIONS[1]}")
    statements = exported(instance)
    fixed = cli(instance, lrs, tmp_path, "lrs", "retry", EDDY_LRS_PASSWORD="a-new-secret")
    assert fixed.returncode == 0, fixed.stderr
    assert said(fixed) == (
        "1 statement of new events queued. "
        f"Sent {len(statements)} statements to the LRS at {host} (0 already there), "
        "0 rejected, 0 still waiting."
    )
    assert clock.now() < waited_until
    assert_stored_exactly_once(lrs, statements)
    assert backoff(instance) is None
    shown = cli(instance, lrs, tmp_path, "lrs", "status")
    assert "no backoff: the LRS has not failed since it last answered" in said(shown)


def test_lrs_retry_says_in_one_sentence_why_the_lrs_still_fails(
    slack, instance, clock, lrs, tmp_path
):
    learning_happens(slack, instance, rounds=1)
    waiting = len(exported(instance))
    host = f"127.0.0.1:{lrs.port}"
    lrs.go_down()
    jobs_at(instance, clock.advance(timedelta(minutes=1)))

    down = cli(instance, lrs, tmp_path, "lrs", "retry")
    assert down.returncode == 1
    assert said(down).endswith(f"{waiting} still waiting.")
    assert down.stderr.strip().startswith(f"The LRS at {host} is unavailable (no answer")

    lrs.come_back()
    elsewhere = cli(instance, lrs, tmp_path, "lrs", "retry", EDDY_LRS_URL=lrs.url + "v2/")
    assert elsewhere.returncode == 1
    assert " ".join(elsewhere.stderr.split()).startswith(
        f"The LRS at {host} answered HTTP 404: no resource /xapi/v2/statements: check "
        "EDDY_LRS_URL, which names its xAPI endpoint (the address before /statements)."
    )

    off = cli(instance, lrs, tmp_path, "lrs", "retry", EDDY_LRS_URL="")
    assert off.returncode == 1
    assert "Forwarding is off: set EDDY_LRS_URL" in " ".join(off.stderr.split())

    assert SENT not in by_status(instance)
    done = cli(instance, lrs, tmp_path, "lrs", "retry")
    assert done.returncode == 0, done.stderr
    assert SENT in by_status(instance) and PENDING not in by_status(instance)


def test_refused_statements_stay_aside_until_lrs_retry_rejected(
    slack, instance, clock, lrs, tmp_path
):
    learning_happens(slack, instance)
    statements = exported(instance)
    refused = next(s for s in statements.values() if s["verb"]["id"] == xapi.GAVE.iri)
    lrs.refuse(refused["id"], "result.score.raw must be a number")
    jobs_at(instance, clock.advance(timedelta(minutes=1)))

    shown = cli(instance, lrs, tmp_path, "lrs", "status")
    assert f"0 waiting, {len(statements) - 1} sent (kept a week), 1 rejected" in said(shown)
    assert (
        "rejected by the LRS (1; `lrs retry --rejected` sends them again): statement "
        f"{refused['id']} ({xapi.GAVE.iri}, {refused['timestamp'][:19]}+00:00): HTTP 422: "
        "result.score.raw must be a number"
    ) in said(shown)

    # A plain retry leaves it aside: the LRS said it will not take it as it is.
    plain = cli(instance, lrs, tmp_path, "lrs", "retry")
    assert said(plain) == (
        f"Sent 0 statements to the LRS at 127.0.0.1:{lrs.port} (0 already there), "
        "0 rejected, 0 still waiting."
    )
    assert refused["id"] not in lrs.stored

    lrs.stop_refusing()  # its administrator fixed what made it refuse the statement
    again = cli(instance, lrs, tmp_path, "lrs", "retry", "--rejected")
    assert again.returncode == 0, again.stderr
    assert said(again) == (
        "1 rejected statement queued again. Sent 1 statement to the LRS at "
        f"127.0.0.1:{lrs.port} (0 already there), 0 rejected, 0 still waiting."
    )
    assert_stored_exactly_once(lrs, statements)

    helped = cli(instance, lrs, tmp_path, "lrs", "retry", "--help", COLUMNS="200")
    assert "--rejected" in said(helped) and "refused for good" in said(helped)


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
