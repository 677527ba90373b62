"""The last word when a listener fails: the traceback goes to the log, a kind sentence to the
person who was waiting (never the exception text)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

log = logging.getLogger(__name__)
APOLOGY = (
    "Sorry, something went wrong on Eddy's side and I couldn't finish that. "
    "It has been logged for the people who run Eddy; please try again in a moment."
)


def apologise(error: Exception, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    log.error("Unhandled error while handling %s", describe(body), exc_info=error)
    try:
        if body.get("response_url") or body.get("response_urls"):
            respond(text=APOLOGY, response_type="ephemeral", replace_original=False)
            return
        event = body.get("event") or {}
        user = event.get("user") or (body.get("user") or {}).get("id")
        channel = event.get("channel")
        if user and channel:
            client.chat_postEphemeral(channel=channel, user=user, text=APOLOGY)
        elif user:
            client.chat_postMessage(channel=user, text=APOLOGY)
    except Exception:
        log.exception("Could not tell the person that their request failed")


def describe(body: dict[str, Any]) -> str:
    """A short, log-friendly name for a request (no message text, which may be private)."""
    if "command" in body:
        return f"command {body['command']}"
    if body.get("type") == "event_callback":
        return f"event {(body.get('event') or {}).get('type')} ({body.get('event_id')})"
    actions = body.get("actions") or []
    if actions:
        return f"action {actions[0].get('action_id')}"
    view = body.get("view") or {}
    return f"{body.get('type', 'request')} {view.get('callback_id', '')}".strip()


RETIRED_BUTTON = (
    "That button belongs to an older Eddy message and no longer does anything. "
    "Try the command again for a fresh one."
)


def register(app: App) -> None:
    """Registered after every capability: catches what none of them claimed."""
    app.action(re.compile(".*"))(on_retired_action)


def on_retired_action(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
    """A button nobody handles (an old message, a removed feature): say so instead of failing."""
    ack()
    log.info("No listener for %s; telling the person it is retired", describe(body))
    if body.get("response_url"):
        respond(text=RETIRED_BUTTON, response_type="ephemeral", replace_original=False)
    else:
        client.chat_postMessage(channel=body["user"]["id"], text=RETIRED_BUTTON)
