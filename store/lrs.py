"""The LRS outbox: statements waiting to be sent to the Learning Record Store, how far each
workspace's events have been queued, and how long to leave the LRS alone after it failed.

A statement is queued once (its id is the primary key, and ids are stable: bot/xapi.py) and
leaves `pending` only when the LRS took it (`sent`) or refused it for good (`rejected`). A
failed batch stays pending, so an LRS outage or a restart loses nothing, and several instances
share the work: claiming a batch moves its `next_attempt_at` past a lease, so no other
instance takes it meanwhile; a pending statement whose `next_attempt_at` has come is free.

When to try the LRS again is not a statement's business but the LRS's (`LrsBackoff`, one row
per endpoint, shared by every instance): new statements keep arriving while it is down, and
they wait with the rest instead of each asking it in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, delete, func, or_, select, update
from sqlmodel import Field, Session, SQLModel, col

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


class LrsBackoff(SQLModel, table=True):
    """The LRS at `endpoint` failed `failures` times in a row (since `failing_since`): nobody
    sends to it before `next_try_at`, and then one instance at a time (`probe_until`, a lease
    like a batch's) finds out whether it is back. No row: it answered the last attempt.

    No `team_id` (one of `DEPLOYMENT_TABLES`): every workspace's statements go to that LRS."""

    __tablename__ = "lrs_backoff"

    #: EDDY_LRS_URL without credentials: another address starts with a clean slate.
    endpoint: str = Field(max_length=500, primary_key=True)
    failures: int = 0
    failing_since: datetime = utc_field()
    next_try_at: datetime = utc_field()
    probe_until: datetime | None = utc_field(default=None, nullable=True)
    last_error: str | None = Field(default=None, max_length=500)


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
    """Give claimed statements back (free from `at`, which is when the LRS failed: its
    backoff, not theirs, decides when they go)."""
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


def oldest_pending(session: Session) -> datetime | None:
    """When the oldest pending statement happened."""
    query = select(func.min(col(LrsOutbox.happened_at))).where(col(LrsOutbox.status) == PENDING)
    return session.execute(query).scalar()


def rejected(session: Session, *, limit: int) -> list[LrsOutbox]:
    """Statements the LRS refused for good, oldest event first."""
    query = (
        select(LrsOutbox)
        .where(col(LrsOutbox.status) == REJECTED)
        .order_by(col(LrsOutbox.happened_at), col(LrsOutbox.statement_id))
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def cursors(session: Session) -> dict[str, datetime]:
    """Each workspace's `queued_until`."""
    return {row.team_id: row.queued_until for row in session.execute(select(LrsCursor)).scalars()}


# --- the LRS's backoff ------------------------------------------------------------------------


def backoff(session: Session, *, endpoint: str) -> LrsBackoff | None:
    """The LRS's state of failure (None: it answered the last attempt)."""
    return session.get(LrsBackoff, endpoint)


def take_turn(session: Session, *, endpoint: str, now: datetime, lease_until: datetime) -> bool:
    """Become the one instance that finds out whether a failing LRS is back, once its wait is
    over and nobody else is finding out (their turn lasts until `lease_until`); whether this
    instance got the turn. One conditional UPDATE, so that two instances never both get it."""
    statement = (
        update(LrsBackoff)
        .where(
            col(LrsBackoff.endpoint) == endpoint,
            col(LrsBackoff.next_try_at) <= now,
            or_(col(LrsBackoff.probe_until).is_(None), col(LrsBackoff.probe_until) <= now),
        )
        .values(probe_until=lease_until)
    )
    return int(session.execute(statement).rowcount) == 1  # type: ignore[attr-defined]


def force_turn(session: Session, *, endpoint: str, lease_until: datetime) -> None:
    """Take the turn whatever the wait (an operator asked to try now)."""
    session.execute(
        update(LrsBackoff)
        .where(col(LrsBackoff.endpoint) == endpoint)
        .values(probe_until=lease_until)
    )


def end_turn(session: Session, *, endpoint: str) -> None:
    """Give the turn back unused (there was nothing to send): the next pass may take it."""
    session.execute(
        update(LrsBackoff).where(col(LrsBackoff.endpoint) == endpoint).values(probe_until=None)
    )


def record_failure(
    session: Session,
    *,
    endpoint: str,
    now: datetime,
    error: str,
    wait: Callable[[int], timedelta],
) -> LrsBackoff:
    """The LRS failed at `now`: one more failure in a row, and no attempt before `now` plus
    `wait(failures)`. An instance that failed in the same round as another (both sent while
    the LRS looked fine) counts no second failure: its wait is already set."""
    session.execute(
        insert_for(session)(LrsBackoff)
        .values(endpoint=endpoint, failures=0, failing_since=now, next_try_at=now)
        .on_conflict_do_nothing()
    )
    query = select(LrsBackoff).where(col(LrsBackoff.endpoint) == endpoint)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = session.execute(query).scalar_one()
    row.last_error = error[:500]
    row.probe_until = None
    if row.failures == 0 or row.next_try_at <= now:
        row.failures += 1
        row.next_try_at = now + wait(row.failures)
    session.add(row)
    session.flush()
    return row


def record_success(session: Session, *, endpoint: str) -> None:
    """The LRS answered: no more waiting, for any instance."""
    session.execute(delete(LrsBackoff).where(col(LrsBackoff.endpoint) == endpoint))
