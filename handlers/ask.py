"""Ask: `/ask`, @Eddy in a channel, a DM to Eddy, and the Ask modal (opened from App Home)."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Say
from slack_sdk import WebClient
from slack_sdk.models.blocks import InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from handlers.blocks import escape, neutralise, notice, shorten
from handlers.slash import MAX_TEXT, SlashCommand

ASK = SlashCommand(
    "/ask",
    "Ask Eddy a question in your own words; Eddy answers from your company's knowledge index.",
    ("/ask <question>", "/ask help"),
    needs_text=True,
)
OPEN_ASK_MODAL = "ask_open_modal"
ASK_MODAL = "ask_modal"
QUESTION_BLOCK = "ask_question"
QUESTION_INPUT = "question"
MENTION_HELP = "Ask me a question after the mention, e.g. `@Eddy how do I reset my VPN password?`"
LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(\|[^>]*)?>[\s:,]*")


def register(app: App) -> None:
    app.command(ASK.name)(on_ask_command)
    app.event("app_mention")(on_mention)
    app.event("message")(on_direct_message)
    app.action(OPEN_ASK_MODAL)(on_open_ask_modal)
    app.view(ASK_MODAL)(on_ask_modal_submitted)


def answer(question: str) -> dict[str, Any]:
    """The reply to a question (text and blocks), wherever it was asked.

    `question` is Slack-escaped text, as messages and commands deliver it."""
    text = (
        f"You asked: “{neutralise(shorten(question, 300))}”\n"
        "I can't answer questions yet: this Eddy has no knowledge index loaded."
    )
    return {"text": text, "blocks": notice(text)}


def on_ask_command(ack: Ack, command: dict[str, Any]) -> None:
    """Answer `/ask <question>` ephemerally, in the ack itself (well within Slack's 3 s)."""
    text = command.get("text", "")
    ack(**(ASK.screen(text) or answer(text.strip())))


def on_mention(event: dict[str, Any], say: Say) -> None:
    """Answer `@Eddy <question>` in the thread of the mention."""
    question = LEADING_MENTION.sub("", event.get("text", "")).strip()
    thread = event.get("thread_ts") or event["ts"]
    reply = ASK.screen(question)
    if reply is not None or not question:
        say(text=MENTION_HELP, thread_ts=thread)
        return
    say(**answer(question), thread_ts=thread)


def on_direct_message(event: dict[str, Any], say: Say) -> None:
    """Answer a question sent to Eddy as a DM; other message events are not for Eddy."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    question = event.get("text", "").strip()
    say(**(ASK.screen(question) or answer(question)))


def ask_modal() -> View:
    return View(
        type="modal",
        callback_id=ASK_MODAL,
        title="Ask Eddy",
        submit="Ask",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=QUESTION_BLOCK,
                label="Your question",
                element=PlainTextInputElement(
                    action_id=QUESTION_INPUT,
                    placeholder="e.g. How do I reset my VPN password?",
                    max_length=MAX_TEXT,
                ),
            )
        ],
    )


def on_open_ask_modal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=ask_modal())


def on_ask_modal_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
) -> None:
    """Close the modal and answer by DM, where the answer stays findable."""
    values = view["state"]["values"]
    question = (values[QUESTION_BLOCK][QUESTION_INPUT].get("value") or "").strip()
    if not question:
        ack(response_action="errors", errors={QUESTION_BLOCK: "Type a question first."})
        return
    ack()
    client.chat_postMessage(channel=body["user"]["id"], **answer(escape(question)))
