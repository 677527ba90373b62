"""Learning records a Learning Record Store can trust, through the front door: people learn in
the Slack stand-in, Eddy records the statements in its ledger, and what an export (or the
LRS forwarder) would send is checked.

- Ids are unique across databases: a restored backup, or a new database for the same
  workspace, makes new events under new ids, never under the ids of events an LRS holds.
- An upgrade keeps the ids of statements made before the ledger existed.
- A statement never changes once made: content edited afterwards (in files or in Slack)
  leaves it as it was, and names the things the way they were when it happened.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
import yaml
from alembic import command
from sqlalchemy import select, text

from bot import privacy, xapi
from bot.scheduler import run_jobs
from sandbox import SlackStandIn
from sandbox.lrs import LrsStandIn
from store import xapi as records
from store.db import Store, alembic_config
from store.lrs import LrsOutbox
from tests.conftest import ALEX, GENERAL, IT_HELP, KIM, RIO, SAM, Instance
from tests.test_ask import shown
from tests.test_home import open_tab, seen
from tests.test_xapi import (
    CONFIDENT,
    KINDS,
    UNKNOWN,
    everything_happens,
    kind,
    parking_and_one_step,
)


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return parking_and_one_step(tmp_path)


EVERYTHING = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
CHECK = "white_check_mark"


def recorded(eddy: Instance) -> list[dict]:
    """Every statement in the ledger, events not recorded yet recorded first."""
    store, team_id = eddy.runtime.store, eddy.runtime.team_id
    assert xapi.record(store, team_id, eddy.runtime.clock.now()) is not None
    return xapi.statements_in(store, team_id, EVERYTHING)


def ids_of(statements: list[dict]) -> set[str]:
    """Statement ids, registrations and question IRIs: everything that must be unique."""
    found = {s["id"] for s in statements}
    found |= {
        s["context"]["registration"] for s in statements if "registration" in s.get("context", {})
    }
    found |= {
        s["object"]["id"] for s in statements if "/eddy/questions/" in s["object"].get("id", "")
    }
    return found


class Eddies:
    """Eddy processes started one after another against the same Slack workspace, each on
    the database it is given."""

    def __init__(self, slack: SlackStandIn, content: Path, clock, folder: Path) -> None:
        self.slack, self.content, self.clock, self.folder = slack, content, clock, folder
        self.running: Instance | None = None

    def url(self, name: str) -> str:
        return f"sqlite:///{self.folder / name}"

    def start(self, name: str) -> Instance:
        self.stop()
        self.slack.workspace.clock = self.clock
        self.running = Instance(self.slack, self.url(name), self.content, self.clock)
        self.slack.connect(self.running.target)
        return self.running

    def stop(self) -> None:
        if self.running is not None:
            self.running.close()
            self.running = None


@pytest.fixture
def eddies(slack, content, clock, tmp_path) -> Iterator[Eddies]:
    started = Eddies(slack, content, clock, tmp_path)
    yield started
    started.stop()


def a_morning(slack: SlackStandIn, eddy: Instance, clock, mark: str) -> None:
    """A question, recognition given, and a person starting a path (a lesson arrives): Rio
    on the first morning, Sam on the second."""
    clock.advance(timedelta(minutes=5))
    slack.command(KIM, GENERAL, f"/ask {CONFIDENT} ({mark})")
    tip = slack.say(SAM, GENERAL, f"Tip {mark}: pin the runbook.")
    slack.react(ALEX, tip, CHECK)
    slack.command(RIO if mark == "one" else SAM, GENERAL, "/learn start one step")
    eddy.runtime.work.wait_idle()


def backup(source: str, target: str) -> None:
    """What an operator's backup does: SQLite's online backup of the whole database."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)


def test_a_restored_backup_or_a_new_database_never_reuses_an_id(slack, eddies, clock, tmp_path):
    first = eddies.start("eddy.db")
    a_morning(slack, first, clock, "one")
    before_backup = recorded(first)
    eddies.stop()
    backup(str(tmp_path / "eddy.db"), str(tmp_path / "backup.db"))

    # The next morning happens, and the LRS gets its statements...
    again = eddies.start("eddy.db")
    a_morning(slack, again, clock, "two")
    after_backup = [s for s in recorded(again) if s["id"] not in ids_of(before_backup)]
    assert {kind(s) for s in after_backup} >= {"asked", "gave", "experienced"}
    # ...and recording again, on any instance, changes nothing.
    assert recorded(again) == before_backup + after_backup

    # Then the database is lost and the backup restored: the same things happen again, to
    # the same row numbers, but they are new events.
    restored = eddies.start("backup.db")
    assert recorded(restored) == before_backup
    a_morning(slack, restored, clock, "two")
    redone = [s for s in recorded(restored) if s not in before_backup]
    assert len(redone) == len(after_backup)
    assert ids_of(redone).isdisjoint(ids_of(after_backup))

    # A second database for the same workspace (a move to PostgreSQL, a second install).
    fresh = eddies.start("fresh.db")
    a_morning(slack, fresh, clock, "one")
    assert ids_of(recorded(fresh)).isdisjoint(ids_of(before_backup + after_backup + redone))


def legacy_id(team_id: str, event: str) -> str:
    """How statement ids were made before the ledger: from the workspace and the row."""
    return str(uuid5(uuid5(NAMESPACE_URL, "eddy:xapi"), f"{team_id}/{event}"))


def test_an_upgrade_keeps_the_ids_statements_were_sent_with(slack, eddies, clock, tmp_path):
    """A database from before the ledger (migrated down to revision 0008, which drops it)
    upgrades, and its events keep the ids they had; events after the upgrade get new ones."""
    eddy = eddies.start("eddy.db")
    a_morning(slack, eddy, clock, "one")
    team_id = eddy.runtime.team_id
    eddies.stop()
    store = Store.connect(eddies.url("eddy.db"))
    with store.engine.begin() as connection:
        config = alembic_config(store.url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    with store.session() as session:
        asked_ids = session.execute(text("SELECT id FROM question_log")).scalars().all()
        given_ids = (
            session.execute(text("SELECT id FROM point_ledger WHERE points > 0")).scalars().all()
        )
    store.close()

    upgraded = eddies.start("eddy.db")  # migrates to the head again
    statements = recorded(upgraded)
    old_ids = {legacy_id(team_id, f"asked/{n}") for n in asked_ids}
    old_ids |= {legacy_id(team_id, f"recognition/{n}") for n in given_ids}
    assert old_ids <= {s["id"] for s in statements}
    question = next(s for s in statements if kind(s) == "asked")
    assert question["context"]["registration"] == str(
        uuid5(uuid5(NAMESPACE_URL, "eddy:xapi"), f"{team_id}/question/{min(asked_ids)}")
    )
    assert question["object"]["id"].endswith(f"/eddy/questions/{min(asked_ids)}")

    a_morning(slack, upgraded, clock, "two")
    new = [s for s in recorded(upgraded) if s not in statements]
    assert new
    for statement in new:
        assert UUID(statement["id"]).version == 4


def test_a_statement_names_things_as_they_were_and_never_changes(slack, instance, clock, content):
    everything_happens(slack, instance, clock)
    # Sam asks about parking: the entry Kim's answer became.
    slack.command(SAM, GENERAL, "/ask parking permit for the office garage")
    answer = slack.ephemerals(SAM)[-1]
    assert "Get a parking permit for the office garage" in shown(answer)

    # Before the next recording pass, content is edited: the entry, the topic and the path
    # are renamed in their files...
    entry = content / "knowledge" / "it" / "reset-vpn-password.md"
    entry.write_text(
        entry.read_text().replace("title: Reset your VPN password", "title: VPN access")
    )
    networks = yaml.safe_load((content / "networks.yml").read_text())
    next(t for t in networks["topics"] if t["key"] == "it-help")["name"] = "Workplace technology"
    (content / "networks.yml").write_text(yaml.safe_dump(networks))
    path = yaml.safe_load((content / "lessons" / "one-step.yml").read_text())
    path["title"] = "First steps"
    path["lessons"][0]["title"] = "Pinning"
    path["lessons"][0]["quiz"]["question"] = "Which messages belong pinned?"
    (content / "lessons" / "one-step.yml").write_text(yaml.safe_dump(path))
    clock.advance(timedelta(minutes=1))
    run_jobs(instance.runtime, clock.now())
    # ...and the parking entry is edited in Slack, from the review queue.
    slack.press(SAM, answer, "Not helpful")
    slack.press(ALEX, open_tab(slack, ALEX, "Review queue (1)"), "Edit")
    slack.submit(ALEX, {"entry_title": "Garage parking"})
    assert "answers questions now" in seen(slack.home(ALEX))

    # Every statement names things as they were when it happened...
    made = recorded(instance)
    names = {
        s["object"]["definition"]["name"]["en-US"] for s in made if "definition" in s["object"]
    }
    assert {"The only lesson", "What do you pin?", "One step"} <= names
    assert "Get a parking permit for the office garage" in names
    assert not {"Pinning", "Which messages belong pinned?", "First steps", "Garage parking"} & names
    offered = {
        s["actor"]["account"]["name"]: s["context"]["contextActivities"]["other"][0]
        for s in made
        if kind(s) == "asked" and s["result"]["success"]
    }
    assert offered[KIM]["definition"]["name"]["en-US"] == "Reset your VPN password"
    parking = offered[SAM]["definition"]["name"]["en-US"]
    assert parking == "Get a parking permit for the office garage"
    topics = {
        group["definition"]["name"]["en-US"]
        for s in made
        for group in s.get("context", {}).get("contextActivities", {}).get("grouping", [])
        if "/eddy/topics/" in group["id"]
    }
    assert topics == {"IT help"}

    # ...and stays as it was made: recorded and exported again, it is the same.
    clock.advance(timedelta(hours=2))
    assert recorded(instance) == made

    # What happens after the edits is named as things are now.
    slack.command(KIM, GENERAL, f"/ask {CONFIDENT}")
    instance.runtime.work.wait_idle()
    [later] = [s for s in recorded(instance) if s not in made]
    [now_offered] = later["context"]["contextActivities"]["other"]
    assert now_offered["definition"]["name"]["en-US"] == "VPN access"


def test_recording_again_makes_nothing_twice(slack, instance, clock):
    """Each pass reads the last hour again (a row can commit late): the routed question's
    life is recorded once however often, and on whichever instance, the ledger is read."""
    slack.command(SAM, GENERAL, f"/ask {UNKNOWN}")
    slack.press(SAM, slack.ephemerals(SAM)[-1], "Ask the experts")
    slack.submit(SAM, {"experts_topic": "it-help"})
    post = next(m for m in slack.messages(IT_HELP) if "A question for the" in m.text)
    slack.say(KIM, IT_HELP, "The blue form.", thread_ts=post.ts)
    instance.runtime.work.wait_idle()
    first = recorded(instance)
    for _ in range(4):
        clock.advance(timedelta(minutes=20))
        run_jobs(instance.runtime, clock.now())
        assert recorded(instance) == first
    assert sorted(kind(s) for s in first) == ["answered question", "asked", "earned"]


@pytest.fixture
def lrs() -> Iterator[LrsStandIn]:
    with LrsStandIn(username="eddy-key", password="eddy-secret") as stand_in:
        yield stand_in


@pytest.fixture
def forwarding(slack, database, content, clock, lrs) -> Iterator[Instance]:
    """Eddy forwarding its statements to the LRS stand-in."""
    slack.workspace.clock = clock
    eddy = Instance(
        slack,
        database,
        content,
        clock,
        eddy_lrs_url=lrs.url,
        eddy_lrs_username="eddy-key",
        eddy_lrs_password="eddy-secret",
    )
    slack.connect(eddy.target)
    yield eddy
    eddy.close()


def naming(statements: Iterable[dict], user_id: str) -> list[dict]:
    """The statements whose JSON holds the user ID anywhere."""
    return [s for s in statements if user_id in json.dumps(s)]


@pytest.mark.parametrize("person", [SAM, KIM])
def test_a_forgotten_person_is_in_no_statement_exported_or_forwarded_again(
    slack, forwarding, clock, lrs, person
):
    """Between them, Sam and Kim are the actor of every kind of statement; Sam receives
    recognition (the recipient); Rio's question names them both (mentioned in the object).
    Some statements reached the LRS before the erasure, some had not even been recorded."""
    eddy = forwarding
    everything_happens(slack, eddy, clock)
    slack.command(RIO, GENERAL, f"/ask is <@{KIM}> or <@{SAM}> the one to ask about parking?")
    eddy.runtime.work.wait_idle()
    clock.advance(timedelta(minutes=1))
    run_jobs(eddy.runtime, clock.now())
    at_the_lrs = dict(lrs.stored)
    about_them = naming(at_the_lrs.values(), person)
    kinds = {kind(s) for s in naming(at_the_lrs.values(), SAM) + naming(at_the_lrs.values(), KIM)}
    assert kinds == KINDS
    # After the last pass, Rio thanks Sam's tip: not recorded yet when Sam is forgotten.
    tip = next(m for m in slack.messages(GENERAL) if m.text.startswith("Tip: pin"))
    clock.advance(timedelta(seconds=20))
    slack.react(RIO, tip, CHECK)
    eddy.runtime.work.wait_idle()
    requests_before = len(lrs.requests)

    forgotten = privacy.forget_person(
        eddy.runtime.store, eddy.runtime.team_id, person, now=clock.now()
    )
    clock.advance(timedelta(minutes=1))
    run_jobs(eddy.runtime, clock.now())

    # Nothing Eddy keeps, exports or forwards from now on names them...
    assert naming(recorded(eddy), person) == []
    sent_after = [
        statement
        for request in lrs.requests[requests_before:]
        for statement in (request.body if isinstance(request.body, list) else [request.body])
    ]
    assert sent_after and naming(sent_after, person) == []
    with eddy.runtime.store.session() as session:
        outbox = session.execute(select(LrsOutbox)).scalars().all()
        assert naming([row.statement for row in outbox], person) == []
    # ...what the LRS holds about them is voided (a recognition its giver took back already
    # was)...
    voided = {s["object"]["id"] for s in lrs.stored.values() if kind(s) == "voided"}
    assert {s["id"] for s in about_them if kind(s) != "voided"} <= voided
    assert forgotten.voided == len(
        {s["id"] for s in about_them if kind(s) != "voided"}
        - ({s["object"]["id"] for s in at_the_lrs.values() if kind(s) == "voided"})
    )
    # ...and what was someone else's learning is kept without them, as new statements; the
    # erasure's report counts both.
    ledger = forgotten.changes["learning_record"]
    assert ledger["deleted"] > 0 and ledger["mentions replaced"] > 0
    rios_question = [
        s for s in recorded(eddy) if kind(s) == "asked" and s["actor"]["account"]["name"] == RIO
    ]
    [question] = [s["object"]["definition"]["name"]["en-US"] for s in rios_question]
    assert "former member" in question and rios_question[0]["id"] in lrs.stored
    if person == SAM:
        thanks = [s for s in recorded(eddy) if kind(s) == "gave"]
        assert {s["actor"]["account"]["name"] for s in thanks} == {ALEX, RIO}
        assert all("extensions" not in s["context"] for s in thanks)


def test_instances_recording_at_once_keep_each_event_once(slack, content, clock, database_url):
    """Several instances on one database record every minute: whoever is first keeps an
    event's statement, and the others' (with other UUIDs) are never kept beside it."""
    slack.workspace.clock = clock
    instances = [Instance(slack, database_url, content, clock) for _ in range(3)]
    try:
        slack.connect(instances[0].target)
        a_morning(slack, instances[0], clock, "one")
        start = threading.Barrier(len(instances))

        def record(eddy: Instance) -> None:
            start.wait()
            xapi.record(eddy.runtime.store, eddy.runtime.team_id, clock.now())

        threads = [threading.Thread(target=record, args=(eddy,)) for eddy in instances]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statements = recorded(instances[0])
        assert all(recorded(eddy) == statements for eddy in instances)
        kinds = Counter(kind(s) for s in statements)
        assert (kinds["asked"], kinds["gave"], kinds["experienced"]) == (1, 1, 1)
        [rio] = {s["context"]["registration"] for s in statements if kind(s) == "experienced"}
        assert rio
    finally:
        for eddy in instances:
            eddy.close()


def test_a_registration_another_instance_kept_first_is_the_one_used(slack, instance):
    """Two instances making the first statement of a question at once both make a new
    registration: the one kept first wins, and the other instance makes its statements
    again with it (here the other instance's is in the database before this pass keeps its
    own, while the pass believes it knows every kept value, as a first pass does)."""
    slack.command(KIM, GENERAL, f"/ask {CONFIDENT}")
    store, team_id = instance.runtime.store, instance.runtime.team_id
    winner = "5a1d3c4e-0000-4000-8000-000000000001"
    with store.session() as session:
        [question] = session.execute(text("SELECT id FROM question_log")).scalars()
        records.keep_identities(
            session,
            team_id=team_id,
            values={
                f"registration/question/{question}": winner,
                f"iri/question/{question}": f"questions/{winner}",
            },
        )
    source = xapi.source_for(store, team_id)
    assert source is not None
    with store.session() as session:
        ids = xapi.Identities(session, team_id, legacy=False, complete=True)
        made = xapi.record_window(
            session, replace(source, identities=ids), EVERYTHING, instance.runtime.clock.now()
        )
    assert made == 1
    [asked] = xapi.statements_in(store, team_id, EVERYTHING)
    assert asked["context"]["registration"] == winner
    assert asked["object"]["id"].endswith(f"/eddy/questions/{winner}")
