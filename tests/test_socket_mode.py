"""Socket Mode, as deployed: `app.py run --mode socket` in its own process, over a WebSocket.

Eddy's own slack_sdk client calls `apps.connections.open` on the stand-in with the app-level
token, connects to the WebSocket it is given, and acknowledges the envelopes the stand-in sends
there: the same commands and events as in HTTP mode, unsigned, as Slack sends them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import ManualClock
from handlers.slash import MAX_TEXT
from sandbox import SlackStandIn
from sandbox.socket_mode import SocketModeServer, SocketModeTarget, envelope
from sandbox.workspace import Message
from tests.conftest import ALEX, EDDY, GENERAL, MANIFEST, PINNED, SIGNING_SECRET
from tests.deployed import EddyProcess, real_clock
from tests.test_cli import eddy as run_eddy
from tests.test_cli import one_sentence


class SocketModeEddy(EddyProcess):
    """Socket Mode, returned once connected; no signing secret: Socket Mode needs none."""

    def __init__(self, stand_in: SlackStandIn, sockets: SocketModeServer, database: Path) -> None:
        super().__init__(
            stand_in, database, "socket", SLACK_APP_TOKEN=stand_in.app_token, **real_clock()
        )
        try:
            sockets.wait_connected(timeout=30)
        except Exception:
            raise self.failed_to_start("did not connect") from None
        # Connected at once; questions are answered once the content is loaded, which the
        # log says (a question before then is told so, and answered then).
        deadline = time.monotonic() + 30
        while "Ready for questions" not in self.log.read_text():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise self.failed_to_start("did not load its content")
            time.sleep(0.05)


@pytest.fixture
def socket_slack() -> Iterator[tuple[SlackStandIn, SocketModeServer]]:
    """A stand-in whose app has Socket Mode on: everything goes over the WebSocket."""
    with (
        SlackStandIn.from_manifest(
            MANIFEST, signing_secret=SIGNING_SECRET, clock=ManualClock(PINNED)
        ) as stand_in,
        SocketModeServer(stand_in.api) as sockets,
    ):
        stand_in.connect(SocketModeTarget(sockets))
        yield stand_in, sockets


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Iterator[tuple[SlackStandIn, SocketModeServer, SocketModeEddy]]:
    with (
        SlackStandIn.from_manifest(
            MANIFEST, signing_secret=SIGNING_SECRET, clock=ManualClock(PINNED)
        ) as stand_in,
        SocketModeServer(stand_in.api) as sockets,
    ):
        stand_in.connect(SocketModeTarget(sockets))
        eddy = SocketModeEddy(stand_in, sockets, tmp_path_factory.mktemp("socket") / "eddy.db")
        yield stand_in, sockets, eddy
        eddy.stop()


def eddy_in_thread(slack: SlackStandIn, ts: str) -> list[Message]:
    return [m for m in slack.messages(GENERAL, thread_ts=ts) if m.user == EDDY]


def test_eddy_connects_with_the_app_level_token(deployed):
    slack, sockets, _ = deployed
    opened = slack.calls("apps.connections.open")
    assert opened and all(call.ok for call in opened)
    assert sockets.connections == 1


def test_a_slash_command_is_answered_in_the_ack(deployed):
    slack, _, _ = deployed
    delivery = slack.command(ALEX, GENERAL, "/ask help")
    assert delivery.status == 200
    assert "/ask" in delivery.json()["text"]
    assert "/ask" in slack.ephemerals(ALEX)[-1].text


def test_a_mention_is_answered_in_the_thread(deployed):
    slack, _, _ = deployed
    question = slack.say(ALEX, GENERAL, f"<@{EDDY}> where is the handbook?")
    reply = slack.wait_for(lambda: eddy_in_thread(slack, question.ts))
    assert "where is the handbook?" in reply[0].text


def test_many_commands_at_once_each_get_their_own_ack(deployed):
    slack, _, _ = deployed
    replies: dict[int, str] = {}

    def ask(n: int) -> None:
        # Text too long by a different amount each: the ack's reply names its length.
        replies[n] = slack.command(ALEX, GENERAL, "/ask " + "x" * (MAX_TEXT + 1 + n)).body

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Acks come back out of order; each is matched to its envelope by envelope_id.
    assert sorted(replies) == list(range(20))
    assert all(f"That's {MAX_TEXT + 1 + n:,} characters" in replies[n] for n in range(20))


def test_a_retried_event_is_handled_once(deployed):
    slack, _, eddy = deployed
    text = f"<@{EDDY}> is there a style guide?"
    question = slack.workspace.add_message(
        Message(channel=GENERAL, ts=slack.workspace.next_ts(), text=text, user=ALEX)
    )
    mention = {"type": "app_mention", "user": ALEX, "text": text, "ts": question.ts}
    mention |= {"channel": GENERAL, "team": slack.workspace.team_id}
    deliveries = [slack.event(mention, event_id="Ev0SOCKET1", retry_num=n) for n in (0, 1, 2)]
    assert [d.status for d in deliveries] == [200, 200, 200]
    # Eddy decides before it acknowledges, so by now both retries were turned away...
    assert eddy.log.read_text().count("Ignoring repeated delivery of event Ev0SOCKET1") == 2
    # ...and the one answer comes from the first delivery.
    assert len(slack.wait_for(lambda: eddy_in_thread(slack, question.ts))) == 1


def test_sigterm_stops_eddy_cleanly(socket_slack, tmp_path):
    slack, sockets = socket_slack
    eddy = SocketModeEddy(slack, sockets, tmp_path / "eddy.db")
    slack.command(ALEX, GENERAL, "/ask help")
    code, log = eddy.stop()
    # serve_socket_mode handles SIGTERM itself, closes the socket, drains, and returns: 0.
    assert code == 0, log
    assert log.index("Stopping: finishing work in progress") < log.index("Stopped cleanly")
    assert "Traceback" not in log
    assert slack.wait_for(lambda: sockets.connections == 0)


def test_an_app_token_slack_refuses_stops_eddy_with_one_sentence(slack, tmp_path):
    result = run_eddy(
        "run",
        "--mode",
        "socket",
        cwd=tmp_path,
        SLACK_APP_TOKEN="xapp-1-revoked",
        **real_clock(),
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'eddy.db'}",
    )
    sentence = one_sentence(result)
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in sentence
    assert "revoked" not in sentence


def test_each_token_works_only_where_slack_takes_it(slack):
    with pytest.raises(SlackApiError) as raised:
        WebClient(token=slack.bot_token, base_url=slack.api_url).apps_connections_open(
            app_token=slack.bot_token
        )
    assert raised.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as raised:
        WebClient(token=slack.app_token, base_url=slack.api_url).auth_test()
    assert raised.value.response["error"] == "not_allowed_token_type"


def test_apps_connections_open_hands_out_a_websocket_url(socket_slack):
    slack, _ = socket_slack
    answer = WebClient(base_url=slack.api_url).apps_connections_open(app_token=slack.app_token)
    assert answer["url"].startswith("ws://127.0.0.1:")
    assert "/link/?ticket=" in answer["url"]
    assert "token" not in slack.calls("apps.connections.open")[-1].args


def test_envelopes_have_slacks_shapes():
    event = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_mention"}}
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    events_api = envelope(json.dumps(event), {"Content-Type": "application/json"} | retry)
    assert events_api["type"] == "events_api"
    assert events_api["payload"] == event
    assert events_api["accepts_response_payload"] is False
    assert (events_api["retry_attempt"], events_api["retry_reason"]) == (1, "http_timeout")

    command = envelope(urlencode({"command": "/ask", "text": "help"}), {})
    assert command["type"] == "slash_commands"
    assert command["payload"] == {"command": "/ask", "text": "help"}
    assert command["accepts_response_payload"] is True

    for kind, answerable in (("block_actions", False), ("view_submission", True)):
        interactive = envelope(urlencode({"payload": json.dumps({"type": kind})}), {})
        assert interactive["type"] == "interactive"
        assert interactive["payload"] == {"type": kind}
        assert interactive["accepts_response_payload"] is answerable
    assert events_api["envelope_id"] != command["envelope_id"]


def unreadable_envelopes() -> dict[str, dict]:
    """Envelopes Slack is not known to send (it signs nothing over the socket, but a payload
    Eddy cannot read must not crash it either)."""
    full_command = {"command": "/ask", "text": "hi", "user_id": ALEX, "channel_id": GENERAL}
    full_command |= {"response_url": "https://hooks.slack.com/x", "trigger_id": "1.2.3"}
    return {
        "events-payload-list": {"type": "events_api", "payload": [1]},
        "events-payload-text": {"type": "events_api", "payload": "x"},
        "events-without-event": {"type": "events_api", "payload": {"type": "event_callback"}},
        "event-not-object": {
            "type": "events_api",
            "payload": {"type": "event_callback", "team_id": "T", "event_id": "E", "event": 5},
        },
        "interactive-without-user": {"type": "interactive", "payload": {"type": "block_actions"}},
        "interactive-team-number": {
            "type": "interactive",
            "payload": {"type": "shortcut", "user": {"id": ALEX}, "team": 5},
        },
        "command-without-user": {
            "type": "slash_commands",
            "payload": {k: v for k, v in full_command.items() if k != "user_id"},
        },
        "retry-reason-number": {
            "type": "events_api",
            "retry_attempt": 1,
            "retry_reason": 5,
            "payload": {"type": "event_callback", "team_id": "T", "event_id": "E1"}
            | {"event": {"type": "app_home_opened", "user": ALEX, "tab": "messages"}},
        },
        "unknown-envelope-type": {"type": "nonsense", "payload": {}},
    }


@pytest.mark.parametrize("name", unreadable_envelopes())
def test_an_envelope_eddy_cannot_read_is_acknowledged_and_changes_nothing(deployed, name):
    slack, sockets, eddy = deployed
    quiet = ("auth.test", "apps.connections.open")
    before = [c for c in slack.calls() if c.method not in quiet]
    ack = sockets.request({"envelope_id": f"env-{name}"} | unreadable_envelopes()[name])
    assert ack["envelope_id"] == f"env-{name}"
    if name.startswith("command"):
        assert "couldn't read that command" in ack["payload"]["text"]
    assert [c for c in slack.calls() if c.method not in quiet] == before
    log = eddy.log.read_text()
    assert "Traceback" not in log
    assert "Failed to run" not in log
