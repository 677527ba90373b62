"""Micro-lessons: paths as last loaded, learners and their schedules, channel schedules, every
delivery (recorded before it is sent), quiz answers, spaced-repetition cards and progress.

Exactly-once delivery rests on three things here: a delivery row is planned under a unique
`dedupe_key` (one per recipient and day, however many planners run), rows are claimed in
batches with `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises writers), and marking a
row sent is conditional on the claim that took it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, and_, or_, update
from sqlmodel import Field, Session, col, select

from store.base import (
    KEY_LENGTH,
    ContentSpec,
    TeamKeyed,
    TeamScoped,
    changed,
    insert_for,
    save_specs,
    utc_field,
)

#: Delivery states: planned, being sent by a claimer, sent, or given up on (see `error`).
DUE, SENDING, SENT, FAILED = "due", "sending", "sent", "failed"
#: Who a delivery goes to.
PERSON, CHANNEL = "person", "channel"
#: Channel schedule states.
ACTIVE, PAUSED, FINISHED = "active", "paused", "finished"
#: How a person came to a path: they chose it, someone assigned it, or it started when they
#: joined the workspace (an onboarding journey: `assign_on_join` in the path's file).
SELF, ASSIGNED, JOURNEY = "self", "assigned", "journey"
#: How a lesson came to be done: learned (its quiz answered, or marked done), or known
#: without being sent (its placement item answered right, or "I know this").
LEARNED, KNOWN = "learned", "known"
#: A path's placement check: waiting to be sent, sent, or answered (None: the path has none).
PLACEMENT_DUE, PLACEMENT_SENT, PLACEMENT_DONE = "due", "sent", "done"


class LessonPathRow(ContentSpec, table=True):
    """A learning path as last loaded without problems."""

    __tablename__ = "lesson_path"


class Learner(TeamKeyed, table=True):
    """A person who gets lessons by DM: when (their own time zone), and how they are doing."""

    __tablename__ = "learner"

    user_id: str = Field(max_length=32, primary_key=True)
    #: IANA zone from Slack's users.info (kept current by `user_change` events).
    tz: str = Field(max_length=64)
    #: Local delivery time, "HH:MM".
    deliver_at: str = Field(max_length=5)
    #: Delivery weekdays as digits, Monday = 0: "01234" is weekdays.
    days: str = Field(max_length=7)
    #: The next delivery slot (UTC); None while there is nothing to send.
    next_due_at: datetime | None = utc_field(default=None, nullable=True, index=True)
    streak: int = 0
    streak_day: date | None = None
    best_streak: int = 0
    #: Why Eddy stopped sending (they left the workspace, turned off DMs); None while active.
    stopped_reason: str | None = Field(default=None, max_length=200)
    stopped_at: datetime | None = utc_field(default=None, nullable=True)
    #: Why lessons wait for the person's Resume (unanswered lessons after their reminders),
    #: in words for them and their managers; None while lessons flow.
    paused_reason: str | None = Field(default=None, max_length=200)
    #: When they paused; with no reason, when they last resumed (unanswered lessons from
    #: before then do not count towards another pause).
    paused_at: datetime | None = utc_field(default=None, nullable=True)
    #: The local day Eddy last said a streak was about to break (said once per streak).
    streak_warned_day: date | None = None
    created_at: datetime = utc_field()


class LessonSubscription(TeamKeyed, table=True):
    __tablename__ = "lesson_subscription"

    user_id: str = Field(max_length=32, primary_key=True)
    path: str = Field(max_length=KEY_LENGTH, primary_key=True)
    active: bool = True
    started_at: datetime = utc_field()
    stopped_at: datetime | None = utc_field(default=None, nullable=True)
    last_delivered_at: datetime | None = utc_field(default=None, nullable=True)
    #: SELF, ASSIGNED or JOURNEY.
    origin: str = Field(default=SELF, max_length=16, sa_column_kwargs={"server_default": SELF})
    #: The assignment that enrolled them (store/assignments.py), while it stands.
    assignment_id: int | None = Field(default=None, index=True)
    #: The day they are asked to finish by (their own local day); None: no due date.
    due_on: date | None = None
    #: A journey's day 1 (the person's local day): a lesson with `day: n` is not sent before
    #: anchor_day + n - 1 working days. None: lessons follow one another.
    anchor_day: date | None = None
    #: PLACEMENT_DUE, PLACEMENT_SENT or PLACEMENT_DONE; None when the path has no placement.
    placement: str | None = Field(default=None, max_length=16)


class ChannelSchedule(TeamScoped, table=True):
    """A path a community manager scheduled into a channel: one lesson per scheduled day."""

    __tablename__ = "lesson_schedule"
    __table_args__ = (UniqueConstraint("team_id", "channel", "path"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    path: str = Field(max_length=KEY_LENGTH)
    tz: str = Field(max_length=64)
    deliver_at: str = Field(max_length=5)
    days: str = Field(max_length=7)
    next_due_at: datetime | None = utc_field(default=None, nullable=True, index=True)
    status: str = Field(max_length=16, default=ACTIVE)
    #: Why it is paused or finished, in words for the managers.
    status_reason: str | None = Field(default=None, max_length=200)
    created_by: str = Field(max_length=32)
    created_at: datetime = utc_field()


class LessonDelivery(TeamScoped, table=True):
    """One lesson message: recorded as due before it is sent, and what became of it."""

    __tablename__ = "lesson_delivery"

    id: int | None = Field(default=None, primary_key=True)
    #: A person's user ID (their DM) or a channel ID.
    recipient: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=16)
    schedule_id: int | None = Field(default=None, index=True)
    #: The recipient's local day it belongs to.
    day: date
    #: One scheduled delivery per recipient and day; None for extra lessons people ask for.
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    #: "scheduled", "first" (on /learn start) or "asked" (/learn next); "placement" for a
    #: path's placement check, whose items (quiz items) ride in `reviews`.
    reason: str = Field(max_length=16)
    path: str | None = Field(default=None, max_length=KEY_LENGTH)
    lesson_id: str | None = Field(default=None, max_length=KEY_LENGTH)
    #: Review items riding along: [[path, lesson_id], …].
    reviews: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16, default=DUE, index=True)
    due_at: datetime = utc_field()
    claim: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = utc_field(default=None, nullable=True)
    #: Claims so far; above zero, an earlier attempt may have reached Slack.
    attempts: int = 0
    #: Reminders sent about this (person's) lesson while unanswered, and when the next is due
    #: (None: no reminder due; cleared once it is answered).
    reminders: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    remind_at: datetime | None = utc_field(default=None, nullable=True, index=True)
    not_before: datetime | None = utc_field(default=None, nullable=True)
    channel: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = utc_field(default=None, nullable=True)
    error: str | None = Field(default=None, max_length=200)


class QuizAnswer(TeamScoped, table=True):
    """A person's answer to one quiz in one lesson message; the first one counts."""

    __tablename__ = "quiz_answer"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "delivery_id", "path", "lesson_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=32, index=True)
    delivery_id: int
    path: str = Field(max_length=KEY_LENGTH)
    lesson_id: str = Field(max_length=KEY_LENGTH)
    chosen: int
    correct: bool
    #: Whether it was a review of an item seen before.
    review: bool = False
    answered_at: datetime = utc_field(index=True)


class ReviewCard(TeamKeyed, table=True):
    """A quiz item in a person's spaced-repetition deck (a Leitner box; see bot/lessons.py)."""

    __tablename__ = "review_card"

    user_id: str = Field(max_length=32, primary_key=True)
    path: str = Field(max_length=KEY_LENGTH, primary_key=True)
    lesson_id: str = Field(max_length=KEY_LENGTH, primary_key=True)
    box: int
    #: The learner's local day it is due again.
    due_day: date = Field(index=True)
    retired: bool = False
    updated_at: datetime = utc_field()


class LessonDone(TeamKeyed, table=True):
    """A lesson a person completed (answered its quiz, or marked it done)."""

    __tablename__ = "lesson_done"

    user_id: str = Field(max_length=32, primary_key=True)
    path: str = Field(max_length=KEY_LENGTH, primary_key=True)
    lesson_id: str = Field(max_length=KEY_LENGTH, primary_key=True)
    done_at: datetime = utc_field()
    #: LEARNED, or KNOWN (skipped: the person showed they know it).
    how: str = Field(default=LEARNED, max_length=16, sa_column_kwargs={"server_default": LEARNED})


class PathCompletion(TeamKeyed, table=True):
    """A person who completed every lesson of a path (however the lessons reached them)."""

    __tablename__ = "path_completion"

    user_id: str = Field(max_length=32, primary_key=True)
    path: str = Field(max_length=KEY_LENGTH, primary_key=True)
    completed_at: datetime = utc_field()


# --- paths ----------------------------------------------------------------------------------


def paths(session: Session, *, team_id: str) -> list[LessonPathRow]:
    query = select(LessonPathRow).where(LessonPathRow.team_id == team_id)
    return list(session.exec(query.order_by(col(LessonPathRow.key))))


def save_paths(
    session: Session,
    *,
    team_id: str,
    specs: dict[str, dict[str, Any]],
    keep: set[str],
    at: datetime,
) -> None:
    """Store the good paths; paths in `keep` (broken files) stay as they were, and paths in
    neither are gone."""
    save_specs(
        session,
        current={row.key: row for row in paths(session, team_id=team_id)},
        make=lambda key: LessonPathRow(team_id=team_id, key=key, updated_at=at),
        specs=specs,
        keep=keep,
        at=at,
    )


# --- learners and subscriptions -------------------------------------------------------------


def learner(session: Session, *, team_id: str, user_id: str) -> Learner | None:
    return session.get(Learner, (team_id, user_id))


def save(session: Session, row: Any) -> None:
    session.add(row)


def subscriptions(
    session: Session, *, team_id: str, user_id: str, active_only: bool = False
) -> list[LessonSubscription]:
    query = select(LessonSubscription).where(
        LessonSubscription.team_id == team_id, LessonSubscription.user_id == user_id
    )
    if active_only:
        query = query.where(col(LessonSubscription.active))
    return list(session.exec(query.order_by(col(LessonSubscription.started_at))))


def subscription(
    session: Session, *, team_id: str, user_id: str, path: str
) -> LessonSubscription | None:
    return session.get(LessonSubscription, (team_id, user_id, path))


def subscriptions_of(
    session: Session, *, team_id: str, user_ids: list[str]
) -> dict[str, list[LessonSubscription]]:
    query = select(LessonSubscription).where(
        LessonSubscription.team_id == team_id, col(LessonSubscription.user_id).in_(user_ids)
    )
    found: dict[str, list[LessonSubscription]] = {}
    for row in session.exec(query.order_by(col(LessonSubscription.started_at))):
        found.setdefault(row.user_id, []).append(row)
    return found


def seen_lessons_of(
    session: Session, *, team_id: str, user_ids: list[str]
) -> dict[str, set[tuple[str, str]]]:
    """(path, lesson) pairs each person has been sent or has planned (failed sends do not
    count), or has done (in a channel, say)."""
    sent = select(LessonDelivery.recipient, LessonDelivery.path, LessonDelivery.lesson_id).where(
        LessonDelivery.team_id == team_id,
        col(LessonDelivery.recipient).in_(user_ids),
        col(LessonDelivery.status) != FAILED,
        col(LessonDelivery.lesson_id).is_not(None),
    )
    done = select(LessonDone.user_id, LessonDone.path, LessonDone.lesson_id).where(
        LessonDone.team_id == team_id, col(LessonDone.user_id).in_(user_ids)
    )
    found: dict[str, set[tuple[str, str]]] = {}
    for query in (sent, done):
        for user_id, path, lesson_id in session.exec(query):
            found.setdefault(str(user_id), set()).add((str(path), str(lesson_id)))
    return found


def cards_of(session: Session, *, team_id: str, user_ids: list[str]) -> dict[str, list[ReviewCard]]:
    """Each person's live cards, shakiest (lowest box) and most overdue first."""
    query = select(ReviewCard).where(
        ReviewCard.team_id == team_id,
        col(ReviewCard.user_id).in_(user_ids),
        col(ReviewCard.retired).is_(False),
    )
    found: dict[str, list[ReviewCard]] = {}
    for row in session.exec(query.order_by(col(ReviewCard.box), col(ReviewCard.due_day))):
        found.setdefault(row.user_id, []).append(row)
    return found


def touch_subscription(
    session: Session, *, team_id: str, user_id: str, path: str, at: datetime
) -> None:
    session.execute(
        update(LessonSubscription)
        .where(
            col(LessonSubscription.team_id) == team_id,
            col(LessonSubscription.user_id) == user_id,
            col(LessonSubscription.path) == path,
        )
        .values(last_delivered_at=at)
    )


def finish_placement(session: Session, *, team_id: str, user_id: str, path: str) -> bool:
    """Close a person's placement check on a path; False when it was not open (closed
    already by its last answer, or by the next lesson slot): only one closer plans what
    follows."""
    statement = (
        update(LessonSubscription)
        .where(
            col(LessonSubscription.team_id) == team_id,
            col(LessonSubscription.user_id) == user_id,
            col(LessonSubscription.path) == path,
            col(LessonSubscription.placement) == PLACEMENT_SENT,
        )
        .values(placement=PLACEMENT_DONE)
    )
    return changed(session, statement)


def next_slots(
    session: Session, *, team_id: str, user_ids: list[str], schedule_ids: list[int]
) -> dict[str, datetime | None]:
    """The next slot of each learner (by user ID) and channel schedule (by "schedule:<id>")."""
    found: dict[str, datetime | None] = {}
    if user_ids:
        query = select(Learner.user_id, Learner.next_due_at).where(
            Learner.team_id == team_id, col(Learner.user_id).in_(user_ids)
        )
        found.update({str(user): due for user, due in session.exec(query)})
    if schedule_ids:
        query2 = select(ChannelSchedule.id, ChannelSchedule.next_due_at).where(
            ChannelSchedule.team_id == team_id, col(ChannelSchedule.id).in_(schedule_ids)
        )
        found.update({f"schedule:{row_id}": due for row_id, due in session.exec(query2)})
    return found


def learners_due(session: Session, *, team_id: str, now: datetime, limit: int) -> list[Learner]:
    """Learners whose next slot has come, locked for this planner where the database can."""
    query = (
        select(Learner)
        .where(
            Learner.team_id == team_id,
            col(Learner.next_due_at) <= now,
            col(Learner.stopped_reason).is_(None),
        )
        .order_by(col(Learner.next_due_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(query))


def schedules_due(
    session: Session, *, team_id: str, now: datetime, limit: int
) -> list[ChannelSchedule]:
    query = (
        select(ChannelSchedule)
        .where(
            ChannelSchedule.team_id == team_id,
            col(ChannelSchedule.status) == ACTIVE,
            col(ChannelSchedule.next_due_at) <= now,
        )
        .order_by(col(ChannelSchedule.next_due_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(query))


# --- channel schedules ----------------------------------------------------------------------


def schedules(session: Session, *, team_id: str) -> list[ChannelSchedule]:
    query = select(ChannelSchedule).where(ChannelSchedule.team_id == team_id)
    return list(session.exec(query.order_by(col(ChannelSchedule.id))))


def schedule(session: Session, *, team_id: str, schedule_id: int) -> ChannelSchedule | None:
    row = session.get(ChannelSchedule, schedule_id)
    return row if row is not None and row.team_id == team_id else None


def schedule_for(
    session: Session, *, team_id: str, channel: str, path: str
) -> ChannelSchedule | None:
    query = select(ChannelSchedule).where(
        ChannelSchedule.team_id == team_id,
        ChannelSchedule.channel == channel,
        ChannelSchedule.path == path,
    )
    return session.exec(query).first()


def delete_schedule(session: Session, row: ChannelSchedule) -> None:
    session.delete(row)


# --- deliveries -----------------------------------------------------------------------------


def plan(session: Session, **values: Any) -> int | None:
    """Record a delivery as due; None when its `dedupe_key` is planned already (another
    planner, or an earlier run, got there first)."""
    statement = insert_for(session)(LessonDelivery).values(status=DUE, attempts=0, **values)
    if values.get("dedupe_key") is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    result = session.execute(statement.returning(col(LessonDelivery.id)))
    return result.scalar_one_or_none()


def plan_all(session: Session, planned: list[dict[str, Any]]) -> int:
    """Record many scheduled deliveries in one statement; how many were new (the others'
    `dedupe_key` was planned already)."""
    if not planned:
        return 0
    statement = (
        insert_for(session)(LessonDelivery)
        .values([{"status": DUE, "attempts": 0, **values} for values in planned])
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(col(LessonDelivery.id))
    )
    return len(session.execute(statement).all())


def planned_on(session: Session, *, team_id: str, dedupe_key: str) -> bool:
    query = select(LessonDelivery.id).where(
        LessonDelivery.team_id == team_id, LessonDelivery.dedupe_key == dedupe_key
    )
    return session.exec(query).first() is not None


def delivery(session: Session, *, team_id: str, delivery_id: int) -> LessonDelivery | None:
    row = session.get(LessonDelivery, delivery_id)
    return row if row is not None and row.team_id == team_id else None


def delivered_lessons(
    session: Session, *, team_id: str, recipient: str, schedule_id: int | None = None
) -> set[tuple[str, str]]:
    """(path, lesson) pairs planned or sent to a recipient (failed ones do not count)."""
    query = select(LessonDelivery.path, LessonDelivery.lesson_id).where(
        LessonDelivery.team_id == team_id,
        LessonDelivery.recipient == recipient,
        col(LessonDelivery.status) != FAILED,
        col(LessonDelivery.lesson_id).is_not(None),
    )
    if schedule_id is not None:
        query = query.where(LessonDelivery.schedule_id == schedule_id)
    return {(str(path), str(lesson)) for path, lesson in session.exec(query)}


def claim(
    session: Session,
    *,
    team_id: str,
    token: str,
    now: datetime,
    stale_before: datetime,
    limit: int,
    ids: Sequence[int] | None = None,
) -> list[LessonDelivery]:
    """Take up to `limit` deliveries to send: due ones, and ones whose claimer went quiet
    before `stale_before` (it died mid-send). Rows another claimer holds locked are skipped,
    so concurrent senders never take the same row."""
    ready = and_(
        col(LessonDelivery.status) == DUE,
        or_(col(LessonDelivery.not_before).is_(None), col(LessonDelivery.not_before) <= now),
    )
    stale = and_(
        col(LessonDelivery.status) == SENDING, col(LessonDelivery.claimed_at) < stale_before
    )
    query = select(LessonDelivery.id).where(LessonDelivery.team_id == team_id, or_(ready, stale))
    if ids is not None:
        query = query.where(col(LessonDelivery.id).in_(ids))
    query = query.order_by(col(LessonDelivery.id)).limit(limit).with_for_update(skip_locked=True)
    chosen = [row_id for row_id in session.exec(query) if row_id is not None]
    if not chosen:
        return []
    session.execute(
        update(LessonDelivery)
        .where(col(LessonDelivery.id).in_(chosen))
        .values(
            status=SENDING,
            claim=token,
            claimed_at=now,
            attempts=col(LessonDelivery.attempts) + 1,
        )
    )
    rows = session.exec(
        select(LessonDelivery)
        .where(col(LessonDelivery.id).in_(chosen))
        .order_by(col(LessonDelivery.id))
        .execution_options(populate_existing=True)
    )
    return list(rows)


def finish(session: Session, *, delivery_id: int, token: str, **values: Any) -> bool:
    """Settle a claimed delivery (sent, failed, or due again); False when the claim was lost."""
    statement = (
        update(LessonDelivery)
        .where(
            col(LessonDelivery.id) == delivery_id,
            col(LessonDelivery.claim) == token,
            col(LessonDelivery.status) == SENDING,
        )
        .values(**values)
    )
    return changed(session, statement)


def record_answer(session: Session, **values: Any) -> bool:
    """Record a quiz answer; False when this person answered this quiz in this message before."""
    statement = (
        insert_for(session)(QuizAnswer)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=["team_id", "user_id", "delivery_id", "path", "lesson_id"]
        )
    )
    return changed(session, statement)


def answer_of(
    session: Session, *, team_id: str, user_id: str, delivery_id: int, path: str, lesson_id: str
) -> QuizAnswer | None:
    query = select(QuizAnswer).where(
        QuizAnswer.team_id == team_id,
        QuizAnswer.user_id == user_id,
        QuizAnswer.delivery_id == delivery_id,
        QuizAnswer.path == path,
        QuizAnswer.lesson_id == lesson_id,
    )
    return session.exec(query).first()


def answers_in(
    session: Session, *, team_id: str, delivery_id: int, user_id: str
) -> list[QuizAnswer]:
    query = select(QuizAnswer).where(
        QuizAnswer.team_id == team_id,
        QuizAnswer.delivery_id == delivery_id,
        QuizAnswer.user_id == user_id,
    )
    return list(session.exec(query))


def answers_by(session: Session, *, team_id: str, user_id: str) -> list[QuizAnswer]:
    query = select(QuizAnswer).where(QuizAnswer.team_id == team_id, QuizAnswer.user_id == user_id)
    return list(session.exec(query))


def card(
    session: Session, *, team_id: str, user_id: str, path: str, lesson_id: str
) -> ReviewCard | None:
    return session.get(ReviewCard, (team_id, user_id, path, lesson_id))


def cards(session: Session, *, team_id: str, user_id: str) -> list[ReviewCard]:
    query = select(ReviewCard).where(
        ReviewCard.team_id == team_id,
        ReviewCard.user_id == user_id,
        col(ReviewCard.retired).is_(False),
    )
    return list(session.exec(query.order_by(col(ReviewCard.box), col(ReviewCard.due_day))))


def mark_done(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    path: str,
    lesson_id: str,
    at: datetime,
    how: str = LEARNED,
) -> bool:
    """Record a completed lesson (LEARNED or KNOWN); False when it was done before."""
    statement = (
        insert_for(session)(LessonDone)
        .values(
            team_id=team_id, user_id=user_id, path=path, lesson_id=lesson_id, done_at=at, how=how
        )
        .on_conflict_do_nothing(index_elements=["team_id", "user_id", "path", "lesson_id"])
    )
    return changed(session, statement)


def done_lessons(session: Session, *, team_id: str, user_id: str) -> set[tuple[str, str]]:
    return set(how_done(session, team_id=team_id, user_id=user_id))


def how_done(session: Session, *, team_id: str, user_id: str) -> dict[tuple[str, str], str]:
    """Each (path, lesson) a person has done, and how: LEARNED or KNOWN."""
    query = select(LessonDone.path, LessonDone.lesson_id, LessonDone.how).where(
        LessonDone.team_id == team_id, LessonDone.user_id == user_id
    )
    return {(str(path), str(lesson)): str(how) for path, lesson, how in session.exec(query)}


def missed_lessons_of(
    session: Session, *, team_id: str, user_ids: list[str]
) -> dict[str, set[tuple[str, str]]]:
    """(path, lesson) pairs whose quiz each person got wrong in that lesson's own message
    (not as a review, nor in a placement check): what a remedial lesson is for."""
    query = (
        select(QuizAnswer.user_id, QuizAnswer.path, QuizAnswer.lesson_id)
        .join(LessonDelivery, col(LessonDelivery.id) == col(QuizAnswer.delivery_id))
        .where(
            QuizAnswer.team_id == team_id,
            col(QuizAnswer.user_id).in_(user_ids),
            col(QuizAnswer.correct).is_(False),
            col(LessonDelivery.path) == col(QuizAnswer.path),
            col(LessonDelivery.lesson_id) == col(QuizAnswer.lesson_id),
        )
    )
    found: dict[str, set[tuple[str, str]]] = {}
    for user_id, path, lesson_id in session.exec(query):
        found.setdefault(str(user_id), set()).add((str(path), str(lesson_id)))
    return found


def complete_path(session: Session, *, team_id: str, user_id: str, path: str, at: datetime) -> bool:
    """Record a completed path; False when it was completed before."""
    statement = (
        insert_for(session)(PathCompletion)
        .values(team_id=team_id, user_id=user_id, path=path, completed_at=at)
        .on_conflict_do_nothing(index_elements=["team_id", "user_id", "path"])
    )
    return changed(session, statement)


def completions(session: Session, *, team_id: str, user_id: str) -> dict[str, datetime]:
    query = select(PathCompletion).where(
        PathCompletion.team_id == team_id, PathCompletion.user_id == user_id
    )
    return {row.path: row.completed_at for row in session.exec(query)}
