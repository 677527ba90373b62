"""The store on SQLite and on PostgreSQL: migrations, workspace scoping, idempotent claims."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.events import forget_old_events, is_first_delivery
from bot.runtime import Runtime
from store import lrs
from store.base import DEPLOYMENT_TABLES, metadata
from store.db import Store, alembic_config
from store.events import ProcessedEvent, claim_event
from tests.conftest import make_settings

NOON = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def upgraded(url: str) -> Store:
    store = Store.connect(url)
    store.upgrade()
    return store


def test_migrations_build_exactly_the_tables_the_code_declares(database_url):
    store = upgraded(database_url)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    store.close()
    assert differences == []


def test_every_table_belongs_to_a_workspace(database_url):
    store = upgraded(database_url)
    inspector = inspect(store.engine)
    tables = [t for t in inspector.get_table_names() if t != "alembic_version"]
    store.close()
    assert tables
    for table in tables:
        if table in DEPLOYMENT_TABLES:
            continue
        columns = {
            c["name"]: c for c in inspect(Store.connect(database_url).engine).get_columns(table)
        }
        assert "team_id" in columns, table
        assert columns["team_id"]["nullable"] is False, table


def test_upgrading_again_changes_nothing(database_url):
    upgraded(database_url).close()
    store = upgraded(database_url)
    with store.engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    head = ScriptDirectory.from_config(alembic_config(store.url)).get_current_head()
    store.close()
    assert version == head


def test_instances_starting_together_migrate_once(database_url):
    stores = [Store.connect(database_url) for _ in range(3)]
    errors: list[BaseException] = []

    def start(store: Store) -> None:
        try:
            store.upgrade()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []


def test_an_event_is_claimed_once_per_workspace(database_url):
    store = upgraded(database_url)
    with store.session() as session:
        first = claim_event(session, team_id="T1", event_id="Ev1", event_type="x", received_at=NOON)
        again = claim_event(session, team_id="T1", event_id="Ev1", event_type="x", received_at=NOON)
        other = claim_event(session, team_id="T2", event_id="Ev1", event_type="x", received_at=NOON)
    store.close()
    assert (first, again, other) == (True, False, True)


def test_concurrent_claims_of_one_event_have_one_winner(database_url):
    store = upgraded(database_url)
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        with store.session() as session:
            results.append(
                claim_event(
                    session, team_id="T1", event_id="EvRACE", event_type="x", received_at=NOON
                )
            )

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert sorted(results) == [False] * 7 + [True]


def test_a_failing_lrs_is_tried_by_one_instance_at_a_time_and_fails_once_per_round(
    database_url,
):
    """The LRS's backoff is shared: instances that fail in the same round count one failure,
    and when the wait is over one of eight instances asking at once gets the turn."""
    store = upgraded(database_url)
    endpoint = "https://lrs.example.com/xapi/"

    def wait(failures: int) -> timedelta:
        return timedelta(seconds=30 * 2 ** (failures - 1))

    for _ in range(2):  # two instances that sent while the LRS looked fine
        with store.session() as session:
            lrs.record_failure(session, endpoint=endpoint, now=NOON, error="HTTP 503", wait=wait)
    with store.session() as session:
        state = lrs.backoff(session, endpoint=endpoint)
        assert state is not None
        assert (state.failures, state.next_try_at) == (1, NOON + timedelta(seconds=30))
        assert not lrs.take_turn(
            session, endpoint=endpoint, now=NOON, lease_until=NOON + timedelta(minutes=5)
        )

    later = NOON + timedelta(seconds=30)
    turns: list[bool] = []
    barrier = threading.Barrier(8)

    def take() -> None:
        barrier.wait()
        with store.session() as session:
            turns.append(
                lrs.take_turn(
                    session, endpoint=endpoint, now=later, lease_until=later + timedelta(minutes=5)
                )
            )

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(turns) == [False] * 7 + [True]

    with store.session() as session:  # the one that tried failed again: the wait doubles
        state = lrs.record_failure(session, endpoint=endpoint, now=later, error="none", wait=wait)
        assert (state.failures, state.next_try_at) == (2, later + timedelta(minutes=1))
        lrs.record_success(session, endpoint=endpoint)
    with store.session() as session:
        assert lrs.backoff(session, endpoint=endpoint) is None
    store.close()


def test_timestamps_come_back_as_aware_utc(database_url):
    store = upgraded(database_url)
    berlin_evening = datetime(2026, 11, 22, 19, 30, tzinfo=UTC) + timedelta(hours=0)
    with store.session() as session:
        claim_event(
            session, team_id="T1", event_id="Ev2", event_type="x", received_at=berlin_evening
        )
    with store.session() as session:
        row = session.get(ProcessedEvent, ("T1", "Ev2"))
    store.close()
    assert row is not None
    assert row.received_at == berlin_evening
    assert row.received_at.tzinfo is not None


def test_housekeeping_forgets_only_old_deliveries(database_url, slack):
    store = upgraded(database_url)
    runtime = Runtime(settings=make_settings(slack, database_url), store=store)
    is_first_delivery(runtime, team_id="T1", event_id="EvOld", event_type="x")
    forgotten_now = forget_old_events(runtime, runtime.clock.now())
    forgotten_later = forget_old_events(runtime, runtime.clock.now() + timedelta(days=2))
    again = is_first_delivery(runtime, team_id="T1", event_id="EvOld", event_type="x")
    runtime.close()
    assert (forgotten_now, forgotten_later, again) == (0, 1, True)


def test_the_app_handles_a_retried_event_once_on_either_database(database_url, slack):
    from bot.runtime import open_runtime
    from handlers import create_app
    from sandbox import BoltTarget
    from tests.conftest import ALEX, EDDY, GENERAL

    runtime = open_runtime(make_settings(slack, database_url))
    slack.connect(BoltTarget(create_app(runtime), runtime.work))
    event = {
        "type": "app_mention",
        "user": ALEX,
        "text": f"<@{EDDY}> hi?",
        "ts": slack.workspace.next_ts(),
        "channel": GENERAL,
    }
    slack.event(event, event_id="EvPG1")
    slack.event(event, event_id="EvPG1", retry_num=1)
    runtime.close()
    assert len(slack.calls("chat.postMessage")) == 1


def save_vpn(session, title: str = "Reset your VPN password") -> None:
    from store.knowledge import save_entry

    save_entry(
        session,
        team_id="T1",
        slug="reset-vpn-password",
        title=title,
        body="Open the portal.",
        questions=["vpn expired"],
        tags=["it"],
        topic=None,
        owner=None,
        reviewed=None,
        source="file",
        path="knowledge/it/vpn.md",
        at=NOON,
    )


def test_an_entry_is_replaced_but_keeps_its_feedback_counts(database_url):
    from store.knowledge import KnowledgeEntryRow, count_feedback

    store = upgraded(database_url)
    with store.session() as session:
        save_vpn(session)
    with store.session() as session:
        count_feedback(session, team_id="T1", slug="reset-vpn-password", helpful=True, at=NOON)
        count_feedback(session, team_id="T1", slug="reset-vpn-password", helpful=False, at=NOON)
    with store.session() as session:
        save_vpn(session, title="Reset the VPN password")
    with store.session() as session:
        row = session.get(KnowledgeEntryRow, ("T1", "reset-vpn-password"))
    store.close()
    assert row.title == "Reset the VPN password"
    assert row.questions == ["vpn expired"]
    assert (row.helpful_count, row.not_helpful_count, row.flagged_at) == (1, 1, NOON)


def test_entries_saved_after_listing_them_are_added_or_replaced_once(database_url):
    """After `entries` (the content sync), a new slug is added without a look-up; saving it
    again, or an entry listed, in the same unit of work replaces it and keeps its counts."""
    from store.knowledge import count_feedback, delete_entry, entries, entry

    store = upgraded(database_url)
    with store.session() as session:
        save_vpn(session)
        count_feedback(session, team_id="T1", slug="reset-vpn-password", helpful=True, at=NOON)
    with store.session() as session:
        assert [row.slug for row in entries(session, team_id="T1")] == ["reset-vpn-password"]
        save_vpn(session, title="Reset the VPN password")
        for title in ("Book a room", "Book a meeting room"):
            save_titled(session, "book-a-room", title)
        save_titled(session, "gone", "Gone")
        delete_entry(session, team_id="T1", slug="gone")
        save_titled(session, "gone", "Back again")
    with store.session() as session:
        found = {row.slug: row for row in entries(session, team_id="T1")}
        vpn = entry(session, team_id="T1", slug="reset-vpn-password")
    store.close()
    assert {slug: row.title for slug, row in found.items()} == {
        "reset-vpn-password": "Reset the VPN password",
        "book-a-room": "Book a meeting room",
        "gone": "Back again",
    }
    assert vpn is not None and vpn.helpful_count == 1


def save_titled(session, slug: str, title: str) -> None:
    from store.knowledge import save_entry

    save_entry(
        session,
        team_id="T1",
        slug=slug,
        title=title,
        body="Body.",
        questions=[],
        tags=[],
        topic=None,
        owner=None,
        reviewed=None,
        source="file",
        path=None,
        at=NOON,
    )


def test_a_wording_is_learned_once_even_when_two_learn_it_at_once(database_url):
    from store.knowledge import learn_question, learned_questions

    store = upgraded(database_url)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def learn() -> None:
        barrier.wait()
        with store.session() as session:
            results.append(
                learn_question(
                    session, team_id="T1", slug="vpn", wording="vpn broke", user_id="U1", at=NOON
                )
            )

    threads = [threading.Thread(target=learn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.session() as session:
        learn_question(
            session, team_id="T1", slug="vpn", wording="vpn is down", user_id="U2", at=NOON
        )
        first = learned_questions(session, team_id="T1")
    store.close()
    assert sorted(results) == [False, False, False, True]
    assert [q.wording for q in first] == ["vpn broke", "vpn is down"]


def test_questions_are_logged_with_their_hits(database_url):
    from store.knowledge import log_question, question

    store = upgraded(database_url)
    with store.session() as session:
        ids = [
            log_question(
                session,
                team_id="T1",
                asked_at=NOON,
                user_id="U1",
                channel_id=None,
                surface="command",
                question=text,
                hits=[{"slug": "vpn", "score": 0.91}],
                answered_slug="vpn",
            )
            for text in ("vpn?", "wifi?")
        ]
    with store.session() as session:
        logged = question(session, team_id="T1", question_id=ids[1])
        elsewhere = question(session, team_id="T2", question_id=ids[1])
    store.close()
    assert ids[1] > ids[0]
    assert logged.question == "wifi?" and logged.hits == [{"slug": "vpn", "score": 0.91}]
    assert (logged.confident, logged.outcome) == (True, "answered")
    assert elsewhere is None


def test_sqlite_runs_in_wal_mode_so_readers_never_wait_for_the_writer(tmp_path):
    store = upgraded(f"sqlite:///{tmp_path / 'eddy.db'}")
    with store.engine.connect() as connection:
        mode = connection.execute(text("PRAGMA journal_mode")).scalar()
    store.close()
    assert mode == "wal"
