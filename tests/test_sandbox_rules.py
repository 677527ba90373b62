"""The stand-in refuses what Slack refuses, with Slack's error names and its JSON-pointer
messages: every limit of Slack's Block Kit reference (../shared/slack/BLOCK_KIT_LIMITS.md) on
messages, views and a submission's `response_action`, and the Web API's required arguments,
conversation IDs, trigger and response_url lifetimes. Each rule is shown refusing the payload
just past the limit and taking the one at it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import SlackStandIn
from sandbox.webapi import ResponseUrl
from tests.conftest import ALEX, GENERAL, SIGNING_SECRET
from tests.test_sandbox_interactions import bare_app

RULES_MANIFEST = """\
display_information:
  name: Rules
features:
  bot_user:
    display_name: Rules
  slash_commands:
    - command: /rules
      description: Replies with what the test asks for
oauth_config:
  scopes:
    bot: [channels:read, chat:write, commands, im:write]
settings:
  interactivity:
    is_enabled: true
"""


class PinnedClock:
    """The workspace's time, standing still until the test moves it."""

    def __init__(self) -> None:
        self.instant = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant += delta


@pytest.fixture
def clock() -> PinnedClock:
    return PinnedClock()


@pytest.fixture
def slack(tmp_path: Path, clock: PinnedClock) -> Iterator[SlackStandIn]:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(RULES_MANIFEST, encoding="utf-8")
    with SlackStandIn.from_manifest(
        manifest, signing_secret=SIGNING_SECRET, clock=clock
    ) as stand_in:
        yield stand_in


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


def plain(words: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": words}


def mrkdwn(words: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": words}


def section(words: str = "x", **more: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(words), **more}


def button(action_id: str = "go", label: str = "Go", **more: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(label), "action_id": action_id, **more}


def option(value: str = "v", label: str = "Label", **more: Any) -> dict[str, Any]:
    return {"text": plain(label), "value": value, **more}


def actions(*elements: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements), **more}


def select(options: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "pick", "options": options, **more}


def text_input(**element: Any) -> dict[str, Any]:
    element = {"type": "plain_text_input", "action_id": "typed", **element}
    return {"type": "input", "block_id": "typing", "label": plain("Type"), "element": element}


def modal(blocks: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Rules"), "blocks": blocks, **fields}


def refused(call: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as raised:
        call()
    return dict(raised.value.response.data)


# --- Block Kit in messages --------------------------------------------------------------------

#: (name, blocks just past a limit, the pointer Slack names, words of its message, blocks at
#: the limit that Slack takes).
MESSAGE_RULES: list[tuple[str, list[Any], str, str, list[Any]]] = [
    (
        "action_id repeated in one actions block",
        [actions(button("go"), button("go"))],
        "/blocks/0/elements/1/action_id",
        '`action_id` "go" already exists',
        [actions(button("go"), button("go_2")), actions(button("go"))],
    ),
    (
        "block_id repeated in one message",
        [section(block_id="b"), section(block_id="b")],
        "/blocks/1/block_id",
        '`block_id` "b" already exists',
        [section(block_id="b"), section(block_id="c")],
    ),
    (
        "block_id over 255",
        [section(block_id="b" * 256)],
        "/blocks/0/block_id",
        "must be less than 256 characters",
        [section(block_id="b" * 255)],
    ),
    (
        "option value over 150",
        [section(accessory=select([option("v" * 151)]))],
        "/blocks/0/accessory/options/0/value",
        "must be less than 151 characters",
        [section(accessory=select([option("v" * 150)]))],
    ),
    (
        "option text over 75",
        [section(accessory=select([option(label="t" * 76)]))],
        "/blocks/0/accessory/options/0/text/text",
        "must be less than 76 characters",
        [section(accessory=select([option(label="t" * 75)]))],
    ),
    (
        "option description over 75",
        [section(accessory=select([option(description=plain("d" * 76))]))],
        "/blocks/0/accessory/options/0/description/text",
        "must be less than 76 characters",
        [section(accessory=select([option(description=plain("d" * 75))]))],
    ),
    (
        "mrkdwn option text in a select",
        [section(accessory=select([{"text": mrkdwn("*v*"), "value": "v"}]))],
        "/blocks/0/accessory/options/0/text/type",
        "plain_text",
        [actions({"type": "radio_buttons", "options": [{"text": mrkdwn("*v*"), "value": "v"}]})],
    ),
    (
        "select over 100 options",
        [section(accessory=select([option(str(n)) for n in range(101)]))],
        "/blocks/0/accessory/options",
        "no more than 100 items allowed",
        [section(accessory=select([option(str(n)) for n in range(100)]))],
    ),
    (
        "overflow over 5 options",
        [actions({"type": "overflow", "options": [option(str(n)) for n in range(6)]})],
        "/blocks/0/elements/0/options",
        "no more than 5 items allowed",
        [actions({"type": "overflow", "options": [option(str(n)) for n in range(5)]})],
    ),
    (
        "radio buttons over 10 options",
        [actions({"type": "radio_buttons", "options": [option(str(n)) for n in range(11)]})],
        "/blocks/0/elements/0/options",
        "no more than 10 items allowed",
        [actions({"type": "radio_buttons", "options": [option(str(n)) for n in range(10)]})],
    ),
    (
        "checkboxes over 10 options",
        [actions({"type": "checkboxes", "options": [option(str(n)) for n in range(11)]})],
        "/blocks/0/elements/0/options",
        "no more than 10 items allowed",
        [actions({"type": "checkboxes", "options": [option(str(n)) for n in range(10)]})],
    ),
    (
        "initial option not among the options",
        [section(accessory=select([option("a")], initial_option=option("b")))],
        "/blocks/0/accessory/initial_option",
        "must exactly match one of the options",
        [section(accessory=select([option("a")], initial_option=option("a")))],
    ),
    (
        "initial options of checkboxes not among the options",
        [actions({"type": "checkboxes", "options": [option("a")], "initial_options": [option()]})],
        "/blocks/0/elements/0/initial_options/0",
        "must exactly match one of the options",
        [actions({"type": "checkboxes", "options": [option()], "initial_options": [option()]})],
    ),
    (
        "placeholder over 150",
        [section(accessory=select([option()], placeholder=plain("p" * 151)))],
        "/blocks/0/accessory/placeholder/text",
        "must be less than 151 characters",
        [section(accessory=select([option()], placeholder=plain("p" * 150)))],
    ),
    (
        "header over 150",
        [{"type": "header", "text": plain("h" * 151)}],
        "/blocks/0/text/text",
        "must be less than 151 characters",
        [{"type": "header", "text": plain("h" * 150)}],
    ),
    (
        "mrkdwn header",
        [{"type": "header", "text": mrkdwn("*h*")}],
        "/blocks/0/text/type",
        "plain_text",
        [{"type": "header", "text": plain("h")}],
    ),
    (
        "context over 10 elements",
        [{"type": "context", "elements": [mrkdwn("c")] * 11}],
        "/blocks/0/elements",
        "no more than 10 items allowed",
        [{"type": "context", "elements": [mrkdwn("c")] * 10}],
    ),
    (
        "actions over 25 elements",
        [actions(*(button(f"b{n}") for n in range(26)))],
        "/blocks/0/elements",
        "no more than 25 items allowed",
        [actions(*(button(f"b{n}") for n in range(25)))],
    ),
    (
        "section text over 3000",
        [section("s" * 3001)],
        "/blocks/0/text/text",
        "must be less than 3001 characters",
        [section("s" * 3000)],
    ),
    (
        "empty section text",
        [section("")],
        "/blocks/0/text/text",
        "must be more than 0 characters",
        [section("x")],
    ),
    (
        "section over 10 fields",
        [{"type": "section", "fields": [mrkdwn("f")] * 11}],
        "/blocks/0/fields",
        "no more than 10 items allowed",
        [{"type": "section", "fields": [mrkdwn("f")] * 10}],
    ),
    (
        "section field over 2000",
        [{"type": "section", "fields": [mrkdwn("f" * 2001)]}],
        "/blocks/0/fields/0/text",
        "must be less than 2001 characters",
        [{"type": "section", "fields": [mrkdwn("f" * 2000)]}],
    ),
    (
        "emoji on mrkdwn",
        [section(text={**mrkdwn("x"), "emoji": True})],
        "/blocks/0/text/emoji",
        "`emoji` is only allowed on plain_text",
        [section(text={**plain("x"), "emoji": True})],
    ),
    (
        "verbatim on plain_text",
        [section(text={**plain("x"), "verbatim": True})],
        "/blocks/0/text/verbatim",
        "`verbatim` is only allowed on mrkdwn",
        [section(text={**mrkdwn("x"), "verbatim": True})],
    ),
    (
        "button text over 75",
        [actions(button(label="b" * 76))],
        "/blocks/0/elements/0/text/text",
        "must be less than 76 characters",
        [actions(button(label="b" * 75))],
    ),
    (
        "button value over 2000",
        [actions(button(value="v" * 2001))],
        "/blocks/0/elements/0/value",
        "must be less than 2001 characters",
        [actions(button(value="v" * 2000))],
    ),
    (
        "button url over 3000",
        [actions(button(url="https://example.com/" + "u" * 2981))],
        "/blocks/0/elements/0/url",
        "must be less than 3001 characters",
        [actions(button(url="https://example.com/" + "u" * 2980))],
    ),
    (
        "action_id over 255",
        [actions(button("a" * 256))],
        "/blocks/0/elements/0/action_id",
        "must be less than 256 characters",
        [actions(button("a" * 255))],
    ),
    (
        "message over 50 blocks",
        [section()] * 51,
        "/blocks",
        "no more than 50 items allowed",
        [section()] * 50,
    ),
]


@pytest.mark.parametrize(
    ("blocks", "pointer", "words", "fine"),
    [case[1:] for case in MESSAGE_RULES],
    ids=[case[0] for case in MESSAGE_RULES],
)
def test_a_message_past_a_block_kit_limit_is_refused_with_slacks_pointer(
    slack, client, blocks, pointer, words, fine
):
    answer = refused(lambda: client.chat_postMessage(channel=GENERAL, text="t", blocks=blocks))
    assert answer["error"] == "invalid_blocks"
    matching = [e for e in answer["errors"] if e.endswith(f"[json-pointer:{pointer}]")]
    assert matching and words in matching[0], answer["errors"]
    assert answer["response_metadata"]["messages"] == [f"[ERROR] {e}" for e in answer["errors"]]
    assert slack.messages(GENERAL) == []
    client.chat_postMessage(channel=GENERAL, text="t", blocks=fine)
    assert slack.messages(GENERAL)[-1].blocks == fine


DUPLICATE = [actions(button("go"), button("go"))]


def test_every_message_surface_refuses_what_chat_post_message_refuses(slack, client):
    posted = client.chat_postMessage(channel=GENERAL, text="first")
    for call in (
        lambda: client.chat_postEphemeral(channel=GENERAL, user=ALEX, text="t", blocks=DUPLICATE),
        lambda: client.chat_update(channel=GENERAL, ts=posted["ts"], text="t", blocks=DUPLICATE),
    ):
        assert refused(call)["error"] == "invalid_blocks"
    token = slack.api.new_response_url(ResponseUrl(ALEX, GENERAL))
    status, error = post(slack, token, {"text": "t", "blocks": DUPLICATE})
    assert (status, error) == (400, "invalid_blocks")
    assert [m.text for m in slack.messages(GENERAL)] == ["first"]
    assert slack.ephemerals(ALEX) == []
    assert slack.calls("response_url")[-1].response["error"] == "invalid_blocks"


def test_message_text_past_40000_characters_is_cut_off_as_slack_does(slack, client):
    client.chat_postMessage(channel=GENERAL, text="w" * 40_001)
    assert slack.messages(GENERAL)[-1].text == "w" * 40_000


# --- views ------------------------------------------------------------------------------------

#: (name, view just past a limit, the pointer Slack names, words of its message, a view at
#: the limit that Slack takes).
VIEW_RULES: list[tuple[str, dict[str, Any], str, str, dict[str, Any]]] = [
    (
        "title over 24",
        modal([section()], title=plain("t" * 25)),
        "/view/title/text",
        "must be less than 25 characters",
        modal([section()], title=plain("t" * 24)),
    ),
    (
        "submit over 24",
        modal([section()], submit=plain("s" * 25)),
        "/view/submit/text",
        "must be less than 25 characters",
        modal([section()], submit=plain("s" * 24)),
    ),
    (
        "close over 24",
        modal([section()], close=plain("c" * 25)),
        "/view/close/text",
        "must be less than 25 characters",
        modal([section()], close=plain("c" * 24)),
    ),
    (
        "inputs without submit",
        modal([text_input()]),
        "/view/submit",
        "must provide `submit`",
        modal([text_input()], submit=plain("Save")),
    ),
    (
        "private_metadata over 3000",
        modal([section()], private_metadata="m" * 3001),
        "/view/private_metadata",
        "must be less than 3001 characters",
        modal([section()], private_metadata="m" * 3000),
    ),
    (
        "callback_id over 255",
        modal([section()], callback_id="c" * 256),
        "/view/callback_id",
        "must be less than 256 characters",
        modal([section()], callback_id="c" * 255),
    ),
    (
        "over 100 blocks",
        modal([{"type": "divider"}] * 101),
        "/view/blocks",
        "no more than 100 items allowed",
        modal([{"type": "divider"}] * 100),
    ),
    (
        "block_id repeated in a view",
        modal([section(block_id="b"), text_input(), section(block_id="b")], submit=plain("Go")),
        "/view/blocks/2/block_id",
        '`block_id` "b" already exists',
        modal([section(block_id="b"), text_input(), section(block_id="c")], submit=plain("Go")),
    ),
    (
        "input max_length over 3000",
        modal([text_input(max_length=3001)], submit=plain("Go")),
        "/view/blocks/0/element/max_length",
        "must be between 1 and 3000",
        modal([text_input(max_length=3000)], submit=plain("Go")),
    ),
    (
        "input max_length 0",
        modal([text_input(max_length=0)], submit=plain("Go")),
        "/view/blocks/0/element/max_length",
        "must be between 1 and 3000",
        modal([text_input(max_length=1)], submit=plain("Go")),
    ),
    (
        "input min_length over 3000",
        modal([text_input(min_length=3001)], submit=plain("Go")),
        "/view/blocks/0/element/min_length",
        "must be between 0 and 3000",
        modal([text_input(min_length=3000)], submit=plain("Go")),
    ),
    (
        "input label over 2000",
        modal([{**text_input(), "label": plain("l" * 2001)}], submit=plain("Go")),
        "/view/blocks/0/label/text",
        "must be less than 2001 characters",
        modal([{**text_input(), "label": plain("l" * 2000)}], submit=plain("Go")),
    ),
    (
        "input hint over 2000",
        modal([{**text_input(), "hint": plain("h" * 2001)}], submit=plain("Go")),
        "/view/blocks/0/hint/text",
        "must be less than 2001 characters",
        modal([{**text_input(), "hint": plain("h" * 2000)}], submit=plain("Go")),
    ),
    (
        "mrkdwn input label",
        modal([{**text_input(), "label": mrkdwn("*l*")}], submit=plain("Go")),
        "/view/blocks/0/label/type",
        "plain_text",
        modal([{**text_input(), "label": plain("l")}], submit=plain("Go")),
    ),
    (
        "action_id repeated in a Home tab's actions block",
        {"type": "home", "blocks": [actions(button("tab"), button("tab"))]},
        "/view/blocks/0/elements/1/action_id",
        '`action_id` "tab" already exists',
        {"type": "home", "blocks": [actions(button("tab_0"), button("tab_1"))]},
    ),
]


@pytest.mark.parametrize(
    ("view", "pointer", "words", "fine"),
    [case[1:] for case in VIEW_RULES],
    ids=[case[0] for case in VIEW_RULES],
)
def test_a_view_past_a_limit_is_refused_with_slacks_pointer(
    slack, client, view, pointer, words, fine
):
    if view["type"] == "home":
        call = lambda payload: client.views_publish(user_id=ALEX, view=payload)  # noqa: E731
    else:
        call = lambda payload: client.views_open(  # noqa: E731
            trigger_id=slack.api.issue_trigger(ALEX), view=payload
        )
    answer = refused(lambda: call(view))
    assert answer["error"] == "invalid_arguments"
    messages = answer["response_metadata"]["messages"]
    matching = [m for m in messages if m.endswith(f"[json-pointer:{pointer}]")]
    assert matching and words in matching[0], messages
    assert slack.modal(ALEX) is None and slack.home(ALEX) is None
    call(fine)
    shown = slack.home(ALEX) if view["type"] == "home" else slack.modal(ALEX)
    assert shown is not None and shown.blocks == fine["blocks"]


def test_a_view_over_250_kb_is_too_large(slack, client):
    sections = [section("s" * 2900)] * 90
    answer = refused(
        lambda: client.views_publish(user_id=ALEX, view={"type": "home", "blocks": sections})
    )
    assert answer["error"] == "view_too_large"
    client.views_publish(user_id=ALEX, view={"type": "home", "blocks": sections[:80]})


# --- the Web API's arguments ------------------------------------------------------------------


def test_a_missing_required_argument_is_invalid_arguments_and_an_empty_one_is_not_found(client):
    answer = refused(lambda: client.api_call("chat.postMessage", json={"text": "hi"}))
    assert answer["error"] == "invalid_arguments"
    assert answer["response_metadata"]["messages"] == ["[ERROR] missing required field: channel"]
    answer = refused(lambda: client.api_call("views.publish", json={"view": {"type": "home"}}))
    assert answer["response_metadata"]["messages"] == ["[ERROR] missing required field: user_id"]
    answer = refused(lambda: client.chat_postMessage(channel="", text="hi"))
    assert answer["error"] == "channel_not_found"
    assert refused(lambda: client.api_call("chat.scheduleMessage"))["error"] == "unknown_method"


def test_update_and_delete_need_the_dms_id_not_the_persons(slack, client):
    posted = client.chat_postMessage(channel=ALEX, text="psst")
    assert posted["channel"].startswith("D")
    for call in (
        lambda: client.chat_update(channel=ALEX, ts=posted["ts"], text="changed"),
        lambda: client.chat_delete(channel=ALEX, ts=posted["ts"]),
    ):
        assert refused(call)["error"] == "channel_not_found"
    assert [m.text for m in slack.dms(ALEX)] == ["psst"]
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="changed")
    assert [m.text for m in slack.dms(ALEX)] == ["changed"]
    client.chat_delete(channel=posted["channel"], ts=posted["ts"])
    assert slack.dms(ALEX) == []


def test_a_trigger_expires_three_seconds_of_the_workspace_clock_after_the_interaction(
    slack, client, clock
):
    almost = slack.api.issue_trigger(ALEX)
    late = slack.api.issue_trigger(ALEX)
    clock.advance(timedelta(seconds=2.999))
    client.views_open(trigger_id=almost, view=modal([section()]))
    clock.advance(timedelta(milliseconds=1))
    answer = refused(lambda: client.views_open(trigger_id=late, view=modal([section()])))
    assert answer["error"] == "expired_trigger_id"


def post(slack: SlackStandIn, token: str, body: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{slack.server.base_url}/respond/{token}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_response_url_takes_five_posts_within_thirty_minutes(slack, clock):
    token = slack.api.new_response_url(ResponseUrl(ALEX, GENERAL))
    for number in range(5):
        assert post(slack, token, {"text": f"post {number}"}) == (200, "ok")
    assert post(slack, token, {"text": "one too many"}) == (404, "used_url")
    fresh = slack.api.new_response_url(ResponseUrl(ALEX, GENERAL))
    clock.advance(timedelta(minutes=29, seconds=59))
    assert post(slack, fresh, {"text": "in time"}) == (200, "ok")
    clock.advance(timedelta(seconds=1))
    assert post(slack, fresh, {"text": "too late"}) == (404, "expired_url")
    assert [m.text for m in slack.ephemerals(ALEX)] == [*(f"post {n}" for n in range(5)), "in time"]


# --- replies Slack reads from the app's acknowledgement ----------------------------------------


@pytest.fixture
def app(slack: SlackStandIn, client: WebClient) -> Iterator[App]:
    yield from bare_app(slack, client)


def test_a_command_reply_slack_refuses_shows_nothing_and_is_recorded(slack, app):
    @app.command("/rules")
    def reply(ack: Ack) -> None:
        ack(text="t", blocks=DUPLICATE)

    slack.command(ALEX, GENERAL, "/rules")
    assert slack.ephemerals(ALEX) == []
    (recorded,) = slack.calls("command_response")
    assert not recorded.ok and recorded.response["error"] == "invalid_blocks"


def test_a_response_action_slack_refuses_leaves_the_modal_and_is_recorded(slack, app, client):
    answers = iter(
        [
            {"response_action": "update", "view": modal([actions(button(), button())])},
            {"response_action": "errors", "errors": {"no_such_block": "Wrong"}},
            {"response_action": "update", "view": modal([section("next")])},
        ]
    )

    @app.view("rules")
    def submitted(ack: Ack) -> None:
        ack(**next(answers))

    form = modal([text_input()], submit=plain("Go"), callback_id="rules")
    client.views_open(trigger_id=slack.api.issue_trigger(ALEX), view=form)
    slack.submit(ALEX, {"typed": "hello"})
    assert slack.modal(ALEX).blocks == form["blocks"]
    slack.submit(ALEX, {"typed": "hello"})
    assert slack.modal(ALEX).blocks == form["blocks"]
    refusals = slack.calls("response_action")
    assert [call.response["error"] for call in refusals] == ["invalid_arguments"] * 2
    assert "already exists" in refusals[0].response["errors"][0]
    assert "no input block 'no_such_block'" in refusals[1].response["errors"][0]
    slack.submit(ALEX, {"typed": "hello"})
    assert slack.modal(ALEX).blocks == [section("next")]
