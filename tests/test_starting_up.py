"""No request waits for index work: while Eddy starts up (its content loading, its search index
not built yet) and while the index rebuilds after a change, questions are acknowledged at once;
during start-up the person is told so and answered as soon as the index is built, during a
rebuild they are answered from the last complete index.

The build is made slow on purpose, not by size: BM25's `index` (bm25s, which every build runs)
waits for a gate the test holds closed. Were any request to wait for a build, it would wait for
the gate, and the test would hang instead of reading the ack.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import pytest
from starlette.testclient import TestClient

from bot.clock import ManualClock
from bot.content.catalogue import Catalogue
from bot.content.entries import KnowledgeEntry
from bot.knowledge import IndexStartingError, KnowledgeIndex
from bot.runtime import Runtime, open_runtime
from bot.scheduler import JOBS, run_job
from handlers import EddyApp, create_app
from handlers.ask import STARTING_UP
from handlers.errors import APOLOGY
from handlers.serve import http_app
from sandbox import BoltTarget, SlackStandIn
from tests.conftest import ALEX, GENERAL, make_settings, shipped_content
from tests.test_ask import VPN, shown

GATE_WAIT = 60.0  # seconds a held build waits at most before the test gives up on it


class BuildGate:
    """Holds every index build (bm25s.BM25.index) until opened; counts the builds held."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open = threading.Event()
        self.open.set()
        self.held = threading.Event()
        build = bm25s.BM25.index

        def gated(model: bm25s.BM25, *args: Any, **kwargs: Any) -> Any:
            if not self.open.is_set():
                self.held.set()
                self.open.wait(GATE_WAIT)
            return build(model, *args, **kwargs)

        monkeypatch.setattr(bm25s.BM25, "index", gated)

    def close(self) -> None:
        self.held.clear()
        self.open.clear()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[BuildGate]:
    gate = BuildGate(monkeypatch)
    yield gate
    gate.open.set()


@dataclass
class Started:
    """Eddy as a server starts it, on its own copy of the shipped content."""

    runtime: Runtime
    app: EddyApp
    content: Path

    @property
    def catalogue(self) -> Catalogue:
        return self.runtime.catalogue


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return shipped_content(tmp_path)


@pytest.fixture
def started(
    slack: SlackStandIn, clock: ManualClock, tmp_path: Path, content: Path, gate: BuildGate
) -> Iterator[Started]:
    """Eddy started as `app.py run` starts it: the content loads in the background (here the
    first build is held at the gate until the test opens it)."""
    settings = make_settings(slack, f"sqlite:///{tmp_path / 'eddy.db'}", eddy_content_dir=content)
    runtime = open_runtime(settings, clock=clock)
    gate.close()
    app = create_app(runtime, load_in_background=True)
    slack.connect(BoltTarget(app, runtime.work))
    assert gate.held.wait(GATE_WAIT), "the first build never started"
    yield Started(runtime, app, content)
    gate.open.set()
    runtime.close()


def test_a_question_during_start_up_is_acknowledged_told_and_answered_once_ready(
    started: Started, slack: SlackStandIn, gate: BuildGate
) -> None:
    delivery = slack.command(ALEX, GENERAL, "/ask how do I reset my VPN password?")

    assert delivery.status == 200
    assert STARTING_UP in delivery.body
    assert [message.text for message in slack.ephemerals(ALEX)] == [STARTING_UP]
    assert not started.catalogue.ready

    gate.open.set()
    assert started.catalogue.wait_ready(GATE_WAIT)
    slack.wait_for(lambda: len(slack.ephemerals(ALEX)) == 2)
    assert VPN in shown(slack.ephemerals(ALEX)[-1])


def test_a_dm_during_start_up_is_told_and_answered_once_ready(
    started: Started, slack: SlackStandIn, gate: BuildGate
) -> None:
    slack.say(ALEX, slack.workspace.im_with(ALEX).id, "how do I reset my VPN password?")
    assert [message.text for message in slack.dms(ALEX)][-1] == STARTING_UP

    gate.open.set()
    assert started.catalogue.wait_ready(GATE_WAIT)
    reply = slack.wait_for(lambda: [m for m in slack.dms(ALEX) if VPN in shown(m)])
    assert len(reply) == 1


def test_help_is_answered_in_the_ack_during_start_up(started: Started, slack: SlackStandIn) -> None:
    delivery = slack.command(ALEX, GENERAL, "/ask help")
    assert "/ask" in delivery.json()["text"]
    assert STARTING_UP not in delivery.body


def test_health_answers_at_once_and_readiness_waits_for_the_index(
    started: Started, gate: BuildGate
) -> None:
    with TestClient(http_app(started.app, started.runtime, run_scheduler=False)) as http:
        health = http.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": True, "content": "loading"}
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "starting"

        gate.open.set()
        assert started.catalogue.wait_ready(GATE_WAIT)
        assert http.get("/readyz").status_code == 200
        assert http.get("/healthz").json()["content"] == "ready"


def test_scheduled_jobs_wait_for_the_content_except_its_refresh(started: Started) -> None:
    runtime = started.runtime
    deliver = next(job for job in JOBS if job.name == "deliver-lessons")
    run = run_job(runtime, deliver, runtime.clock.now())
    assert run.ok and run.result == "waiting for the content to load"


def test_a_question_during_a_rebuild_is_answered_from_the_last_index(
    started: Started, slack: SlackStandIn, gate: BuildGate
) -> None:
    """A content edit makes the refresh job rebuild (held here); questions asked meanwhile
    are acknowledged at once and answered from the index before the edit; after it, the
    edit answers."""
    runtime = started.runtime
    gate.open.set()
    assert started.catalogue.wait_ready(GATE_WAIT)
    gate.close()
    (started.content / "knowledge" / "zebra-crossing.md").write_text(
        "---\ntitle: Where the zebra crossing is\n---\nThe zebra crossing is at gate 4.\n"
    )
    refresh = next(job for job in JOBS if job.name == "refresh-knowledge")
    refreshing = threading.Thread(target=run_job, args=(runtime, refresh, runtime.clock.now()))
    refreshing.start()
    assert gate.held.wait(GATE_WAIT), "the rebuild never started"

    slack.command(ALEX, GENERAL, "/ask how do I reset my VPN password?")
    assert VPN in shown(slack.ephemerals(ALEX)[-1])  # answered while the rebuild is held
    assert started.catalogue.get("zebra-crossing") is not None  # stored, not built yet

    gate.open.set()
    refreshing.join(GATE_WAIT)
    slack.command(ALEX, GENERAL, "/ask where is the zebra crossing?")
    assert "Where the zebra crossing is" in shown(slack.ephemerals(ALEX)[-1])


def test_an_index_searched_before_its_first_build_says_it_is_starting() -> None:
    index = KnowledgeIndex()
    index.upsert(KnowledgeEntry("vpn", "Reset your VPN password", "Go to vpn.example.com."))
    with pytest.raises(IndexStartingError):
        KnowledgeIndex().search("vpn")
    index.settle()
    assert index.search("vpn password")[0].slug == "vpn"


def test_a_search_during_a_rebuild_reads_the_last_build(gate: BuildGate) -> None:
    index = KnowledgeIndex.from_entries(
        [KnowledgeEntry("vpn", "Reset your VPN password", "Go to vpn.example.com.")]
    )
    gate.close()
    index.upsert(KnowledgeEntry("zebra", "Where the zebra crossing is", "At gate 4."))
    assert gate.held.wait(GATE_WAIT)
    assert index.search("vpn password")[0].slug == "vpn"  # the last build answers
    index.learn("vpn", "my tunnel login fails")  # learned meanwhile: kept by the new build
    assert index.search("my tunnel login fails")[0].slug == "vpn"
    gate.open.set()
    index.settle()
    assert index.search("zebra crossing")[0].slug == "zebra"
    assert index.search("my tunnel login fails")[0].slug == "vpn"
    assert index.get("vpn").learned == ("my tunnel login fails",)  # type: ignore[union-attr]


def test_an_answer_that_fails_after_the_ack_is_apologised_for_not_dropped(
    slack: SlackStandIn, eddy: Any
) -> None:
    """The answer is worked out after the ack, outside the listener's guard: a failure there
    still reaches the log and the person (`handlers.errors.afterwards`)."""
    slack.fail_next("chat.postMessage", status=200, error="is_archived")
    slack.say(ALEX, slack.workspace.im_with(ALEX).id, "how do I reset my VPN password?")
    told = [message.text for message in slack.workspace.messages if message.ephemeral_to == ALEX]
    assert told and told[-1] == APOLOGY
