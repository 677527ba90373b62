"""Forwarding learning records to a Learning Record Store (EDDY_LRS_URL), through the outbox.

Statements are queued in the database (store/lrs.py) before anything is sent, and leave the
outbox only when the LRS has them: an LRS outage, a crash or a restart loses nothing, and the
stable statement ids (bot/xapi.py) mean nothing is stored twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.people import is_former_member
from bot.xapi import EDDY_ACCOUNT
from store import Store
from store import lrs as outbox


def actor_of(statement: dict[str, Any]) -> str | None:
    """The user ID a statement is by (None for Eddy's own, such as voiding on erasure)."""
    name = statement.get("actor", {}).get("account", {}).get("name")
    return name if isinstance(name, str) and name != EDDY_ACCOUNT else None


def queue(store: Store, team_id: str, statements: list[dict[str, Any]], at: datetime) -> int:
    """Put statements in the outbox (those already there by id are left alone); how many
    were new."""
    queued: list[outbox.Queued] = [
        (found["id"], actor_of(found), found, datetime.fromisoformat(found["timestamp"]))
        for found in statements
        if not is_former_member(actor_of(found))
    ]
    with store.session() as session:
        return outbox.enqueue(session, team_id=team_id, statements=queued, at=at)
