"""Learning records: the rows other capabilities write (questions, routed questions, drafts,
lessons, quizzes, badges, points) that statements are made from, the ledger that keeps each
statement as it was made, and the workspace's address that names every actor.

- The events are read per stretch of time: half-open windows [start, end) of a day or so,
  so that no session stays open long and no window brings more than a day's rows into
  memory.
- `LearningRecord` is the ledger: one row per statement, made once (its id a fresh UUID)
  and never changed; exports and the LRS outbox read it. `event` names what the statement
  records ("asked/17"), once per workspace, so that recording again is harmless.
- `RecordIdentity` keeps the UUIDs that tie statements together (a question's registration,
  a person's way through a path), made once like the statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint, and_, cast, delete, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Field, Session, col

from store.assignments import AssignedPerson, Assignment
from store.badges import BadgeAward, PointLedger
from store.base import TeamKeyed, TeamScoped, insert_for, utc_field
from store.knowledge import KnowledgeEntryRow, QuestionLog
from store.lesson_reminders import LessonReminder
from store.lessons import (
    CHANNEL,
    KNOWN,
    PERSON,
    SENT,
    LessonDelivery,
    LessonDone,
    LessonPathRow,
    PathCompletion,
    QuizAnswer,
)
from store.networks import NetworkTopicRow, RoutedQuestion
from store.review import APPROVED, EntryDraft

#: A half-open stretch of time, [start, end), with aware UTC datetimes.
Window = tuple[datetime, datetime]


class Workspace(TeamKeyed, table=True):
    """The Slack workspace's address (`https://acme.slack.com/`), as auth.test gave it when
    Eddy last started: every actor's `account.homePage`, also for exports run offline."""

    __tablename__ = "workspace"

    url: str = Field(max_length=200)
    seen_at: datetime = utc_field()
    #: Events before this are in the ledger (give or take the overlap each recording pass
    #: reads again); None until the first pass.
    recorded_until: datetime | None = utc_field(default=None, nullable=True)
    #: The database held events before the ledger existed: the first pass records them under
    #: the ids they were exported and forwarded with then (derived from their rows).
    legacy_ids: bool = False


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


def workspace(session: Session, *, team_id: str) -> Workspace | None:
    return session.get(Workspace, team_id)


def advance_recording(session: Session, *, team_id: str, to: datetime) -> None:
    """Move the ledger's cursor forward (never back: another instance may be ahead); the
    first pass is over, so ids are new from now on."""
    row = session.get(Workspace, team_id, with_for_update=True)
    if row is None:
        return
    if row.recorded_until is None or row.recorded_until < to:
        row.recorded_until = to
    row.legacy_ids = False
    session.add(row)


# --- the ledger -----------------------------------------------------------------------------


class LearningRecord(TeamScoped, table=True):
    """One xAPI statement, exactly as it was made when Eddy recorded its event."""

    __tablename__ = "learning_record"
    __table_args__ = (UniqueConstraint("team_id", "event"),)

    statement_id: str = Field(max_length=36, primary_key=True)
    #: What it records, unique in the workspace: "asked/17", "completed/U1/onboarding", ….
    event: str = Field(max_length=200)
    #: The user ID of the statement's actor.
    actor: str = Field(max_length=32, index=True)
    #: The statement a voiding statement voids.
    voids: str | None = Field(default=None, max_length=36, index=True)
    happened_at: datetime = utc_field(index=True)
    recorded_at: datetime = utc_field(index=True)
    statement: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


@dataclass(frozen=True)
class NewRecord:
    """A statement to keep: what it records, the statement (its id, actor and any
    StatementRef come from it), when its event happened and when it was recorded."""

    event: str
    statement: dict[str, Any]
    happened_at: datetime
    recorded_at: datetime


class ErasedEvent(TeamKeyed, table=True):
    """An event whose statement was dropped when a person was forgotten: it is never
    recorded again. Named as its rows now name it (the pseudonym where the ID stood)."""

    __tablename__ = "erased_event"

    event: str = Field(max_length=200, primary_key=True)


def recorded_events(session: Session, *, team_id: str, events: list[str]) -> set[str]:
    """Which of `events` the ledger has, or had before an erasure."""
    found: set[str] = set()
    for start in range(0, len(events), 500):
        chunk = events[start : start + 500]
        for table in (LearningRecord, ErasedEvent):
            query = select(col(table.event)).where(
                col(table.team_id) == team_id, col(table.event).in_(chunk)
            )
            found.update(session.execute(query).scalars())
    return found


def erase_events(session: Session, *, team_id: str, events: list[str]) -> None:
    """Remember that these events' statements were dropped for good."""
    if events:
        insert = insert_for(session)(ErasedEvent).values(
            [{"team_id": team_id, "event": event} for event in events]
        )
        session.execute(insert.on_conflict_do_nothing())


def add_records(session: Session, *, team_id: str, records: list[NewRecord]) -> list[str]:
    """Keep statements whose events the ledger does not have yet (another instance may have
    recorded one a moment ago: its statement stays); the ids kept."""
    if not records:
        return []
    values = [
        {
            "statement_id": record.statement["id"],
            "team_id": team_id,
            "event": record.event,
            "actor": record.statement["actor"]["account"]["name"],
            "voids": _voided_by(record.statement),
            "happened_at": record.happened_at,
            "recorded_at": record.recorded_at,
            "statement": record.statement,
        }
        for record in records
    ]
    insert = (
        insert_for(session)(LearningRecord.__table__)  # type: ignore[attr-defined]
        .on_conflict_do_nothing()
        .returning(col(LearningRecord.statement_id))
    )
    # One statement for many rows (executemany), compiled once: a multi-row VALUES is
    # compiled again for every size of batch.
    return list(session.execute(insert, values).scalars())


def _voided_by(statement: dict[str, Any]) -> str | None:
    target = statement.get("object", {})
    return target.get("id") if target.get("objectType") == "StatementRef" else None


def statement_for(session: Session, *, team_id: str, event: str) -> str | None:
    """The id of the statement recording `event`, if the ledger has one."""
    query = select(col(LearningRecord.statement_id)).where(
        col(LearningRecord.team_id) == team_id, col(LearningRecord.event) == event
    )
    return session.execute(query).scalar_one_or_none()


def records_in(
    session: Session,
    *,
    team_id: str,
    window: Window,
    recorded: bool = False,
) -> list[LearningRecord]:
    """The statements whose events happened in `window` (or, with `recorded`, that were
    recorded in it), in the order they happened."""
    moment = col(LearningRecord.recorded_at if recorded else LearningRecord.happened_at)
    query = (
        select(LearningRecord)
        .where(col(LearningRecord.team_id) == team_id, _within(moment, window))
        .order_by(col(LearningRecord.happened_at), col(LearningRecord.statement_id))
    )
    return list(session.execute(query).scalars())


def record_span(
    session: Session, *, team_id: str, recorded: bool = False
) -> tuple[datetime, datetime] | None:
    """When the first and the last recorded event happened (or, with `recorded`, were
    recorded)."""
    moment = col(LearningRecord.recorded_at if recorded else LearningRecord.happened_at)
    query = select(func.min(moment), func.max(moment)).where(col(LearningRecord.team_id) == team_id)
    first, last = session.execute(query).one()
    return (first, last) if first is not None else None


def records_naming(session: Session, *, team_id: str, user_id: str) -> list[LearningRecord]:
    """Statements that may name the person (by them, or holding their ID anywhere), in the
    order they happened; the caller tells which truly do. Read whole (`LIKE` uses no index):
    a person's export or erasure is rare."""
    query = (
        select(LearningRecord)
        .where(
            col(LearningRecord.team_id) == team_id,
            or_(
                col(LearningRecord.actor) == user_id,
                cast(col(LearningRecord.statement), String).contains(user_id, autoescape=True),
            ),
        )
        .order_by(col(LearningRecord.happened_at), col(LearningRecord.statement_id))
    )
    return list(session.execute(query).scalars())


def voided_ids(session: Session, *, team_id: str, ids: list[str]) -> set[str]:
    """Which of `ids` a voiding statement in the ledger voids."""
    query = select(col(LearningRecord.voids)).where(
        col(LearningRecord.team_id) == team_id, col(LearningRecord.voids).in_(ids)
    )
    return {found for found in session.execute(query).scalars() if found is not None}


def drop_records(session: Session, *, ids: list[str]) -> int:
    """Remove statements from the ledger (a person was forgotten); how many."""
    if not ids:
        return 0
    statement = delete(LearningRecord).where(col(LearningRecord.statement_id).in_(ids))
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


class RecordIdentity(TeamKeyed, table=True):
    """A UUID (or IRI path) that several statements share, by what it stands for:
    "registration/question/17", "iri/question/17", "registration/path/U1/onboarding"."""

    __tablename__ = "record_identity"

    key: str = Field(max_length=200, primary_key=True)
    value: str = Field(max_length=200)


def identity(session: Session, *, team_id: str, key: str) -> str | None:
    """The value kept for `key`, if any."""
    found = session.get(RecordIdentity, (team_id, key))
    return found.value if found is not None else None


def identities(session: Session, *, team_id: str) -> dict[str, str]:
    """Every value kept in the workspace, by key."""
    query = select(RecordIdentity).where(col(RecordIdentity.team_id) == team_id)
    return {row.key: row.value for row in session.execute(query).scalars()}


def keep_identities(session: Session, *, team_id: str, values: dict[str, str]) -> set[str]:
    """Keep new values (the first writer of a key wins); the keys another writer had kept
    first, whose values here lost."""
    if not values:
        return set()
    rows = [{"team_id": team_id, "key": key, "value": value} for key, value in values.items()]
    insert = (
        insert_for(session)(RecordIdentity)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(col(RecordIdentity.key))
    )
    return set(values) - set(session.execute(insert).scalars())


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
    begins at the first, and none needs to go past the last). Every kind of event in
    bot/xapi.py's KINDS has its moment here, or a pass would stop before it."""
    columns: tuple[tuple[Any, Any], ...] = (
        (QuestionLog, QuestionLog.asked_at),
        (RoutedQuestion, RoutedQuestion.answered_at),
        (EntryDraft, EntryDraft.reviewed_at),
        (LessonDelivery, LessonDelivery.sent_at),
        (QuizAnswer, QuizAnswer.answered_at),
        (PathCompletion, PathCompletion.completed_at),
        (LessonReminder, LessonReminder.sent_at),
        (LessonDone, LessonDone.done_at),
        (AssignedPerson, AssignedPerson.told_at),
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


#: A delivery's reason when it is a placement check (bot/lessons.py).
PLACEMENT_REASON = "placement"


@dataclass(frozen=True)
class QuizAnswered:
    """A quiz answer, and whether it was an item of a placement check."""

    id: int
    user_id: str
    path: str
    lesson_id: str
    chosen: int
    correct: bool
    review: bool
    answered_at: datetime
    placement: bool


def quiz_answers(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[QuizAnswered]:
    query = (
        select(QuizAnswer, col(LessonDelivery.reason))
        .outerjoin(LessonDelivery, col(LessonDelivery.id) == col(QuizAnswer.delivery_id))
        .where(
            col(QuizAnswer.team_id) == team_id,
            _within(col(QuizAnswer.answered_at), window),
            _of(col(QuizAnswer.user_id), user_id),
        )
    )
    return [
        QuizAnswered(
            int(row.id or 0),
            row.user_id,
            row.path,
            row.lesson_id,
            row.chosen,
            row.correct,
            row.review,
            row.answered_at,
            reason == PLACEMENT_REASON,
        )
        for row, reason in session.execute(query)
    ]


def lessons_known(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[LessonDone]:
    """Lessons people skipped as known: a placement item answered right, or I know this."""
    query = select(LessonDone).where(
        col(LessonDone.team_id) == team_id,
        col(LessonDone.how) == KNOWN,
        _within(col(LessonDone.done_at), window),
        _of(col(LessonDone.user_id), user_id),
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


@dataclass(frozen=True)
class AssignmentTold:
    """A person an assignment reached and who was told of it (and enrolled)."""

    assignment_id: int
    user_id: str
    path: str
    assigned_by: str
    kind: str
    target_name: str
    due_on: date | None
    told_at: datetime


def assignments_told(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[AssignmentTold]:
    """People told in the window of a path assigned to them (or of an onboarding journey)."""
    query = (
        select(
            col(AssignedPerson.assignment_id),
            col(AssignedPerson.user_id),
            col(Assignment.path),
            col(Assignment.assigned_by),
            col(Assignment.target_kind),
            col(Assignment.target_name),
            col(Assignment.due_on),
            col(AssignedPerson.told_at),
        )
        .join(Assignment, col(Assignment.id) == col(AssignedPerson.assignment_id))
        .where(
            col(AssignedPerson.team_id) == team_id,
            col(Assignment.team_id) == team_id,
            _within(col(AssignedPerson.told_at), window),
            _of(col(AssignedPerson.user_id), user_id),
        )
    )
    return [AssignmentTold(*row) for row in session.execute(query)]


def reminders_sent(
    session: Session, *, team_id: str, window: Window, user_id: str | None = None
) -> list[LessonReminder]:
    """Reminders of unanswered lessons that Slack took."""
    query = select(LessonReminder).where(
        col(LessonReminder.team_id) == team_id,
        _within(col(LessonReminder.sent_at), window),
        _of(col(LessonReminder.user_id), user_id),
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
