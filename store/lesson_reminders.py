"""Reminders of unanswered lessons: which sent lessons are due a reminder (or their last
check), whether they were answered, claiming each step once, and the learners paused.

A reminder is a step of its delivery row (`reminders`, `remind_at` in store/lessons.py): the
step is claimed by a conditional update from the count and instant it had, so that any number
of instances agree on who sends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Field, Session, col, select

from store.base import KEY_LENGTH, TeamKeyed, changed, insert_for, utc_field
from store.lessons import PERSON, SENT, Learner, LessonDelivery, LessonDone, QuizAnswer


class LessonReminder(TeamKeyed, table=True):
    """A reminder Slack took: the learning record of it (bot/xapi.py) and its count."""

    __tablename__ = "lesson_reminder"

    delivery_id: int = Field(primary_key=True)
    #: Which of the lesson's reminders (from 1).
    step: int = Field(primary_key=True)
    user_id: str = Field(max_length=32, index=True)
    path: str = Field(max_length=KEY_LENGTH)
    lesson_id: str = Field(max_length=KEY_LENGTH)
    sent_at: datetime = utc_field(index=True)


def record(session: Session, sent: Sequence[dict[str, object]]) -> None:
    """Keep reminders that were sent (each once per delivery and step), in one statement
    (each a row's values)."""
    if not sent:
        return
    statement = insert_for(session)(LessonReminder).on_conflict_do_nothing(
        index_elements=["team_id", "delivery_id", "step"]
    )
    session.execute(statement, list(sent))


def due(session: Session, *, team_id: str, now: datetime, limit: int) -> list[LessonDelivery]:
    """Sent lessons whose next reminder step is due, oldest first. On PostgreSQL the rows
    another instance is working through are skipped (`FOR UPDATE SKIP LOCKED`) rather than
    waited for: it takes their steps (`take_step` is what keeps each step to one taker on
    either database; SQLite serialises writers and ignores the locking clause)."""
    query = (
        select(LessonDelivery)
        .where(
            LessonDelivery.team_id == team_id,
            col(LessonDelivery.remind_at).is_not(None),
            col(LessonDelivery.remind_at) <= now,
            col(LessonDelivery.status) == SENT,
            col(LessonDelivery.kind) == PERSON,
        )
        .order_by(col(LessonDelivery.remind_at), col(LessonDelivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(query))


def answered(session: Session, *, team_id: str, deliveries: list[LessonDelivery]) -> set[int]:
    """The ids of the deliveries whose lesson its person answered (its quiz, in that message)
    or has done (marked done, known, or answered in another message since)."""
    if not deliveries:
        return set()
    ids = [row.id for row in deliveries if row.id is not None]
    found = {
        int(delivery_id)
        for delivery_id in session.exec(
            select(QuizAnswer.delivery_id).where(
                QuizAnswer.team_id == team_id, col(QuizAnswer.delivery_id).in_(ids)
            )
        )
    }
    people = sorted({row.recipient for row in deliveries})
    done = {
        (str(user_id), str(path), str(lesson_id))
        for user_id, path, lesson_id in session.exec(
            select(LessonDone.user_id, LessonDone.path, LessonDone.lesson_id).where(
                LessonDone.team_id == team_id, col(LessonDone.user_id).in_(people)
            )
        )
    }
    for row in deliveries:
        if (row.recipient, row.path, row.lesson_id) in done and row.id is not None:
            found.add(row.id)
    return found


def take_steps(
    session: Session, steps: Sequence[tuple[LessonDelivery, datetime | None]]
) -> set[int]:
    """Move each delivery's reminders on by one step, to the instant of the step after it
    (None: no more), from the count and instant its row says they had; the IDs of the
    deliveries whose step this caller took (another instance took the others first). Rows
    that share their count and both instants go in one conditional UPDATE: a batch of steps
    due at one instant is a statement or two, not one per row."""
    groups: dict[tuple[int, datetime | None, datetime | None], list[int]] = {}
    for row, next_at in steps:
        if row.id is not None:
            groups.setdefault((row.reminders, row.remind_at, next_at), []).append(row.id)
    taken: set[int] = set()
    for (reminders, remind_at, next_at), ids in groups.items():
        statement = (
            update(LessonDelivery)
            .where(
                col(LessonDelivery.id).in_(ids),
                col(LessonDelivery.reminders) == reminders,
                col(LessonDelivery.remind_at) == remind_at,
            )
            .values(reminders=reminders + 1, remind_at=next_at)
            .returning(col(LessonDelivery.id))
            # Not synchronised into the session: the caller's batch of rows sits in it, and
            # the ORM would evaluate this WHERE against every one of them.
            .execution_options(synchronize_session=False)
        )
        taken.update(int(found) for found in session.execute(statement).scalars())
    return taken


def end_steps(session: Session, *, delivery_id: int, reminders: int, remind_at: datetime) -> None:
    """No more steps for a delivery whose step this caller just took (`reminders`, next at
    `remind_at`): its person's lessons paused since."""
    session.execute(
        update(LessonDelivery)
        .where(
            col(LessonDelivery.id) == delivery_id,
            col(LessonDelivery.reminders) == reminders,
            col(LessonDelivery.remind_at) == remind_at,
        )
        .values(remind_at=None)
        .execution_options(synchronize_session=False)
    )


def stop_reminding(session: Session, *, team_id: str, user_id: str) -> None:
    """No more reminders of this person's lessons (they answered one, resumed, or stopped)."""
    session.execute(
        update(LessonDelivery)
        .where(
            col(LessonDelivery.team_id) == team_id,
            col(LessonDelivery.recipient) == user_id,
            col(LessonDelivery.remind_at).is_not(None),
        )
        .values(remind_at=None)
    )


def recent_lessons_of(
    session: Session, *, team_id: str, user_ids: list[str], count: int
) -> dict[str, list[LessonDelivery]]:
    """Each person's last `count` scheduled lessons that were sent, newest first: one query
    for a whole batch of people (ranked within each person), not one per person."""
    if not user_ids:
        return {}
    ranked = (
        select(
            col(LessonDelivery.id).label("id"),
            func.row_number()
            .over(
                partition_by=col(LessonDelivery.recipient),
                order_by=(col(LessonDelivery.day).desc(), col(LessonDelivery.id).desc()),
            )
            .label("rank"),
        )
        .where(
            LessonDelivery.team_id == team_id,
            col(LessonDelivery.recipient).in_(user_ids),
            col(LessonDelivery.kind) == PERSON,
            col(LessonDelivery.reason) == "scheduled",
            col(LessonDelivery.status) == SENT,
            col(LessonDelivery.lesson_id).is_not(None),
        )
        .subquery()
    )
    query = (
        select(LessonDelivery)
        .join(ranked, col(LessonDelivery.id) == ranked.c.id)
        .where(ranked.c.rank <= count)
        .order_by(
            col(LessonDelivery.recipient),
            col(LessonDelivery.day).desc(),
            col(LessonDelivery.id).desc(),
        )
    )
    found: dict[str, list[LessonDelivery]] = {}
    for row in session.exec(query):
        found.setdefault(row.recipient, []).append(row)
    return found


def learners(session: Session, *, team_id: str, user_ids: list[str]) -> dict[str, Learner]:
    query = select(Learner).where(Learner.team_id == team_id, col(Learner.user_id).in_(user_ids))
    return {row.user_id: row for row in session.exec(query)}


def pause(session: Session, *, team_id: str, user_id: str, reason: str, at: datetime) -> bool:
    """Pause a learner who is neither paused nor stopped; False when they already were."""
    statement = (
        update(Learner)
        .where(
            col(Learner.team_id) == team_id,
            col(Learner.user_id) == user_id,
            col(Learner.paused_reason).is_(None),
            col(Learner.stopped_reason).is_(None),
        )
        .values(paused_reason=reason, paused_at=at, next_due_at=None)
    )
    return changed(session, statement)


def paused(session: Session, *, team_id: str) -> list[Learner]:
    """Learners whose lessons wait for them to resume, longest paused first."""
    query = select(Learner).where(
        Learner.team_id == team_id,
        col(Learner.paused_reason).is_not(None),
        col(Learner.stopped_reason).is_(None),
    )
    return list(session.exec(query.order_by(col(Learner.paused_at))))
