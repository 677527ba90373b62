"""Reminders of unanswered lessons and paused lessons, as people see them: a short DM that
links to the waiting lesson (and mentions a streak about to break), a DM with Resume when
lessons pause, and the managers' list of who is paused and why (bot/lesson_reminders.py says
when each happens)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock, Block

from bot import lesson_reminders, lessons
from bot.lesson_reminders import LessonReminder, LessonReminders, LessonsPaused, PausedLearner
from bot.runtime import Runtime
from bot.text import plural
from handlers.blocks import as_dicts, button, context, escape, link, mention, section, when
from handlers.values import answer_presser, presser

log = logging.getLogger(__name__)

RESUME = "lessons_resume"
#: The message metadata a reminder carries (its lesson's delivery and which reminder it is),
#: as a lesson message carries `eddy_lesson`: what was sent can be told from Slack alone
#: (bench/lesson_fanout.py counts reminders by it).
REMINDER_METADATA_TYPE = "eddy_lesson_reminder"
#: Paused learners the console lists by name (the rest are counted).
PAUSED_SHOWN = 10


def register(app: App, runtime: Runtime, client: WebClient) -> None:
    app.action(RESUME)(on_resume)
    runtime.listen(LessonReminders, lambda notice: remind_all(runtime, client, notice))
    runtime.listen(LessonsPaused, lambda notice: tell_paused(client, notice))


def remind_all(runtime: Runtime, client: WebClient, batch: LessonReminders) -> None:
    """Send a batch of reminders; keep those Slack took, each with when it took it."""
    sent = []
    for notice in batch.reminders:
        if remind(client, notice):
            sent.append((notice, runtime.clock.now()))
    lesson_reminders.reminded(runtime, sent)


def remind(client: WebClient, notice: LessonReminder) -> bool:
    """The reminder DM: which lesson waits, a link to it, and the streak at stake; False
    when Slack refused it."""
    lesson = f"*{escape(notice.lesson_title)}* ({escape(notice.path_title)})"
    where = _permalink(client, notice.channel, notice.ts)
    text = f"Your lesson {link(where, 'from earlier today') if where else 'from earlier today'}"
    text += f", {lesson}, is still waiting: it takes a minute or two."
    if notice.streak:
        text += f" Do it today to keep your {notice.streak}-day streak going."
    metadata = {
        "event_type": REMINDER_METADATA_TYPE,
        "event_payload": {"delivery_id": notice.delivery_id, "step": notice.step},
    }
    return _post(client, notice.user_id, text, [section(text)], metadata=metadata)


def tell_paused(client: WebClient, notice: LessonsPaused) -> None:
    text = (
        f"I've paused your lessons: {escape(notice.reason)}, and I'd rather not pile more up. "
        "Nothing new arrives until you resume; your progress and streak records are kept."
    )
    blocks: list[Block] = [
        section(text),
        ActionsBlock(elements=[button("Resume lessons", RESUME, "resume", style="primary")]),
        context("`/learn next` also resumes them, with the next lesson now."),
    ]
    _post(client, notice.user_id, text, blocks)


def _permalink(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    if not channel or not ts:
        return None
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
    except SlackApiError as error:
        log.info("No link to lesson message %s: %s", ts, error.response.get("error"))
        return None


def _post(
    client: WebClient,
    user_id: str,
    text: str,
    blocks: list[Block],
    *,
    metadata: dict[str, Any] | None = None,
) -> bool:
    """Post to the person's DM; False (logged) when Slack refused."""
    try:
        client.chat_postMessage(
            channel=user_id, text=text, blocks=as_dicts(blocks), metadata=metadata
        )
    except SlackApiError as error:
        log.warning(
            "Could not message %s about their lessons: %s", user_id, error.response.get("error")
        )
        return False
    return True


def on_resume(ack: Ack, body: dict[str, Any], respond: Respond, runtime: Runtime) -> None:
    """Resume lessons: only ever the presser's own (the button names nobody)."""
    ack()
    user = presser(body)
    now = runtime.clock.now()
    if not lesson_reminders.resume(runtime, user, now=now):
        answer_presser(runtime, body, respond, "Your lessons are not paused.")
        return
    schedule, _ = lessons.schedule_of(runtime, user, tz="")
    text = (
        f"Lessons resumed: they come {schedule.describe()}, from your next lesson day. "
        "`/learn next` sends one now."
    )
    if respond is not None and respond.response_url:
        respond(replace_original=True, text=text, blocks=as_dicts([section(text)]))
    else:
        answer_presser(runtime, body, respond, text)


def paused_blocks(paused: list[PausedLearner]) -> list[Block]:
    """The managers' console: who is paused and why (empty when nobody is)."""
    if not paused:
        return []
    lines = [
        f"• {mention(each.user_id)}: {escape(each.reason)}"
        + (f" · since {when(each.since)}" if each.since else "")
        for each in paused[:PAUSED_SHOWN]
    ]
    more = len(paused) - PAUSED_SHOWN
    if more > 0:
        lines.append(f"…and {plural(more, 'more learner')}.")
    return [
        section(
            f"*Paused learners* ({len(paused)}): their lessons wait until they press Resume "
            "or answer one.\n" + "\n".join(lines)
        )
    ]
