"""Help channels Eddy listens in, and the questions it picked up there.

A `listening_channel` row is a channel where a manager turned listening on, with how it
listens there; a `channel_question` row is one top-level message there that Eddy took for a
question, claimed once per (channel, message) so that a retried event or a second instance
cannot answer it twice, with what became of it: Eddy's reply in its thread, a colleague's
reply, the follow-up DM to the asker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, col

from store.base import TeamKeyed, TeamScoped, utc_field

#: What became of a channel question (`channel_question.state`).
ANSWERED = "answered"  # Eddy's reply is in the thread
UNSURE = "unsure"  # Eddy was not confident: it stayed quiet
#: Confident, but held back: the hourly limit, or a colleague was already answering.
HELD = "held"
REMOVED = "removed"  # Eddy's reply was taken away (Not helpful, the asker's emoji)
WITHDRAWN = "withdrawn"  # the asker deleted or edited away the question
#: The states in which the asker may still be offered the experts.
WAITING = (UNSURE, HELD, REMOVED)


class ListeningChannel(TeamKeyed, table=True):
    """A channel where Eddy answers questions nobody addressed to it."""

    __tablename__ = "listening_channel"

    channel_id: str = Field(max_length=32, primary_key=True)
    turned_on_by: str = Field(max_length=32)
    turned_on_at: datetime = utc_field()
    #: Minutes to wait for a colleague before the asker is offered the experts.
    follow_up_minutes: int = 30
    #: At most this many answers an hour in the channel.
    hourly_limit: int = 20
    #: The asker's reaction with this emoji (its name, no colons) takes Eddy's reply away.
    dismiss_emoji: str = Field(default="x", max_length=100)


class ChannelQuestion(TeamScoped, table=True):
    """A question Eddy picked up in a listening channel."""

    __tablename__ = "channel_question"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "message_ts"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=32)
    message_ts: str = Field(max_length=32)
    asker: str = Field(max_length=32, index=True)
    asked_at: datetime = utc_field(index=True)
    #: The question as logged (question_log.id), for ratings, the experts and the figures.
    question_id: int | None = Field(default=None, index=True)
    state: str = Field(max_length=16)
    #: Eddy's reply in the question's thread, while it is there.
    reply_ts: str | None = Field(default=None, max_length=32)
    answered_at: datetime | None = utc_field(default=None, nullable=True)
    #: When someone other than the asker first replied in the thread.
    colleague_replied_at: datetime | None = utc_field(default=None, nullable=True)
    #: When to offer the asker the experts if nobody has replied by then (None: never).
    follow_up_at: datetime | None = utc_field(default=None, nullable=True, index=True)
    followed_up_at: datetime | None = utc_field(default=None, nullable=True)


# --- channels -----------------------------------------------------------------------------


def channel(session: Session, *, team_id: str, channel_id: str) -> ListeningChannel | None:
    return session.get(ListeningChannel, (team_id, channel_id))


def hold_channel(session: Session, *, team_id: str, channel_id: str) -> ListeningChannel | None:
    """The channel's row, locked until the transaction ends (`SELECT … FOR UPDATE` on
    PostgreSQL; SQLite has one writer at a time anyway), so that the decisions on its hourly
    limit are taken one at a time, by every thread and instance."""
    query = (
        select(ListeningChannel)
        .where(
            col(ListeningChannel.team_id) == team_id,
            col(ListeningChannel.channel_id) == channel_id,
        )
        .with_for_update()
    )
    return session.scalars(query).first()


def channels(session: Session, *, team_id: str) -> list[ListeningChannel]:
    query = (
        select(ListeningChannel)
        .where(col(ListeningChannel.team_id) == team_id)
        .order_by(col(ListeningChannel.turned_on_at), col(ListeningChannel.channel_id))
    )
    return list(session.scalars(query))


def turn_on(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    at: datetime,
    changes: dict[str, Any],
) -> bool:
    """Listen in the channel, with `changes` to how (follow_up_minutes, hourly_limit,
    dismiss_emoji); True when it was not listened in before."""
    row = channel(session, team_id=team_id, channel_id=channel_id)
    new = row is None
    if row is None:
        row = ListeningChannel(
            team_id=team_id, channel_id=channel_id, turned_on_by=user_id, turned_on_at=at
        )
    for name, value in changes.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    return new


def turn_off(session: Session, *, team_id: str, channel_id: str) -> bool:
    """Stop listening in the channel; False when Eddy was not listening there."""
    result = session.execute(
        delete(ListeningChannel).where(
            col(ListeningChannel.team_id) == team_id,
            col(ListeningChannel.channel_id) == channel_id,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- questions ----------------------------------------------------------------------------


def claim_question(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    message_ts: str,
    asker: str,
    asked_at: datetime,
) -> int | None:
    """Record the message as a question being handled; its id, or None when it was claimed
    already (a retried event, another instance), by the database's own ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = ChannelQuestion.__table__  # type: ignore[attr-defined]
    statement = (
        insert(table)
        .values(
            team_id=team_id,
            channel_id=channel_id,
            message_ts=message_ts,
            asker=asker,
            asked_at=asked_at,
            state=UNSURE,
        )
        .on_conflict_do_nothing()
        .returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def question(
    session: Session, *, team_id: str, channel_id: str, message_ts: str
) -> ChannelQuestion | None:
    query = select(ChannelQuestion).where(
        col(ChannelQuestion.team_id) == team_id,
        col(ChannelQuestion.channel_id) == channel_id,
        col(ChannelQuestion.message_ts) == message_ts,
    )
    return session.scalars(query).first()


def question_by_id(session: Session, *, team_id: str, row_id: int) -> ChannelQuestion | None:
    row = session.get(ChannelQuestion, row_id)
    return row if row is not None and row.team_id == team_id else None


def question_logged_as(
    session: Session, *, team_id: str, question_id: int
) -> ChannelQuestion | None:
    query = select(ChannelQuestion).where(
        col(ChannelQuestion.team_id) == team_id,
        col(ChannelQuestion.question_id) == question_id,
    )
    return session.scalars(query).first()


def question_replied_by(
    session: Session, *, team_id: str, channel_id: str, reply_ts: str
) -> ChannelQuestion | None:
    query = select(ChannelQuestion).where(
        col(ChannelQuestion.team_id) == team_id,
        col(ChannelQuestion.channel_id) == channel_id,
        col(ChannelQuestion.reply_ts) == reply_ts,
    )
    return session.scalars(query).first()


def answers_since(session: Session, *, team_id: str, channel_id: str, since: datetime) -> int:
    """How many answers Eddy gave in the channel since `since` (removed ones count: they
    were posted)."""
    query = select(func.count()).where(
        col(ChannelQuestion.team_id) == team_id,
        col(ChannelQuestion.channel_id) == channel_id,
        col(ChannelQuestion.answered_at) >= since,
    )
    return int(session.execute(query).scalar_one())


def update_question(session: Session, *, team_id: str, row_id: int, **values: Any) -> None:
    session.execute(
        update(ChannelQuestion)
        .where(col(ChannelQuestion.team_id) == team_id, col(ChannelQuestion.id) == row_id)
        .values(**values)
    )


def take_reply(session: Session, *, team_id: str, row_id: int, state: str) -> str | None:
    """Mark Eddy's reply as gone (in `state`) and return its ts; None when there was none
    left to take (it was removed already, by another click or instance)."""
    row = question_by_id(session, team_id=team_id, row_id=row_id)
    if row is None or row.reply_ts is None:
        if row is not None and row.state != state and state == WITHDRAWN:
            update_question(session, team_id=team_id, row_id=row_id, state=state, follow_up_at=None)
        return None
    reply_ts = row.reply_ts  # read first: the UPDATE below changes the loaded row too
    taken = session.execute(
        update(ChannelQuestion)
        .where(
            col(ChannelQuestion.team_id) == team_id,
            col(ChannelQuestion.id) == row_id,
            col(ChannelQuestion.reply_ts) == reply_ts,
        )
        .values(reply_ts=None, state=state)
    )
    return reply_ts if taken.rowcount else None  # type: ignore[attr-defined]


def note_colleague_reply(
    session: Session, *, team_id: str, channel_id: str, thread_ts: str, user_id: str, at: datetime
) -> bool:
    """Someone other than the asker replied in a channel question's thread; True when it is
    the first such reply."""
    changed = session.execute(
        update(ChannelQuestion)
        .where(
            col(ChannelQuestion.team_id) == team_id,
            col(ChannelQuestion.channel_id) == channel_id,
            col(ChannelQuestion.message_ts) == thread_ts,
            col(ChannelQuestion.asker) != user_id,
            col(ChannelQuestion.colleague_replied_at).is_(None),
        )
        .values(colleague_replied_at=at)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def due_follow_ups(session: Session, *, team_id: str, now: datetime) -> list[ChannelQuestion]:
    query = (
        select(ChannelQuestion)
        .where(
            col(ChannelQuestion.team_id) == team_id,
            col(ChannelQuestion.follow_up_at) <= now,
            col(ChannelQuestion.followed_up_at).is_(None),
            col(ChannelQuestion.colleague_replied_at).is_(None),
            col(ChannelQuestion.state).in_(WAITING),
        )
        .order_by(col(ChannelQuestion.follow_up_at))
        .limit(500)
    )
    return list(session.scalars(query))


def claim_follow_up(session: Session, *, team_id: str, row_id: int, at: datetime) -> bool:
    """Whether this call is the one to send the follow-up (one instance, once)."""
    changed = session.execute(
        update(ChannelQuestion)
        .where(
            col(ChannelQuestion.team_id) == team_id,
            col(ChannelQuestion.id) == row_id,
            col(ChannelQuestion.followed_up_at).is_(None),
        )
        .values(followed_up_at=at)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]
