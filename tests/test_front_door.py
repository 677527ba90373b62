"""Nothing acts on a request Slack did not sign, and nothing Slack signed makes Eddy crash.

Each forged, stale, replayed or malformed request goes through the HTTP front door of Eddy as
deployed (`app.py run --mode http`, another process) and through `app.dispatch` in this one.
Each is refused (401 when Slack did not sign it, 400 when Eddy cannot read it; a slash command
Eddy cannot read is answered in its ack), and nothing happens: no Web API call, no post to the
response URL it names (a server this test runs, standing in for an attacker's), nothing shown
to anyone, no traceback in the log.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest

from sandbox import HttpTarget, SlackStandIn
from tests.conftest import ALEX, EDDY, GENERAL, MANIFEST, SAM, SIGNING_SECRET
from tests.deployed import HttpEddy
from tests.test_ask import answer_to
from tests.test_home import forge, seen

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


# --- an attacker's server, and what a forger sends ---------------------------------------------


@dataclass
class Attacker:
    """A local HTTP server that records every request it gets (it must get none)."""

    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def attacker() -> Iterator[Attacker]:
    found: list[str] = []

    class Record(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            found.append(self.path)
            self.send_response(200)
            self.end_headers()

        def do_GET(self) -> None:
            self.do_POST()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Attacker(f"http://127.0.0.1:{server.server_address[1]}/hook", found)
    server.shutdown()


def press(hook: str, **changes: Any) -> dict[str, Any]:
    """A block_actions payload from Alex on an old message, answering to `hook`."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": ALEX, "username": "alex", "team_id": "T0SANDBOX"},
        "api_app_id": "A0EDDYAPP",
        "team": {"id": "T0SANDBOX", "domain": "sandbox"},
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1.0", "channel_id": GENERAL},
        "channel": {"id": GENERAL, "name": "general"},
        "response_url": hook,
        "actions": [
            {"type": "button", "action_id": "retired_button", "block_id": "b", "value": "1"}
        ],
    }
    return payload | changes


def submit(**view_changes: Any) -> dict[str, Any]:
    """A view_submission payload from Alex."""
    view = {
        "id": "V0MODAL",
        "type": "modal",
        "callback_id": "schedule_modal",
        "private_metadata": "",
        "state": {"values": {}},
    }
    return {
        "type": "view_submission",
        "user": {"id": ALEX},
        "team": {"id": "T0SANDBOX"},
        "trigger_id": "1.2.3",
        "view": {k: v for k, v in (view | view_changes).items() if v is not None},
        "response_urls": [],
    }


def command(hook: str, **changes: str | None) -> str:
    """A slash command's form from Alex in #general, answering to `hook`."""
    form = {
        "command": "/ask",
        "text": "where is the handbook?",
        "user_id": ALEX,
        "channel_id": GENERAL,
        "team_id": "T0SANDBOX",
        "response_url": hook,
        "trigger_id": "1.2.3",
    } | changes
    return urlencode({k: v for k, v in form.items() if v is not None})


def event(inner: Any, **changes: Any) -> str:
    """An Events API callback around `inner`."""
    body = {
        "type": "event_callback",
        "team_id": "T0SANDBOX",
        "api_app_id": "A0EDDYAPP",
        "event_id": "Ev0FORGED1",
        "event_time": 1,
        "event": inner,
    } | changes
    return json.dumps(body)


def mention(**changes: Any) -> dict[str, Any]:
    inner = {"type": "app_mention", "user": ALEX, "channel": GENERAL, "ts": "1.0"}
    return inner | {"text": f"<@{EDDY}> where is the handbook?"} | changes


def as_payload(payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgery:
    """A request and the status it must get: `body(hook)` with `send`'s keyword arguments."""

    body: Callable[[str], str]
    status: int
    options: dict[str, Any] = field(default_factory=dict)


def stamped(write: Callable[[int], str]) -> dict[str, Any]:
    """Signed, with the timestamp header written by `write` from the current stamp."""
    return {"timestamp": write}


UNSIGNED = {
    "unsigned": Forgery(lambda hook: as_payload(press(hook)), 401, {"signed": False}),
    "signature-garbage": Forgery(
        lambda hook: as_payload(press(hook)),
        401,
        {"extra_headers": {"X-Slack-Signature": "v0=deadbeef"}},
    ),
    "signature-wrong": Forgery(
        lambda hook: as_payload(press(hook)),
        401,
        {"extra_headers": {"X-Slack-Signature": "v0=" + "0" * 64}},
    ),
    "signature-without-version": Forgery(
        lambda hook: command(hook), 401, {"extra_headers": {"X-Slack-Signature": "0" * 64}}
    ),
    "altered-body": Forgery(
        lambda hook: as_payload(press(hook)),
        401,
        {"tampered": as_payload(press("https://hooks.slack.com/x", user={"id": SAM}))},
    ),
    "stale": Forgery(lambda hook: as_payload(press(hook)), 401, {"age": 6 * 60}),
    "from-the-future": Forgery(lambda hook: as_payload(press(hook)), 401, {"age": -6 * 60}),
    "no-timestamp": Forgery(
        lambda hook: command(hook), 401, {"without_headers": ["X-Slack-Request-Timestamp"]}
    ),
    "no-signature": Forgery(
        lambda hook: command(hook), 401, {"without_headers": ["X-Slack-Signature"]}
    ),
    "no-headers": Forgery(
        lambda hook: command(hook),
        401,
        {"without_headers": ["X-Slack-Signature", "X-Slack-Request-Timestamp"]},
    ),
    "unsigned-wrong-content-type": Forgery(
        lambda hook: "hello", 401, {"signed": False, "content_type": "text/plain"}
    ),
    "unsigned-json-string": Forgery(
        lambda hook: '"x"', 401, {"signed": False, "content_type": JSON}
    ),
    "unsigned-empty": Forgery(lambda hook: "", 401, {"signed": False}),
}
# The attack the issue names: a timestamp slack_sdk's verifier cannot read made Bolt hand the
# unverified body to the error handler, which answered its response_url. Each is refused
# whether or not it carries a signature computed over that timestamp.
for name, write in {
    "abc": lambda now: "abc",
    "1e3": lambda now: "1e3",
    "space": lambda now: " ",
    "empty": lambda now: "",
    "minus-one": lambda now: "-1",
    "plus-sign": lambda now: f"+{now}",
    "full-width-digits": lambda now: str(now).translate(FULL_WIDTH),
    "leading-space": lambda now: f" {now}",
    "trailing-space": lambda now: f"{now} ",
    "decimal": lambda now: f"{now}.0",
    "underscores": lambda now: f"{now // 1000}_{now % 1000:03d}",
    "hex": lambda now: hex(now),
}.items():
    UNSIGNED[f"timestamp-{name}"] = Forgery(
        lambda hook: as_payload(press(hook)), 401, stamped(write)
    )
    UNSIGNED[f"timestamp-{name}-unsigned"] = Forgery(
        lambda hook: as_payload(press(hook)), 401, stamped(write) | {"signed": False}
    )

MALFORMED = {
    "content-type-text": Forgery(lambda hook: command(hook), 400, {"content_type": "text/plain"}),
    "content-type-multipart": Forgery(
        lambda hook: command(hook), 400, {"content_type": "multipart/form-data"}
    ),
    "content-type-missing": Forgery(
        lambda hook: command(hook), 400, {"without_headers": ["Content-Type"]}
    ),
    "empty-form": Forgery(lambda hook: "", 400),
    "empty-json": Forgery(lambda hook: "", 400, {"content_type": JSON}),
    "payload-list": Forgery(lambda hook: "payload=[1]", 400),
    "payload-string": Forgery(lambda hook: 'payload="x"', 400),
    "payload-not-json": Forgery(lambda hook: "payload=%7Bbroken", 400),
    "payload-empty": Forgery(lambda hook: "payload=", 400),
    "payload-nan": Forgery(lambda hook: "payload=NaN", 400),
    "payload-with-other-fields": Forgery(
        lambda hook: as_payload(press("https://hooks.slack.com/x")) + "&user_id=U0SAM0002", 400
    ),
    "form-field-twice": Forgery(lambda hook: command(hook) + "&user_id=U0SAM0002", 400),
    "form-not-utf8": Forgery(lambda hook: command(hook, text=None) + "&text=%ff%fe", 400),
    "form-that-is-json": Forgery(lambda hook: json.dumps(press(hook)), 400),
    "json-string": Forgery(lambda hook: '"x"', 400, {"content_type": JSON}),
    "json-list": Forgery(lambda hook: "[1]", 400, {"content_type": JSON}),
    "json-null": Forgery(lambda hook: "null", 400, {"content_type": JSON}),
    "json-empty-object": Forgery(lambda hook: "{}", 400, {"content_type": JSON}),
    "json-broken": Forgery(lambda hook: "{not json", 400, {"content_type": JSON}),
    "json-deeply-nested": Forgery(
        lambda hook: '{"a":' + "[" * 100_000 + "]" * 100_000 + "}", 400, {"content_type": JSON}
    ),
    "json-unknown-type": Forgery(lambda hook: '{"type": "nope"}', 400, {"content_type": JSON}),
    "response-url-elsewhere": Forgery(lambda hook: as_payload(press(hook)), 400),
    "response-url-userinfo": Forgery(
        lambda hook: as_payload(press(hook.replace("http://", "https://hooks.slack.com@"))), 400
    ),
    "response-url-not-https": Forgery(
        lambda hook: as_payload(press("http://hooks.slack.com/actions/T/1/x")), 400
    ),
    "interaction-unknown-type": Forgery(
        lambda hook: as_payload(press(hook, type="interactive_message", callback_id="x")), 400
    ),
    "interaction-without-user": Forgery(
        lambda hook: as_payload({k: v for k, v in press(hook).items() if k != "user"}), 400
    ),
    "interaction-user-as-text": Forgery(
        lambda hook: as_payload(press("https://hooks.slack.com/x", user=ALEX)), 400
    ),
    "interaction-team-as-number": Forgery(
        lambda hook: as_payload(press("https://hooks.slack.com/x", team=5)), 400
    ),
    "block-actions-without-actions": Forgery(
        lambda hook: as_payload(press("https://hooks.slack.com/x", actions=[])), 400
    ),
    "block-actions-action-not-object": Forgery(
        lambda hook: as_payload(press("https://hooks.slack.com/x", actions=[1])), 400
    ),
    "block-actions-value-number": Forgery(
        lambda hook: as_payload(
            press("https://hooks.slack.com/x", actions=[{"action_id": "ask_share", "value": 1}])
        ),
        400,
    ),
    "view-submission-without-state": Forgery(lambda hook: as_payload(submit(state=None)), 400),
    "view-submission-without-view": Forgery(
        lambda hook: as_payload({k: v for k, v in submit().items() if k != "view"}), 400
    ),
    "view-submission-odd-state": Forgery(
        lambda hook: as_payload(
            submit(
                state={"values": {"b": {"a": {"type": "static_select", "selected_option": "x"}}}}
            )
        ),
        400,
    ),
    "event-without-event": Forgery(lambda hook: event(None), 400, {"content_type": JSON}),
    "event-not-object": Forgery(lambda hook: event(5), 400, {"content_type": JSON}),
    "event-without-id": Forgery(
        lambda hook: event(mention(), event_id=None), 400, {"content_type": JSON}
    ),
    "mention-without-channel": Forgery(
        lambda hook: event({k: v for k, v in mention().items() if k != "channel"}),
        400,
        {"content_type": JSON},
    ),
    "mention-user-as-number": Forgery(
        lambda hook: event(mention(user=5)), 400, {"content_type": JSON}
    ),
    "reaction-item-not-object": Forgery(
        lambda hook: event({"type": "reaction_added", "user": ALEX, "reaction": "+1", "item": 5}),
        400,
        {"content_type": JSON},
    ),
    "user-change-user-as-text": Forgery(
        lambda hook: event({"type": "user_change", "user": ALEX}), 400, {"content_type": JSON}
    ),
    "authorizations-not-objects": Forgery(
        lambda hook: event(mention(), authorizations=[5]), 400, {"content_type": JSON}
    ),
    "url-verification-without-challenge": Forgery(
        lambda hook: '{"type": "url_verification"}', 400, {"content_type": JSON}
    ),
}
#: Slash commands Slack signed but that lack what Eddy reads: the person who typed them reads
#: the ack, so it explains instead of a bare 400.
UNREADABLE_COMMANDS = {
    f"command-without-{name}": Forgery(lambda hook, name=name: command(hook, **{name: None}), 200)
    for name in ("user_id", "channel_id", "command", "text", "trigger_id", "response_url")
} | {
    "command-with-empty-user_id": Forgery(lambda hook: command(hook, user_id=""), 200),
}
FORGERIES = UNSIGNED | MALFORMED | UNREADABLE_COMMANDS


# --- what must not happen ----------------------------------------------------------------------


def activity(slack: SlackStandIn) -> list[Any]:
    """Every Web API call (and response-URL post) Eddy made, bar the startup's auth.test."""
    return [call for call in slack.calls() if call.method != "auth.test"]


def seen_by(slack: SlackStandIn, *users: str) -> list[str]:
    return [m.text for user in users for m in slack.ephemerals(user) + slack.dms(user)]


def assert_refused(slack, attacker, delivery, forgery, before, shown_before) -> None:
    assert delivery.status == forgery.status, delivery.body
    if forgery.status == 200:
        assert "couldn't read that command" in delivery.json()["text"]
    assert activity(slack) == before
    assert attacker.hits == []
    assert seen_by(slack, ALEX, SAM) == shown_before


# --- over HTTP, as deployed --------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Iterator[tuple[SlackStandIn, HttpEddy]]:
    with SlackStandIn.from_manifest(MANIFEST, signing_secret=SIGNING_SECRET) as stand_in:
        eddy = HttpEddy(stand_in, tmp_path_factory.mktemp("front-door") / "eddy.db")
        stand_in.connect(HttpTarget(eddy.url + "/slack/events"))
        yield stand_in, eddy
        eddy.stop()


@pytest.mark.parametrize("name", FORGERIES)
def test_over_http_nothing_acts_on_a_forged_or_malformed_request(deployed, attacker, name):
    slack, eddy = deployed
    forgery = FORGERIES[name]
    before, shown_before = activity(slack), seen_by(slack, ALEX, SAM)
    delivery = slack.send(forgery.body(attacker.url), **({"content_type": FORM} | forgery.options))
    # Refused at the door, before Bolt: no work was started that could act later.
    assert_refused(slack, attacker, delivery, forgery, before, shown_before)
    assert "Traceback" not in eddy.log.read_text()


def test_over_http_a_replayed_request_is_refused(deployed, attacker):
    slack, eddy = deployed
    first = slack.command(ALEX, GENERAL, "/badges help")
    assert first.status == 200 and "/badges" in first.json()["text"]
    before = activity(slack)
    again = slack.replay()
    assert again.status == 401
    assert activity(slack) == before
    assert "Traceback" not in eddy.log.read_text()


def test_over_http_each_refusal_is_one_warning_line(deployed):
    slack, eddy = deployed
    slack.send(as_payload(press("https://hooks.slack.com/x")), timestamp=lambda now: "abc")
    slack.send("payload=[1]")
    log = eddy.log.read_text()
    assert "Refused a request: a timestamp that is not a whole number of seconds" in log
    assert "Refused a signed request: the payload is list, not an object" in log
    assert "Traceback" not in log


def test_over_http_a_command_whose_text_says_payload_is_answered(deployed):
    """Bolt alone reads a slash command with "payload" anywhere in its form as an empty
    body; the front door hands Bolt what it read."""
    slack, _ = deployed
    delivery = slack.command(ALEX, GENERAL, "/ask what is a payload?")
    assert delivery.status == 200
    # Acknowledged at once, answered through the response URL (Eddy is another process).
    slack.wait_for(lambda: "what is a payload?" in slack.ephemerals(ALEX)[-1].text)


def test_over_http_a_signed_ssl_check_is_answered_and_an_unsigned_one_refused(deployed):
    slack, _ = deployed
    before = activity(slack)
    assert slack.send("ssl_check=1&token=x").status == 200
    assert slack.send("ssl_check=1&token=x", signed=False).status == 401
    assert activity(slack) == before


def test_over_http_url_verification_is_answered(deployed):
    slack, _ = deployed
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "c0ffee"})
    delivery = slack.send(body, content_type=JSON)
    assert delivery.status == 200 and "c0ffee" in delivery.body


# --- through app.dispatch, in this process -----------------------------------------------------


def bolt_can_build(body: str, options: dict[str, Any]) -> bool:
    """Whether Bolt can build a request from `body` at all (else it never reaches
    `app.dispatch`; over HTTP the front door answers it before Bolt parses anything)."""
    content_type = options.get("content_type", FORM)
    try:
        BoltRequest(body=body, headers={"content-type": content_type})
    except Exception:
        return False
    return True


def dispatchable(name: str) -> bool:
    """Whether the forgery `name` can be handed to `app.dispatch` at all (the others are
    answered over HTTP, by the front door, before Bolt parses anything: see above)."""
    forgery = FORGERIES[name]
    body = forgery.body("http://127.0.0.1:9/attacker")
    return bolt_can_build(forgery.options.get("tampered", body), forgery.options)


@pytest.mark.parametrize("name", [name for name in FORGERIES if dispatchable(name)])
def test_through_dispatch_nothing_acts_on_a_forged_or_malformed_request(
    slack, eddy, attacker, caplog, name
):
    forgery = FORGERIES[name]
    body = forgery.body(attacker.url)
    assert bolt_can_build(forgery.options.get("tampered", body), forgery.options)
    before, shown_before = activity(slack), seen_by(slack, ALEX, SAM)
    with caplog.at_level(logging.INFO):
        delivery = slack.send(body, **({"content_type": FORM} | forgery.options))
    assert_refused(slack, attacker, delivery, forgery, before, shown_before)
    assert not [r for r in caplog.records if r.exc_info]
    assert "Traceback" not in caplog.text


def test_through_dispatch_a_replayed_request_is_refused(slack, eddy):
    assert slack.command(ALEX, GENERAL, "/badges help").status == 200
    assert slack.replay().status == 401
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert slack.replay(extra_headers=retry).status == 401  # Slack retries no command


def test_an_event_retried_with_its_first_signature_is_acknowledged_and_handled_once(slack, eddy):
    """Should Slack retry an event under the first attempt's timestamp (and so signature),
    the retry is not a replay: it is acknowledged, and the event is still handled once."""
    question = slack.say(ALEX, GENERAL, f"<@{EDDY}> where is the handbook?")
    replies = len(slack.messages(GENERAL, thread_ts=question.ts))
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert slack.replay(extra_headers=retry).status == 200
    assert slack.replay(extra_headers=retry).status == 401  # the same retry twice is a replay
    assert len(slack.messages(GENERAL, thread_ts=question.ts)) == replies


def test_through_dispatch_a_command_whose_text_says_payload_is_answered(slack, eddy):
    delivery = slack.command(ALEX, GENERAL, "/ask what is a payload?")
    assert delivery.status == 200
    # Acknowledged at once, answered through the response URL (Eddy is another process).
    slack.wait_for(lambda: "what is a payload?" in slack.ephemerals(ALEX)[-1].text)


# --- signed, well formed, but with values Eddy did not make ------------------------------------


@pytest.mark.parametrize("value", ["²", "١٢", "１２", "-1", "1e3", " 1", ""])
def test_a_button_value_eddy_did_not_make_gets_a_clear_answer(slack, eddy, caplog, value):
    """IDs in button values are read as ASCII digits only (`str.isdigit()` accepts "²",
    which `int()` refuses)."""
    answer = answer_to(slack, "how do I set up two factor authentication")
    block, element = next(
        (b, e) for b, e in slack.buttons(answer.blocks) if e["text"]["text"] == "Helpful"
    )
    with caplog.at_level(logging.INFO):
        delivery = slack.press_element(ALEX, answer, block, {**element, "value": value})
    assert delivery.status == 200
    assert slack.ephemerals(ALEX)[-1].text == "That answer is no longer in the knowledge index."
    assert "Unhandled error" not in caplog.text


@pytest.mark.parametrize("value", ["²", "x", ""])
def test_a_home_tab_claim_eddy_did_not_make_gets_a_clear_answer(slack, eddy, caplog, value):
    with caplog.at_level(logging.INFO):
        forge(slack, SAM, "home_claim", value)
    assert "Unhandled error" not in caplog.text
    assert "something went wrong" not in seen(slack.home(SAM))


def test_a_mention_in_an_integrations_message_is_acknowledged_quietly(slack, eddy, caplog):
    """Slack sends no `user` for a message an integration posted; nobody waits for an answer."""
    text = f"<@{EDDY}> the deploy is done"
    inner = {"type": "app_mention", "bot_id": "B0WEBHOOK", "channel": GENERAL, "text": text}
    with caplog.at_level(logging.INFO):
        delivery = slack.event(inner | {"ts": slack.workspace.next_ts()})
    assert delivery.status == 200
    assert activity(slack) == []
    assert "Unhandled error" not in caplog.text
