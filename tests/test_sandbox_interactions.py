"""The stand-in's interactions as a real Bolt app receives them: message shortcuts, Enter in a
dispatching input, select and overflow menus, modal submissions with pickers, and the views
Slack refuses. A tiny app on a tiny manifest, so that none of it hangs on Eddy's own."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.clock import ManualClock
from bot.runtime import WorkPool
from bot.settings import load_settings
from sandbox import BoltTarget, SandboxError, SlackStandIn
from sandbox.console import ConsoleSession, open_sandbox
from tests.conftest import ALEX, GENERAL, KIM, PINNED, ROOT, SAM, SIGNING_SECRET

TINY_MANIFEST = """\
display_information:
  name: Tiny
features:
  bot_user:
    display_name: Tiny
  shortcuts:
    - name: Save to Eddy
      type: message
      callback_id: save_to_eddy
      description: Save this message to the knowledge index
    - name: Ask anywhere
      type: global
      callback_id: ask_anywhere
      description: Ask from the composer
oauth_config:
  scopes:
    bot: [channels:read, chat:write, commands]
settings:
  interactivity:
    is_enabled: true
"""


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": value}


def option(label: str, value: str) -> dict[str, Any]:
    return {"text": text(label), "value": value}


def modal(title: str, blocks: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"type": "modal", "title": text(title), "blocks": blocks, **fields}


def section(words: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": words}}


def field(block_id: str, label: str, dispatch: bool = False, **element: Any) -> dict[str, Any]:
    """An input block around `element`; `dispatch` sends its use at once (dispatch_action)."""
    block = {"type": "input", "block_id": block_id, "label": text(label), "element": element}
    return block | ({"dispatch_action": True} if dispatch else {})


@pytest.fixture
def slack(tmp_path: Path) -> Iterator[SlackStandIn]:
    """A stand-in following the tiny manifest above (not manifest.yml)."""
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(TINY_MANIFEST, encoding="utf-8")
    with SlackStandIn.from_manifest(manifest, signing_secret=SIGNING_SECRET) as stand_in:
        yield stand_in


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
def app(slack: SlackStandIn, client: WebClient) -> Iterator[App]:
    yield from bare_app(slack, client)


def bare_app(slack: SlackStandIn, client: WebClient) -> Iterator[App]:
    """A bare Bolt app wired to the stand-in as Eddy is (listeners run after the ack)."""
    work = WorkPool(max_workers=2)
    app = App(
        client=client,
        signing_secret=SIGNING_SECRET,
        token_verification_enabled=False,
        listener_executor=work,
    )
    slack.connect(BoltTarget(app, work))
    yield app
    work.shutdown(wait=True)


@pytest.fixture
def seen() -> list[dict[str, Any]]:
    """The request bodies the app's listeners received, in order."""
    return []


# --- message shortcuts -----------------------------------------------------------------------


def test_a_message_shortcut_sends_the_message_and_its_trigger_opens_a_modal(slack, app, seen):
    @app.shortcut("save_to_eddy")
    def save(ack, shortcut, client, respond):
        ack()
        seen.append(shortcut)
        client.views_open(
            trigger_id=shortcut["trigger_id"], view=modal("Save to Eddy", [section("Saving")])
        )
        respond("Saving that message for you.")

    parent = slack.say(ALEX, GENERAL, "How do I reset my VPN password?")
    reply = slack.say(KIM, GENERAL, "Use the self-service portal.", thread_ts=parent.ts)
    delivery = slack.shortcut(SAM, reply, "save_to_eddy")

    assert delivery.status == 200
    (payload,) = seen
    assert payload["type"] == "message_action"
    assert payload["callback_id"] == "save_to_eddy"
    assert payload["user"]["id"] == SAM
    assert payload["team"]["id"] == slack.workspace.team_id
    assert payload["channel"] == {"id": GENERAL, "name": "general"}
    assert payload["message_ts"] == reply.ts
    message = payload["message"]
    assert (message["user"], message["ts"], message["text"]) == (KIM, reply.ts, reply.text)
    assert message["thread_ts"] == parent.ts
    assert payload["action_ts"] and payload["response_url"].startswith(slack.server.base_url)
    assert slack.modal(SAM).title() == "Save to Eddy"
    assert slack.ephemerals(SAM)[-1].text == "Saving that message for you."
    assert slack.ephemerals(SAM)[-1].channel == GENERAL


def test_only_declared_message_shortcuts_run_and_only_on_a_message_one_can_see(slack, app, seen):
    @app.shortcut("save_to_eddy")
    def save(ack, shortcut):
        ack()
        seen.append(shortcut)

    posted = slack.say(ALEX, GENERAL, "Where is the expense policy?")
    with pytest.raises(SandboxError, match="global shortcut"):
        slack.shortcut(ALEX, posted, "ask_anywhere")
    with pytest.raises(SandboxError, match="not a message shortcut"):
        slack.shortcut(ALEX, posted, "karma")
    private = slack.say(KIM, slack.workspace.im_with(KIM).id, "just between Eddy and me")
    with pytest.raises(SandboxError, match="cannot see"):
        slack.shortcut(ALEX, private, "save_to_eddy")
    slack.api.post_as_bot(GENERAL, "only Alex sees this", [], ephemeral_to=ALEX)
    with pytest.raises(SandboxError, match="no shortcuts"):
        slack.shortcut(ALEX, slack.ephemerals(ALEX)[-1], "save_to_eddy")
    assert seen == []

    slack.shortcut(KIM, private, "save_to_eddy")
    assert seen[-1]["channel"]["name"] == "directmessage"


# --- Enter in a dispatching input --------------------------------------------------------------


def search_home() -> dict[str, Any]:
    """A Home tab with a search box sent on Enter, one sent on every character, and a plain
    input that waits for a submission."""
    live = {"trigger_actions_on": ["on_character_entered"]}
    blocks = [
        field("search_block", "Search", True, type="plain_text_input", action_id="search"),
        field(
            "live_block",
            "Live",
            True,
            type="plain_text_input",
            action_id="live",
            dispatch_action_config=live,
        ),
        field("note_block", "Note", type="plain_text_input", action_id="note", initial_value="hi"),
    ]
    return {"type": "home", "blocks": blocks}


def test_enter_in_a_dispatching_input_sends_the_typed_text_with_the_view_state(
    slack, app, client, seen
):
    @app.action("search")
    def search(ack, body):
        ack()
        seen.append(body)

    client.views_publish(user_id=ALEX, view=search_home())
    home = slack.home(ALEX)
    slack.enter(ALEX, home, "search", "vpn reset")

    (body,) = seen
    assert body["type"] == "block_actions"
    action = body["actions"][0]
    assert {k: action[k] for k in ("type", "action_id", "block_id", "value")} == {
        "type": "plain_text_input",
        "action_id": "search",
        "block_id": "search_block",
        "value": "vpn reset",
    }
    assert action["action_ts"]
    assert body["container"] == {"type": "view", "view_id": home.id}
    values = body["view"]["state"]["values"]
    assert values["search_block"]["search"] == {"type": "plain_text_input", "value": "vpn reset"}
    assert values["note_block"]["note"] == {"type": "plain_text_input", "value": "hi"}


def test_enter_where_nothing_dispatches_is_refused(slack, app, client):
    client.views_publish(user_id=ALEX, view=search_home())
    home = slack.home(ALEX)
    with pytest.raises(SandboxError, match="sends nothing"):
        slack.enter(ALEX, home, "note", "hello")
    with pytest.raises(SandboxError, match="sends nothing"):
        slack.enter(ALEX, home, "live", "hello")
    with pytest.raises(SandboxError, match="no plain_text_input"):
        slack.enter(ALEX, home, "missing", "hello")
    with pytest.raises(SandboxError, match="not on sam's screen"):
        slack.enter(SAM, home, "search", "hello")


# --- select and overflow menus ----------------------------------------------------------------


def test_choosing_in_a_static_select_and_an_overflow_menu_on_a_message(slack, app, client, seen):
    @app.action("topic")
    def topic(ack, body, respond):
        ack()
        seen.append(body)
        respond(text=f"Topic: {body['actions'][0]['selected_option']['value']}")

    @app.action("more")
    def more(ack, body):
        ack()
        seen.append(body)

    select = {
        "type": "static_select",
        "action_id": "topic",
        "placeholder": text("Pick a topic"),
        "option_groups": [
            {"label": text("IT"), "options": [option("VPN", "vpn"), option("Laptops", "laptop")]},
            {"label": text("People"), "options": [option("Leave", "leave")]},
        ],
    }
    overflow = {
        "type": "overflow",
        "action_id": "more",
        "options": [option("Edit", "edit"), {**option("Help", "help"), "url": "https://x.dev"}],
    }
    blocks = [
        {**section("What is it about?"), "block_id": "ask", "accessory": select},
        {"type": "actions", "block_id": "tools", "elements": [overflow]},
    ]
    client.chat_postMessage(channel=GENERAL, text="What is it about?", blocks=blocks)
    message = slack.messages(GENERAL)[-1]

    slack.choose(ALEX, message, "more", "Help")  # by its label, as a person sees it
    with pytest.raises(SandboxError, match="no option"):
        slack.choose(ALEX, message, "more", "nope")
    slack.choose(ALEX, message, "topic", "laptop")

    overflowed, picked = seen
    action = picked["actions"][0]
    assert action["type"] == "static_select" and action["block_id"] == "ask"
    assert action["selected_option"] == {"text": text("Laptops"), "value": "laptop"}
    assert action["placeholder"] == text("Pick a topic")
    assert picked["container"]["type"] == "message"
    assert picked["container"]["message_ts"] == message.ts
    assert picked["channel"]["id"] == GENERAL
    assert slack.messages(GENERAL)[-1].text == "Topic: laptop"  # replaced, as for a button
    action = overflowed["actions"][0]
    assert action["type"] == "overflow" and action["block_id"] == "tools"
    assert action["selected_option"] == {**option("Help", "help"), "url": "https://x.dev"}


def test_choosing_in_a_view_keeps_the_pick_in_its_state(slack, app, client, seen):
    @app.action("team")
    @app.action("kind")
    def picked(ack, body):
        ack()
        seen.append(body)

    teams = {"type": "static_select", "action_id": "team", "options": [option("HR", "hr")]}
    kinds = [option("Help", "help"), option("Learn", "learn")]
    blocks = [
        {"type": "actions", "block_id": "picker", "elements": [teams]},
        field("why", "Kind", True, type="static_select", action_id="kind", options=kinds),
    ]
    view = modal("Join a team", blocks, submit=text("Join"))
    client.views_open(trigger_id=slack.api.issue_trigger(ALEX), view=view)
    opened = slack.modal(ALEX)
    slack.choose(ALEX, opened, "team", "hr")
    slack.choose(ALEX, opened, "kind", "learn")  # an input with dispatch_action sends it too

    team, kind = seen
    assert team["actions"][0]["selected_option"] == option("HR", "hr")
    assert team["container"] == {"type": "view", "view_id": opened.id}
    assert kind["actions"][0]["block_id"] == "why"
    assert kind["view"]["state"]["values"]["why"]["kind"]["selected_option"]["value"] == "learn"


# --- modal submissions ------------------------------------------------------------------------


def schedule_modal() -> dict[str, Any]:
    days = [option("Mon", "mon"), option("Tue", "tue"), option("Wed", "wed")]
    languages = [
        {"label": text("Europe"), "options": [option("Deutsch", "de")]},
        {"label": text("Asia"), "options": [option("日本語", "ja")]},
    ]
    tags = [{"label": text("All"), "options": [option("VPN", "vpn"), option("Mail", "mail")]}]
    blocks = [
        field("when", "When", type="timepicker", action_id="time", initial_time="09:00"),
        field("who", "Who", type="multi_users_select", action_id="people"),
        field("lead", "Lead", type="users_select", action_id="lead", initial_user=ALEX),
        field(
            "where",
            "Where",
            type="conversations_select",
            action_id="channel",
            initial_conversation=GENERAL,
        ),
        field("days", "Days", type="checkboxes", action_id="days", options=days),
        field("lang", "Language", type="static_select", action_id="lang", option_groups=languages),
        field("tags", "Tags", type="multi_static_select", action_id="tags", option_groups=tags),
        field("title", "Title", type="plain_text_input", action_id="title", initial_value="Tip"),
    ]
    return modal("Schedule a lesson", blocks, callback_id="schedule", submit=text("Schedule"))


def test_a_submission_carries_times_people_conversations_and_options(slack, app, client, seen):
    @app.view("schedule")
    def schedule(ack, body):
        ack()
        seen.append(body)

    client.views_open(trigger_id=slack.api.issue_trigger(ALEX), view=schedule_modal())
    slack.submit(
        ALEX,
        {
            "time": "14:30",
            "who": [SAM, KIM],
            "days": ["mon", "wed"],
            "lang": "ja",
            "tags": ["mail"],
        },
    )

    (body,) = seen
    assert body["type"] == "view_submission"
    values = body["view"]["state"]["values"]
    assert values["when"]["time"] == {"type": "timepicker", "selected_time": "14:30"}
    assert values["who"]["people"] == {"type": "multi_users_select", "selected_users": [SAM, KIM]}
    assert values["lead"]["lead"] == {"type": "users_select", "selected_user": ALEX}
    assert values["where"]["channel"] == {
        "type": "conversations_select",
        "selected_conversation": GENERAL,
    }
    assert [o["value"] for o in values["days"]["days"]["selected_options"]] == ["mon", "wed"]
    assert values["lang"]["lang"]["selected_option"] == option("日本語", "ja")
    assert values["tags"]["tags"]["selected_options"] == [option("Mail", "mail")]
    assert values["title"]["title"] == {"type": "plain_text_input", "value": "Tip"}
    assert slack.modal(ALEX) is None


def test_initial_values_are_submitted_and_impossible_ones_refused(slack, app, client, seen):
    @app.view("schedule")
    def schedule(ack, body):
        ack()
        seen.append(body)

    client.views_open(trigger_id=slack.api.issue_trigger(ALEX), view=schedule_modal())
    with pytest.raises(SandboxError, match="09:30"):
        slack.submit(ALEX, {"time": "2pm"})
    with pytest.raises(SandboxError, match="no option"):
        slack.submit(ALEX, {"lang": "fr"})
    assert seen == []
    slack.submit(ALEX)
    values = seen[0]["view"]["state"]["values"]
    assert values["when"]["time"]["selected_time"] == "09:00"
    assert values["who"]["people"]["selected_users"] == []
    assert values["lang"]["lang"]["selected_option"] is None


def test_a_modal_answered_with_errors_keeps_what_was_typed(slack, app, client, seen):
    @app.view("schedule")
    def schedule(ack, body):
        seen.append(body)
        if len(seen) == 1:
            ack(response_action="errors", errors={"who": "Pick at least two people"})
        else:
            ack()

    client.views_open(trigger_id=slack.api.issue_trigger(ALEX), view=schedule_modal())
    slack.submit(ALEX, {"time": "16:00", "who": [SAM]})
    assert slack.modal(ALEX) is not None
    slack.submit(ALEX, {"who": [SAM, KIM]})
    values = seen[1]["view"]["state"]["values"]
    assert values["when"]["time"]["selected_time"] == "16:00"
    assert values["who"]["people"]["selected_users"] == [SAM, KIM]
    assert slack.modal(ALEX) is None


# --- views Slack refuses ----------------------------------------------------------------------


def refusal(call: Callable[[], Any]) -> list[str]:
    """The messages of the `invalid_arguments` Slack answers `call` with."""
    with pytest.raises(SlackApiError) as raised:
        call()
    assert raised.value.response["error"] == "invalid_arguments"
    errors = raised.value.response["errors"]
    assert raised.value.response["response_metadata"]["messages"] == errors
    return errors


def test_views_slack_refuses_are_refused(slack, client):
    hundred = [{"type": "divider"}] * 100
    client.views_publish(user_id=ALEX, view={"type": "home", "blocks": hundred})

    errors = refusal(
        lambda: client.views_publish(
            user_id=ALEX, view={"type": "home", "blocks": [*hundred, section("x")]}
        )
    )
    assert errors == ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"]
    errors = refusal(
        lambda: client.views_open(
            trigger_id=slack.api.issue_trigger(ALEX),
            view=modal("A title of twenty-five ch", [section("x")], private_metadata="x" * 3001),
        )
    )
    assert "[json-pointer:/view/title/text]" in errors[-1]
    assert "[json-pointer:/view/private_metadata]" in errors[0]
    opened = client.views_open(
        trigger_id=slack.api.issue_trigger(ALEX), view=modal("Fine", [section("x")])
    )["view"]
    errors = refusal(
        lambda: client.views_update(view_id=opened["id"], view=modal("Fine", [section("x" * 3001)]))
    )
    assert errors == [
        "[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]"
    ]
    errors = refusal(
        lambda: client.views_update(
            view_id=opened["id"],
            view={"type": "home", "blocks": [section("x")], "submit": text("Go")},
        )
    )
    assert "home view cannot have submit and close" in errors[0]
    assert slack.home(ALEX).blocks == hundred
    assert slack.modal(ALEX).blocks == [section("x")]


# --- the console ------------------------------------------------------------------------------


def test_the_console_runs_a_message_shortcut_on_a_numbered_message(tmp_path):
    settings = load_settings(env_file=None, eddy_content_dir=ROOT / "content")
    with open_sandbox(
        settings, database_url=f"sqlite:///{tmp_path / 'sandbox.db'}", clock=ManualClock(PINNED)
    ) as sandbox:
        slack = sandbox.slack
        slack.manifest = dataclasses.replace(
            slack.manifest, message_shortcuts=frozenset({"sandbox_probe"})
        )

        @sandbox.app.shortcut("sandbox_probe")
        def probe(ack, shortcut, client):
            ack()
            words = shortcut["message"]["text"]
            client.views_open(
                trigger_id=shortcut["trigger_id"], view=modal("Probe", [section(words)])
            )

        screen = io.StringIO()
        console = Console(file=screen, width=100, color_system=None, force_terminal=False)
        session = ConsoleSession(sandbox, console=console)
        for line in ("help", "the printer on 3 is jammed again", "shortcut m1", "shortcut m1 nope"):
            session.handle(line)

    shown = screen.getvalue()
    assert "shortcut m3 [name]" in shown
    assert "Probe" in shown and "the printer on 3 is jammed again" in shown
    assert "nope is not a message shortcut of this app" in shown
