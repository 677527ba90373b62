"""Team reports on a learning path: what the lesson tables hold about everyone on one path,
read in a handful of queries whatever the number of people (bot/learning_reports.py does the
counting).

Each query reads one path across the whole workspace; a team is a filter the domain applies
afterwards, so a team of 2,000 never becomes an `IN` list of 2,000 IDs (SQLite caps those).

    people = enrolments(session, team_id="T0…", path="security-basics")
    done = lessons_done(session, team_id="T0…", path="security-basics")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.assignments import GroupMembers
from store.lessons import (
    Learner,
    LessonDone,
    LessonSubscription,
    PathCompletion,
    QuizAnswer,
)


@dataclass(frozen=True)
class Enrolment:
    """A person's subscription to the path, with what their learner row says of them."""

    user_id: str
    active: bool
    origin: str
    started_at: datetime
    stopped_at: datetime | None
    due_on: date | None
    #: Their schedule (None: no learner row, which a subscription normally has).
    tz: str | None
    deliver_at: str | None
    days: str | None
    paused_reason: str | None
    stopped_reason: str | None


@dataclass(frozen=True)
class Done:
    user_id: str
    lesson_id: str
    how: str
    done_at: datetime


@dataclass(frozen=True)
class Answer:
    user_id: str
    lesson_id: str
    correct: bool
    review: bool
    answered_at: datetime


@dataclass(frozen=True)
class CachedGroup:
    """A user group's or a channel's members as Slack last said (store/assignments.py)."""

    kind: str
    target: str
    name: str
    members: tuple[str, ...]
    refreshed_at: datetime


def enrolments(session: Session, *, team_id: str, path: str) -> list[Enrolment]:
    """Everyone who ever subscribed to `path` (stopped ones too), with their schedule."""
    query = (
        select(LessonSubscription, Learner)
        .join(
            Learner,
            (col(Learner.team_id) == col(LessonSubscription.team_id))
            & (col(Learner.user_id) == col(LessonSubscription.user_id)),
            isouter=True,
        )
        .where(LessonSubscription.team_id == team_id, LessonSubscription.path == path)
        .order_by(col(LessonSubscription.started_at), col(LessonSubscription.user_id))
    )
    found = []
    for sub, learner in session.exec(query):
        found.append(
            Enrolment(
                user_id=sub.user_id,
                active=sub.active,
                origin=sub.origin,
                started_at=sub.started_at,
                stopped_at=sub.stopped_at,
                due_on=sub.due_on,
                tz=learner.tz if learner else None,
                deliver_at=learner.deliver_at if learner else None,
                days=learner.days if learner else None,
                paused_reason=learner.paused_reason if learner else None,
                stopped_reason=learner.stopped_reason if learner else None,
            )
        )
    return found


def enrolled_counts(session: Session, *, team_id: str) -> dict[str, int]:
    """How many people are on each path (active subscriptions), by path."""
    query = (
        select(LessonSubscription.path, func.count())
        .where(LessonSubscription.team_id == team_id, col(LessonSubscription.active))
        .group_by(col(LessonSubscription.path))
    )
    return {str(path): int(count) for path, count in session.exec(query)}


def completions(session: Session, *, team_id: str, path: str) -> dict[str, datetime]:
    """Who completed `path`, and when."""
    query = select(PathCompletion.user_id, PathCompletion.completed_at).where(
        PathCompletion.team_id == team_id, PathCompletion.path == path
    )
    return {str(user): at for user, at in session.exec(query)}


def lessons_done(session: Session, *, team_id: str, path: str) -> list[Done]:
    """Every lesson of `path` anyone has done (learned, or known and skipped)."""
    query = select(LessonDone).where(LessonDone.team_id == team_id, LessonDone.path == path)
    return [Done(row.user_id, row.lesson_id, row.how, row.done_at) for row in session.exec(query)]


def answers(session: Session, *, team_id: str, path: str) -> list[Answer]:
    """Every quiz answer given on `path` (first sight and reviews; each message's first
    answer only, as recorded), oldest first."""
    query = (
        select(QuizAnswer)
        .where(QuizAnswer.team_id == team_id, QuizAnswer.path == path)
        .order_by(col(QuizAnswer.answered_at), col(QuizAnswer.id))
    )
    return [
        Answer(row.user_id, row.lesson_id, row.correct, row.review, row.answered_at)
        for row in session.exec(query)
    ]


def cached_group(session: Session, *, team_id: str, kind: str, name: str) -> CachedGroup | None:
    """The cached members of the user group or channel called `name` (its handle or name,
    or its ID), the most recently refreshed if several match."""
    query = (
        select(GroupMembers)
        .where(
            GroupMembers.team_id == team_id,
            GroupMembers.kind == kind,
            (col(GroupMembers.name) == name) | (col(GroupMembers.target) == name),
        )
        .order_by(col(GroupMembers.refreshed_at).desc())
    )
    row = session.exec(query).first()
    if row is None:
        return None
    return CachedGroup(row.kind, row.target, row.name, tuple(row.members), row.refreshed_at)
