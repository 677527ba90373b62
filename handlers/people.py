"""Who people are, as Slack says (users.info), remembered in `runtime.people`.

found = person(runtime, client, "U0ALEX001")   # None: Slack knows no such person
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.people import FORMER_MEMBER, Person, is_former_member
from bot.runtime import Runtime

log = logging.getLogger(__name__)


class LookUpError(Exception):
    """Slack could not say who someone is right now (not "no such person")."""


def person(runtime: Runtime, client: WebClient, user_id: str) -> Person | None:
    """Who `user_id` is (None: Slack knows no such person); raises LookUpError when Slack
    cannot answer now, so that nothing is decided on a guess."""

    def look_up(wanted: str) -> Person | None:
        try:
            user = client.users_info(user=wanted)["user"]
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "user_not_visible"):
                return None
            raise LookUpError(str(error.response.get("error"))) from error
        except OSError as error:
            raise LookUpError(str(error)) from error
        return person_from_slack(user)

    return runtime.people.get(user_id, look_up=look_up)


def person_from_slack(user: dict[str, Any]) -> Person:
    """A Person from Slack's user object (users.info, or a `user_change` event)."""
    return Person(
        id=str(user["id"]),
        tz=str(user.get("tz") or "UTC"),
        is_bot=bool(user.get("is_bot")),
        active=not user.get("deleted"),
        is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        single_channel_guest=bool(user.get("is_ultra_restricted")),
        name=str(
            (user.get("profile") or {}).get("real_name")
            or user.get("real_name")
            or user.get("name")
            or user["id"]
        ),
    )


def name_of(runtime: Runtime, client: WebClient, user_id: str | None) -> str | None:
    """Someone's name as people know it, to show where a `<@U…>` mention would notify them
    (an entry's owner, every time their entry answers someone): "former member" for someone
    Eddy was asked to forget; None when there is nobody, or Slack cannot say right now."""
    if not user_id:
        return None
    if is_former_member(user_id):
        return FORMER_MEMBER
    try:
        found = person(runtime, client, user_id)
    except LookUpError:
        log.warning("Could not look up %s to show their name", user_id)
        return None
    return found.name if found is not None and found.name else None
