"""A person's own data, from Slack: `/learn me export` DMs them everything Eddy keeps about
them as a JSON file (bot/privacy.py gathers it), and says so where they typed it.

Only the person who types it gets their export, and only their own: the command takes no
name, so nobody can ask for someone else's. Erasure is for the operator (`app.py forget
user`), who can check the request first. No listener of its own: `/learn` (handlers/lessons.py)
hands `me export` over.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Any

from slack_bolt import Ack
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import privacy
from bot.runtime import Runtime
from bot.text import plural
from handlers.blocks import notice, when

log = logging.getLogger(__name__)

#: `/learn me <word>` for the export.
EXPORT_WORD = "export"
FILE_TITLE = "Everything Eddy keeps about you"
ON_ITS_WAY = (
    "I'm gathering everything Eddy keeps about you. It arrives as a JSON file in your DM with "
    "Eddy in a moment."
)
WITH_THE_FILE = (
    "Here's everything Eddy keeps about you, as JSON: your questions, the questions you sent "
    "to the experts or answered, entries you keep or proposed, your lessons and quiz results, "
    "points, badges and expertise, and your learning records (xAPI). Only you got this file. "
    "To have it erased, ask whoever runs Eddy for your workspace."
)


def on_export(ack: Ack, runtime: Runtime, client: WebClient, command: dict[str, Any]) -> None:
    """`/learn me export`: acknowledge at once (gathering can take a moment), then DM the
    file; if Slack refuses, say so where the person typed the command."""
    user = command["user_id"]
    now = runtime.clock.now()
    last = privacy.claim_export(runtime, user, now)
    if last is not None:
        text = repeat_answer(last, now)
        ack(text=text, blocks=notice(text))
        return
    ack(text=ON_ITS_WAY, blocks=notice(ON_ITS_WAY))
    try:
        send_export(runtime, client, user, now)
        privacy.export_sent(runtime, user, runtime.clock.now())
    except SlackClientError as error:  # refused (an API error), or the upload failed
        privacy.release_export(runtime, user)
        reason = error.response.get("error") if isinstance(error, SlackApiError) else None
        log.warning("Could not send %s their data export: %s", user, reason or error)
        said = f" (Slack said `{reason}`)" if reason else ""
        text = (
            f"I couldn't send you the file{said}. Check that you allow messages from apps, "
            "then try `/learn me export` again."
        )
        Respond(response_url=command.get("response_url"))(
            text=text, blocks=notice(text), response_type="ephemeral", replace_original=False
        )


def repeat_answer(last: privacy.ExportTurn, now: datetime) -> str:
    """What a repeat `/learn me export` is told: the last export is still on its way, or it
    arrived (when, and where), and when a new one may be asked for."""
    minutes = max(1, math.ceil((last.again_at - now).total_seconds() / 60))
    again = f"You can ask for a new one in {plural(minutes, 'minute')}"
    if last.sent_at is None:
        return f"Your export is still on its way to your DM with Eddy. {again}."
    return (
        f"I sent your export {when(last.sent_at)}: it's the JSON file in your DM with Eddy. "
        f"{again} (after {when(last.again_at)})."
    )


def send_export(runtime: Runtime, client: WebClient, user: str, now: datetime) -> None:
    """Upload the person's export into their DM with Eddy (files_upload_v2 needs the DM's
    channel ID, which conversations.open gives)."""
    document = privacy.export_person(runtime.store, runtime.team_id, user, now=now)
    channel = client.conversations_open(users=user)["channel"]["id"]
    client.files_upload_v2(
        channel=channel,
        filename=privacy.export_filename(user, now),
        title=FILE_TITLE,
        content=privacy.as_json(document),
        initial_comment=WITH_THE_FILE,
    )
