"""Reminders that respect people: a lesson nobody answered is mentioned again later that day,
and lessons pause instead of piling up.

    report = remind(runtime, now)       # the scheduler's job, every few minutes
    resume(runtime, user_id, now=now)   # the person's Resume button

**When.** A scheduled lesson sent to a person has steps (`bot.lessons.reminder_at`): its
reminders (EDDY_LESSON_REMINDERS, default one), spread evenly over the person's lesson window
(EDDY_LESSON_WINDOW_HOURS from their lesson time, default 8), then a last check at the
window's end. A reminder goes out only while it is still the lesson's own local day, within
the window, on a lesson day (a scheduled lesson's day is one) and while the person is neither
paused nor stopped; a lesson they asked for themselves (`/learn next`, a Start) gets none:
they are looking at it. Answering (the quiz, Mark as done, I know this) ends the steps.

**Pausing.** At the last check, when the person's last EDDY_PAUSE_AFTER_UNANSWERED scheduled
lessons (default 3) all went unanswered, their lessons pause: no new ones are planned, they are
told once with a Resume button, and the managers' console lists who is paused and why.
Answering any lesson, `/learn next` or starting a path resumes them too; lessons unanswered
before a resume never count towards another pause.

**Streaks.** When the person's streak breaks unless they do a lesson today, the reminder says
so, once a day (`Learner.streak_warned_day`).

**Once.** Every step is claimed by a conditional update of its delivery row
(store/lesson_reminders.py; the steps of a batch that share their instants in one
statement), so with several instances each reminder is sent once; the claim comes before the
message, so a failed post loses a reminder rather than doubling it. A batch's reminders are
handed over together (`LessonReminders`), so that those Slack took are kept in one unit of
work.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot.lessons import Schedule, paths, reminder_at
from bot.runtime import HomeChanged, Runtime
from store import lesson_reminders as rows
from store import lessons as lesson_rows

log = logging.getLogger(__name__)

#: Delivery rows looked at per transaction.
BATCH = 200


@dataclass(frozen=True)
class LessonReminder:
    """Tell a person their lesson is waiting (handed to `Runtime.notify` with the rest of its
    batch: `LessonReminders`)."""

    user_id: str
    delivery_id: int
    #: Which of the lesson's reminders this is (from 1).
    step: int
    path: str
    lesson: str
    path_title: str
    lesson_title: str
    #: Where the lesson message is (their DM with Eddy) and its ts, to link to it.
    channel: str | None
    ts: str | None
    #: The streak that breaks unless they do a lesson today (0: none to mention).
    streak: int = 0


@dataclass(frozen=True)
class LessonReminders:
    """The reminders of one batch of steps, to send (handed to `Runtime.notify` together, so
    that what Slack took is kept in one unit of work: `reminded`)."""

    reminders: tuple[LessonReminder, ...]


@dataclass(frozen=True)
class LessonsPaused:
    """Tell a person their lessons wait for them (handed to `Runtime.notify`)."""

    user_id: str
    reason: str


@dataclass
class ReminderReport:
    reminded: int = 0
    paused: int = 0
    #: Steps that found the lesson answered, or its person paused, stopped or out of window.
    settled: int = 0
    notices: list[LessonReminder | LessonsPaused] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.reminded} reminded, {self.paused} paused, {self.settled} settled"


def pause_reason(count: int) -> str:
    """Why lessons paused, in words for the person and their managers."""
    lessons = "lesson" if count == 1 else f"{count} lessons in a row"
    return f"the last {lessons} went unanswered"


@dataclass
class _Recent:
    """Each person's last few scheduled lessons, and which of those they answered, read for
    a whole batch of last checks at once (a query or three per person would dominate the
    reminder job with many learners)."""

    lessons: dict[str, list[lesson_rows.LessonDelivery]]
    answered: set[int]

    @classmethod
    def load(cls, session: Session, runtime: Runtime, user_ids: list[str]) -> _Recent:
        count = runtime.settings.eddy_pause_after_unanswered
        lessons = rows.recent_lessons_of(
            session, team_id=runtime.team_id, user_ids=user_ids, count=count
        )
        # Only someone with enough lessons can be paused: only theirs are looked up.
        enough = [row for recent in lessons.values() if len(recent) >= count for row in recent]
        return cls(lessons, rows.answered(session, team_id=runtime.team_id, deliveries=enough))

    def of(self, user_id: str) -> list[lesson_rows.LessonDelivery]:
        """The person's last few scheduled lessons that were sent, newest first."""
        return self.lessons.get(user_id, [])


def remind(runtime: Runtime, now: datetime) -> ReminderReport:
    """Take every reminder step due at `now`: remind, pause, or settle (see the module)."""
    report = ReminderReport()
    last = runtime.settings.eddy_lesson_reminders
    while True:
        with runtime.store.session() as session:
            due = rows.due(session, team_id=runtime.team_id, now=now, limit=BATCH)
            done = rows.answered(session, team_id=runtime.team_id, deliveries=due)
            people = rows.learners(
                session, team_id=runtime.team_id, user_ids=sorted({row.recipient for row in due})
            )
            steps = [
                (row, _next_at(runtime, row, row.id in done, people.get(row.recipient)))
                for row in due
            ]
            # Claimed before anything is decided or sent: the rest are another instance's.
            taken = rows.take_steps(session, steps)
            checked = {row.recipient for row in due if row.id in taken and row.reminders >= last}
            recent = _Recent.load(session, runtime, sorted(checked))
            told = len(report.notices)
            for row, next_at in steps:
                if row.id in taken:
                    learner = people.get(row.recipient)
                    _step(
                        session, runtime, row, next_at, row.id in done, learner, recent, now, report
                    )
        _tell(runtime, report.notices[told:])
        if len(due) < BATCH:
            return report


def _tell(runtime: Runtime, notices: list[LessonReminder | LessonsPaused]) -> None:
    """Hand over a batch's notices: its reminders together, then whose lessons paused."""
    reminders = tuple(notice for notice in notices if isinstance(notice, LessonReminder))
    if reminders:
        runtime.notify(LessonReminders(reminders))
    for notice in notices:
        if isinstance(notice, LessonsPaused):
            runtime.notify(notice)
            runtime.notify(HomeChanged(users=(notice.user_id,), managers=True))


def _quiet(answered: bool, learner: lesson_rows.Learner | None) -> bool:
    """No reminder for this lesson: answered, or its person gone, stopped or paused."""
    return answered or learner is None or bool(learner.stopped_reason or learner.paused_reason)


def _next_at(
    runtime: Runtime,
    row: lesson_rows.LessonDelivery,
    answered: bool,
    learner: lesson_rows.Learner | None,
) -> datetime | None:
    """When the step after the one due on `row` falls (None: this step is its last)."""
    settings = runtime.settings
    if _quiet(answered, learner) or row.reminders >= settings.eddy_lesson_reminders:
        return None
    return None if row.sent_at is None else reminder_at(settings, row.sent_at, row.reminders + 2)


def _step(
    session: Session,
    runtime: Runtime,
    row: lesson_rows.LessonDelivery,
    next_at: datetime | None,
    answered: bool,
    learner: lesson_rows.Learner | None,
    recent: _Recent,
    now: datetime,
    report: ReminderReport,
) -> None:
    """Carry out a step this instance took (claimed with `next_at` as the step after it)."""
    settings = runtime.settings
    taken = row.reminders  # as loaded (the claim does not update `row`)
    last = taken >= settings.eddy_lesson_reminders
    if _quiet(answered, learner) or learner is None:
        if next_at is not None and row.id is not None:
            # Paused by an earlier step of this batch, after the claim: no more steps.
            rows.end_steps(session, delivery_id=row.id, reminders=taken + 1, remind_at=next_at)
        report.settled += 1
        return
    if last:
        if _pause_if_ignored(session, runtime, learner, row, recent, now):
            report.paused += 1
            report.notices.append(LessonsPaused(learner.user_id, str(learner.paused_reason)))
        else:
            report.settled += 1
        return
    schedule = Schedule.of(learner)
    today = schedule.local_day(now)
    window_end = schedule.slot_on(row.day) + settings.lesson_window
    if today != row.day or now > window_end or row.path is None or row.lesson_id is None:
        report.settled += 1
        return
    path = paths(runtime).get(row.path)
    lesson = path.lesson(row.lesson_id) if path else None
    if path is None or lesson is None:
        report.settled += 1
        return
    streak = 0
    at_risk = learner.streak >= 2 and learner.streak_day == schedule.previous_day(today)
    if at_risk and learner.streak_warned_day != today:
        streak = learner.streak
        learner.streak_warned_day = today
        lesson_rows.save(session, learner)
    assert row.id is not None
    report.reminded += 1
    report.notices.append(
        LessonReminder(
            learner.user_id,
            row.id,
            taken + 1,
            path.id,
            lesson.id,
            path.title,
            lesson.title,
            row.channel,
            row.ts,
            streak,
        )
    )


def _pause_if_ignored(
    session: Session,
    runtime: Runtime,
    learner: lesson_rows.Learner,
    row: lesson_rows.LessonDelivery,
    batch: _Recent,
    now: datetime,
) -> bool:
    """Pause the learner when their last few scheduled lessons, this one among them, all
    went unanswered; True when they were paused now."""
    count = runtime.settings.eddy_pause_after_unanswered
    recent = batch.of(learner.user_id)
    resumed = learner.paused_at  # no reason: when they last resumed
    if resumed is not None:
        recent = [each for each in recent if each.sent_at is not None and each.sent_at > resumed]
    if len(recent) < count or row.id not in {each.id for each in recent}:
        return False
    if any(each.id in batch.answered for each in recent):
        return False
    reason = pause_reason(count)
    if not rows.pause(
        session, team_id=runtime.team_id, user_id=learner.user_id, reason=reason, at=now
    ):
        return False
    learner.paused_reason = reason
    log.info("Lessons of %s paused: %s", learner.user_id, reason)
    return True


def reminded(runtime: Runtime, sent: Sequence[tuple[LessonReminder, datetime]]) -> None:
    """Slack took these reminders (each with when it did): keep them (their learning
    records, their counts), in one unit of work."""
    if not sent:
        return
    with runtime.store.session() as session:
        rows.record(
            session,
            [
                {
                    "team_id": runtime.team_id,
                    "delivery_id": notice.delivery_id,
                    "step": notice.step,
                    "user_id": notice.user_id,
                    "path": notice.path,
                    "lesson_id": notice.lesson,
                    "sent_at": at,
                }
                for notice, at in sent
            ],
        )


def resume(runtime: Runtime, user_id: str, *, now: datetime) -> bool:
    """The person's lessons flow again from their next lesson slot; False when they were not
    paused (resumed already, say, from another device)."""
    with runtime.store.session() as session:
        learner = lesson_rows.learner(session, team_id=runtime.team_id, user_id=user_id)
        if learner is None or learner.paused_reason is None:
            return False
        learner.paused_reason, learner.paused_at = None, now
        if learner.stopped_reason is None:
            learner.next_due_at = Schedule.of(learner).next_slot(at_or_after=now)
        lesson_rows.save(session, learner)
        rows.stop_reminding(session, team_id=runtime.team_id, user_id=user_id)
    log.info("Lessons of %s resumed", user_id)
    runtime.notify(HomeChanged(users=(user_id,), managers=True))
    return True


@dataclass(frozen=True)
class PausedLearner:
    user_id: str
    reason: str
    since: datetime | None


def paused_learners(runtime: Runtime) -> list[PausedLearner]:
    """Who is paused and why, for the managers' console."""
    with runtime.store.session() as session:
        found = rows.paused(session, team_id=runtime.team_id)
    return [PausedLearner(row.user_id, str(row.paused_reason), row.paused_at) for row in found]
