"""What the learning records are made from: the rows other capabilities write (questions,
routed questions, drafts, lessons, quizzes, badges, points), read per stretch of time, and
the workspace's address that names every actor.

Reads are half-open windows [start, end) of a day or so: an export of a year walks the
windows one by one, so no session stays open long and no window brings more than a day's
rows into memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, col

from store.badges import BadgeAward, PointLedger
from store.base import TeamKeyed, insert_for, utc_field
from store.knowledge import KnowledgeEntryRow, QuestionLog
from store.lessons import (
    CHANNEL,
    PERSON,
    SENT,
    LessonDelivery,
    LessonPathRow,
    PathCompletion,
    QuizAnswer,
)
from store.networks import APPROVED, EntryDraft, NetworkTopicRow, RoutedQuestion

#: A half-open stretch of time, [start, end), with aware UTC datetimes.
Window = tuple[datetime, datetime]


class Workspace(TeamKeyed, table=True):
    """The Slack workspace's address (`https://acme.slack.com/`), as auth.test gave it when
    Eddy last started: every actor's `account.homePage`, also for exports run offline."""

    __tablename__ = "workspace"

    url: str = Field(max_length=200)
    seen_at: datetime = utc_field()


def remember_workspace(session: Session, *, team_id: str, url: str, at: datetime) -> None:
    statement = insert_for(session)(Workspace).values(team_id=team_id, url=url, seen_at=at)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id"], set_={"url": url, "seen_at": at}
        )
    )


def workspaces(session: Session) -> dict[str, str]:
    """Every workspace Eddy has served: team ID → its URL."""
    return {row.team_id: row.url for row in session.execute(select(Workspace)).scalars()}


# --- what the statements need to name things ------------------------------------------------


@dataclass(frozen=True)
class Names:
    """The content definitions as last loaded, by key: learning paths and network topics
    (specs as JSON; bot/xapi.py reads them), and knowledge entries' titles."""

    paths: dict[str, dict[str, Any]]
    topics: dict[str, dict[str, Any]]
    entries: dict[str, str]


def names(session: Session, *, team_id: str) -> Names:
    def specs(table: Any) -> dict[str, dict[str, Any]]:
        rows = session.execute(select(table).where(table.team_id == team_id)).scalars()
        return {row.key: row.spec for row in rows}

    titles = session.execute(
        select(col(KnowledgeEntryRow.slug), col(KnowledgeEntryRow.title)).where(
            col(KnowledgeEntryRow.team_id) == team_id
        )
    )
    return Names(
        paths=specs(LessonPathRow),
        topics=specs(NetworkTopicRow),
        entries={slug: title for slug, title in titles},
    )


# --- the events, per window -----------------------------------------------------------------


def event_span(session: Session, *, team_id: str) -> tuple[datetime, datetime] | None:
    """The first and the last moment any learning event happened (an export from the start
    begins at the first, and none needs to go past the last)."""
    columns: tuple[tuple[Any, Any], ...] = (
        (QuestionLog, QuestionLog.asked_at),
        (RoutedQuestion, RoutedQuestion.answered_at),
        (EntryDraft, EntryDraft.reviewed_at),
        (LessonDelivery, LessonDelivery.sent_at),
        (QuizAnswer, QuizAnswer.answered_at),
        (PathCompletion, PathCompletion.completed_at),
        (BadgeAward, BadgeAward.awarded_at),
        (PointLedger, PointLedger.at),
    )
    ends = [
        session.execute(
            select(func.min(column), func.max(column)).where(table.team_id == team_id)
        ).one()
        for table, column in columns
    ]
    firsts = [first for first, _ in ends if first is not None]
    lasts = [last for _, last in ends if last is not None]
    return (min(firsts), max(lasts)) if firsts else None


def _within(column: Any, window: Window) -> Any:
    return and_(column >= window[0], column < window[1])


def _of(column: Any, user_id: str | None) -> Any:
    return true() if user_id is None else column == user_id


def _given_or_received(user_id: str | None) -> Any:
    """Recognition names two people: it is about the receiver as much as the giver."""
    if user_id is None:
        return true()
    return or_(col(PointLedger.giver) == user_id, col(PointLedger.receiver) == user_id)


def questions_asked(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[QuestionLog]:
    query = select(QuestionLog).where(
        col(QuestionLog.team_id) == team_id,
        _within(col(QuestionLog.asked_at), window),
        _of(col(QuestionLog.user_id), user_id),
    )
    return list(session.execute(query).scalars())


def questions_answered(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[RoutedQuestion]:
    """Routed questions an expert answered in the window."""
    query = select(RoutedQuestion).where(
        col(RoutedQuestion.team_id) == team_id,
        _within(col(RoutedQuestion.answered_at), window),
        _of(col(RoutedQuestion.answered_by), user_id),
    )
    return list(session.execute(query).scalars())


def questions_resolved(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[RoutedQuestion]:
    """Routed questions their asker marked resolved in the window."""
    query = select(RoutedQuestion).where(
        col(RoutedQuestion.team_id) == team_id,
        _within(col(RoutedQuestion.resolved_at), window),
        _of(col(RoutedQuestion.asker_id), user_id),
    )
    return list(session.execute(query).scalars())


def entries_contributed(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[EntryDraft]:
    """Drafts approved into the knowledge index in the window. The contributor is the
    draft's owner (whose answer or message it is), else who proposed it."""
    author = func.coalesce(col(EntryDraft.owner), col(EntryDraft.proposed_by))
    query = select(EntryDraft).where(
        col(EntryDraft.team_id) == team_id,
        col(EntryDraft.status) == APPROVED,
        col(EntryDraft.slug).is_not(None),
        _within(col(EntryDraft.reviewed_at), window),
        _of(author, user_id),
    )
    return list(session.execute(query).scalars())


def lessons_sent(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[LessonDelivery]:
    """Lessons sent to a person's DM in the window."""
    query = select(LessonDelivery).where(
        col(LessonDelivery.team_id) == team_id,
        col(LessonDelivery.kind) == PERSON,
        col(LessonDelivery.status) == SENT,
        col(LessonDelivery.lesson_id).is_not(None),
        _within(col(LessonDelivery.sent_at), window),
        _of(col(LessonDelivery.recipient), user_id),
    )
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class ChannelLessonSeen:
    """Someone took part in a lesson posted to a channel: their first quiz answer on it."""

    delivery_id: int
    user_id: str
    path: str
    lesson_id: str
    at: datetime


def channel_lessons_seen(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[ChannelLessonSeen]:
    """People who answered a quiz of a channel lesson, at their first answer to it (Slack
    does not say who read a channel message; answering shows they did)."""
    first = func.min(col(QuizAnswer.answered_at))
    query = (
        select(
            col(LessonDelivery.id),
            col(QuizAnswer.user_id),
            col(LessonDelivery.path),
            col(LessonDelivery.lesson_id),
            first,
        )
        .join(LessonDelivery, col(LessonDelivery.id) == col(QuizAnswer.delivery_id))
        .where(
            col(QuizAnswer.team_id) == team_id,
            col(LessonDelivery.kind) == CHANNEL,
            col(LessonDelivery.lesson_id).is_not(None),
            _of(col(QuizAnswer.user_id), user_id),
        )
        .group_by(
            col(LessonDelivery.id),
            col(QuizAnswer.user_id),
            col(LessonDelivery.path),
            col(LessonDelivery.lesson_id),
        )
        .having(and_(first >= window[0], first < window[1]))
    )
    return [ChannelLessonSeen(*row) for row in session.execute(query)]


def quiz_answers(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[QuizAnswer]:
    query = select(QuizAnswer).where(
        col(QuizAnswer.team_id) == team_id,
        _within(col(QuizAnswer.answered_at), window),
        _of(col(QuizAnswer.user_id), user_id),
    )
    return list(session.execute(query).scalars())


def paths_completed(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[PathCompletion]:
    query = select(PathCompletion).where(
        col(PathCompletion.team_id) == team_id,
        _within(col(PathCompletion.completed_at), window),
        _of(col(PathCompletion.user_id), user_id),
    )
    return list(session.execute(query).scalars())


def badges_earned(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[BadgeAward]:
    query = select(BadgeAward).where(
        col(BadgeAward.team_id) == team_id,
        _within(col(BadgeAward.awarded_at), window),
        _of(col(BadgeAward.user_id), user_id),
    )
    return list(session.execute(query).scalars())


def recognition_given(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[PointLedger]:
    """Points given with a reaction in the window (positive ledger rows)."""
    query = select(PointLedger).where(
        col(PointLedger.team_id) == team_id,
        col(PointLedger.points) > 0,
        _within(col(PointLedger.at), window),
        _given_or_received(user_id),
    )
    return list(session.execute(query).scalars())


def recognition_taken_back(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[tuple[PointLedger, int]]:
    """Points taken back in the window (a reaction removed), each with the ledger id of the
    giving it undoes: the same reaction's latest positive row before it."""
    given = aliased(PointLedger)
    undone = (
        select(func.max(col(given.id)))
        .where(
            col(given.team_id) == col(PointLedger.team_id),
            col(given.giver) == col(PointLedger.giver),
            col(given.channel) == col(PointLedger.channel),
            col(given.message_ts) == col(PointLedger.message_ts),
            col(given.emoji) == col(PointLedger.emoji),
            col(given.points) > 0,
            col(given.id) < col(PointLedger.id),
        )
        .scalar_subquery()
    )
    query = select(PointLedger, undone).where(
        col(PointLedger.team_id) == team_id,
        col(PointLedger.points) < 0,
        _within(col(PointLedger.at), window),
        _given_or_received(user_id),
    )
    return [(row, given_id) for row, given_id in session.execute(query) if given_id is not None]
