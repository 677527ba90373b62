"""The LRS outbox: statements waiting to be sent to the Learning Record Store, and how far
each workspace's events have been queued.

A statement is queued once (its id is the primary key, and ids are stable: bot/xapi.py) and
leaves `pending` only when the LRS took it (`sent`) or refused it for good (`rejected`). A
failed batch stays pending with a later `next_attempt_at`, so an LRS outage or a restart
loses nothing, and several instances share the work: claiming a batch moves its
`next_attempt_at` past a lease, so no other instance takes it meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, delete, func, select, update
from sqlmodel import Field, Session, col

from store.base import TeamKeyed, TeamScoped, insert_for, utc_field

PENDING, SENT, REJECTED = "pending", "sent", "rejected"


class LrsOutbox(TeamScoped, table=True):
    __tablename__ = "lrs_outbox"

    statement_id: str = Field(max_length=36, primary_key=True)
    #: The user ID of the statement's actor (None for Eddy's own statements, like voiding).
    actor: str | None = Field(default=None, max_length=32, index=True)
    statement: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    #: When the event happened (the statement's timestamp): batches go oldest first.
    happened_at: datetime = utc_field()
    queued_at: datetime = utc_field()
    status: str = Field(default=PENDING, max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = utc_field(index=True)
    sent_at: datetime | None = utc_field(default=None, nullable=True, index=True)
    last_error: str | None = Field(default=None, max_length=500)


class LrsCursor(TeamKeyed, table=True):
    """Events before `queued_until` are in the outbox (give or take the overlap that each
    pass re-reads, which the statement ids make harmless)."""

    __tablename__ = "lrs_cursor"

    queued_until: datetime = utc_field()


def queued_until(session: Session, *, team_id: str) -> datetime | None:
    row = session.get(LrsCursor, team_id)
    return row.queued_until if row is not None else None


def advance(session: Session, *, team_id: str, to: datetime) -> None:
    """Move the cursor forward (never back: another instance may be ahead)."""
    statement = insert_for(session)(LrsCursor).values(team_id=team_id, queued_until=to)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id"],
            set_={"queued_until": func.max(col(LrsCursor.queued_until), to)}
            if session.get_bind().dialect.name == "sqlite"
            else {"queued_until": func.greatest(col(LrsCursor.queued_until), to)},
        )
    )


#: What the outbox keeps of a statement: (statement id, actor's user ID or None, the
#: statement as JSON, when its event happened).
Queued = tuple[str, str | None, dict[str, Any], datetime]


def enqueue(session: Session, *, team_id: str, statements: list[Queued], at: datetime) -> int:
    """Queue statements not queued before (by id); how many were new."""
    if not statements:
        return 0
    values = [
        {
            "statement_id": statement_id,
            "team_id": team_id,
            "actor": actor,
            "statement": statement,
            "happened_at": happened_at,
            "queued_at": at,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": at,
        }
        for statement_id, actor, statement, happened_at in statements
    ]
    insert = (
        insert_for(session)(LrsOutbox)
        .values(values)
        .on_conflict_do_nothing()
        .returning(col(LrsOutbox.statement_id))
    )
    # RETURNING counts on every backend (an ORM INSERT's rowcount is -1 on PostgreSQL).
    return len(session.execute(insert).all())


def claim(session: Session, *, now: datetime, lease_until: datetime, limit: int) -> list[LrsOutbox]:
    """Take up to `limit` pending statements that are due, oldest event first, and hold them
    until `lease_until` (a crash mid-send frees them then). The rows returned count this
    attempt in `attempts`."""
    query = (
        select(LrsOutbox)
        .where(col(LrsOutbox.status) == PENDING, col(LrsOutbox.next_attempt_at) <= now)
        .order_by(col(LrsOutbox.happened_at), col(LrsOutbox.statement_id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    found = list(session.execute(query).scalars())
    if found:
        session.execute(
            update(LrsOutbox)
            .where(col(LrsOutbox.statement_id).in_([row.statement_id for row in found]))
            .values(next_attempt_at=lease_until, attempts=col(LrsOutbox.attempts) + 1)
        )
    return found


def mark_sent(session: Session, *, ids: list[str], at: datetime) -> None:
    session.execute(
        update(LrsOutbox)
        .where(col(LrsOutbox.statement_id).in_(ids))
        .values(status=SENT, sent_at=at, last_error=None)
    )


def retry_later(session: Session, *, ids: list[str], at: datetime, error: str) -> None:
    session.execute(
        update(LrsOutbox)
        .where(col(LrsOutbox.statement_id).in_(ids), col(LrsOutbox.status) == PENDING)
        .values(next_attempt_at=at, last_error=error[:500])
    )


def reject(session: Session, *, ids: list[str], error: str) -> None:
    session.execute(
        update(LrsOutbox)
        .where(col(LrsOutbox.statement_id).in_(ids))
        .values(status=REJECTED, last_error=error[:500])
    )


def postpone_due(session: Session, *, until: datetime) -> int:
    """Hold back every pending statement due before `until` (the LRS is away: one batch finds
    out when it is back, instead of every batch asking in turn); how many were due."""
    statement = (
        update(LrsOutbox)
        .where(col(LrsOutbox.status) == PENDING, col(LrsOutbox.next_attempt_at) < until)
        .values(next_attempt_at=until)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def requeue_rejected(session: Session, *, at: datetime) -> int:
    """Give statements the LRS refused another chance (after its configuration was fixed);
    how many."""
    statement = (
        update(LrsOutbox)
        .where(col(LrsOutbox.status) == REJECTED)
        .values(status=PENDING, attempts=0, next_attempt_at=at)
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def forget_sent(session: Session, *, before: datetime) -> int:
    """Drop sent statements the queueing pass can no longer re-read (sent, and happened,
    before `before`, which lies further back than its overlap): their ids have done their
    work."""
    statement = delete(LrsOutbox).where(
        col(LrsOutbox.status) == SENT,
        col(LrsOutbox.sent_at) < before,
        col(LrsOutbox.happened_at) < before,
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def counts(session: Session) -> dict[str, int]:
    """Statements in the outbox by status."""
    query = select(col(LrsOutbox.status), func.count()).group_by(col(LrsOutbox.status))
    return {status: int(count) for status, count in session.execute(query)}


def waiting(session: Session) -> tuple[datetime | None, datetime | None]:
    """When the oldest pending statement happened, and when the next attempt is due."""
    query = select(
        func.min(col(LrsOutbox.happened_at)), func.min(col(LrsOutbox.next_attempt_at))
    ).where(col(LrsOutbox.status) == PENDING)
    oldest, due = session.execute(query).one()
    return oldest, due


def last_errors(session: Session, *, limit: int = 5) -> list[LrsOutbox]:
    """Statements that failed (pending with an error, or rejected), those retried last
    first."""
    query = (
        select(LrsOutbox)
        .where(col(LrsOutbox.last_error).is_not(None), col(LrsOutbox.status) != SENT)
        .order_by(col(LrsOutbox.next_attempt_at).desc(), col(LrsOutbox.statement_id))
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def cursors(session: Session) -> dict[str, datetime]:
    """Each workspace's `queued_until`."""
    return {row.team_id: row.queued_until for row in session.execute(select(LrsCursor)).scalars()}
