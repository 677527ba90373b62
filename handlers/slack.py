"""Sending Slack messages, for every capability: a direct message that one refusing
recipient never turns into a failure for the others.

    post = dm(client, "U1", {"text": "Hello"})   # the Post, or None (logged) if Slack refused
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.networks import Post
from bot.people import is_former_member

log = logging.getLogger(__name__)


def dm(client: WebClient, user: str, message: dict[str, Any], **extra: Any) -> Post | None:
    """Message someone directly; None (logged) when Slack refuses, so one bad recipient never
    stops the others. A former member (a pseudonym) is nobody to message: None."""
    if is_former_member(user):
        return None
    try:
        sent = client.chat_postMessage(channel=user, **message, **extra)
    except SlackApiError as error:
        log.warning("Could not message %s: %s", user, error.response.get("error"))
        return None
    return Post(sent["channel"], sent["ts"], user)
