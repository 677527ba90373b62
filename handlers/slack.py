"""Sending Slack messages, for every capability, each helper written once: a direct message
and a reply in a thread that one refusing recipient never turns into a failure for the
others, a note only one person sees, and the answer to a slash command.

    post = dm(client, "U1", "Hello")            # the Post, or None (logged) if Slack refused
    post_in_thread(client, post, "And more")    # the reply's Post, or None (logged)
    ephemeral(client, channel, "U1", "Done.")   # in their DM when Slack can't show it there
    reply(ack, "Scheduled.")                    # a slash command's answer, only they see it
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.networks import Post
from bot.people import is_former_member
from handlers.blocks import as_dicts, section

log = logging.getLogger(__name__)


def as_message(text: str) -> dict[str, Any]:
    """A message of one mrkdwn section, with `text` as its notification fallback too."""
    return {"text": text, "blocks": as_dicts([section(text)])}


def dm(client: WebClient, user: str, message: dict[str, Any] | str, **extra: Any) -> Post | None:
    """Message someone directly (`message` is text, or a message's arguments); None (logged)
    when Slack refuses, so one bad recipient never stops the others. A former member (a
    pseudonym) is nobody to message: None."""
    if is_former_member(user):
        return None
    arguments = as_message(message) if isinstance(message, str) else message
    try:
        sent = client.chat_postMessage(channel=user, **arguments, **extra)
    except SlackApiError as error:
        log.warning("Could not message %s: %s", user, error.response.get("error"))
        return None
    return Post(sent["channel"], sent["ts"], user)


def post_in_thread(client: WebClient, post: Post, text: str, **extra: Any) -> Post | None:
    """Reply in a post's thread: the reply (None, logged, when Slack refuses, so whoever is
    told it arrived hears the truth)."""
    try:
        sent = client.chat_postMessage(channel=post.channel, thread_ts=post.ts, text=text, **extra)
    except SlackApiError as error:
        log.warning("Could not reply in %s: %s", post.channel, error.response.get("error"))
        return None
    return Post(sent["channel"], sent["ts"], post.recipient)


def ephemeral(client: WebClient, channel: str, user: str, text: str) -> None:
    """A note only `user` sees where they acted; in their DM with Eddy when Slack cannot show
    it there (no channel, or they are not in it)."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, **as_message(text))
            return
        except SlackApiError as error:
            log.info(
                "Could not show %s a note in %s: %s", user, channel, error.response.get("error")
            )
    dm(client, user, text)


def reply(ack: Ack, text: str, *extra: Block) -> None:
    """Answer a slash command (only the person who typed it sees the answer)."""
    ack(text=text, blocks=as_dicts([section(text), *extra]))


def channel_problem(
    client: WebClient,
    channel: str,
    *,
    then: str,
    plain: bool = False,
    not_a_dm: str | None = None,
) -> str | None:
    """Why Eddy cannot work in a channel (it cannot see it, it is archived, Eddy is not in
    it, or it is a DM where `not_a_dm` says why not), or None when it can: mrkdwn that links
    the channel, or (`plain`) plain text for a modal's errors. `then` says what to do once
    Eddy is invited ("schedule again")."""
    where = "that channel" if plain else f"<#{channel}>"
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        said = error.response.get("error")
        return f"I can't see {where} (Slack says {said}): if it's private, invite @Eddy first."
    is_dm = bool(info.get("is_im") or info.get("is_mpim"))
    if is_dm and not_a_dm is not None:
        return not_a_dm
    if info.get("is_archived"):
        return f"{'That channel' if plain else where} is archived."
    if not info.get("is_member") and not is_dm:
        return f"I'm not in {where} yet: invite me with /invite @Eddy there, then {then}."
    return None
