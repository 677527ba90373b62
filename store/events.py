"""Slack events already handled, so that a retried delivery (same `event_id`) runs once."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, col

from store.base import TeamKeyed, utc_field


class ProcessedEvent(TeamKeyed, table=True):
    __tablename__ = "processed_event"

    event_id: str = Field(max_length=64, primary_key=True)
    event_type: str = Field(max_length=64)
    received_at: datetime = utc_field(index=True)


@cache
def _claim_statement(dialect: str) -> Any:
    """Built once per dialect: every event Slack sends runs it before the ack."""
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ProcessedEvent.__table__  # type: ignore[attr-defined]
    return insert(table).on_conflict_do_nothing().returning(table.c.event_id)


def claim_event(
    session: Session, *, team_id: str, event_id: str, event_type: str, received_at: datetime
) -> bool:
    """Record the event; True if this call is the first to see it, False for a repeat.

    Uses the database's own `INSERT … ON CONFLICT DO NOTHING`, so two instances receiving the
    same retried event at once still agree on exactly one winner.
    """
    values = {
        "team_id": team_id,
        "event_id": event_id,
        "event_type": event_type,
        "received_at": received_at,
    }
    connection = session.connection()
    statement = _claim_statement(connection.dialect.name)
    return connection.execute(statement, values).first() is not None


def forget_events_before(session: Session, *, cutoff: datetime) -> int:
    """Delete records older than `cutoff` (Slack stops retrying within minutes); return count."""
    statement = delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < cutoff)
    result = session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]
