"""Micro-lessons: who gets which lesson when, delivered exactly once, with quizzes that come
back until they stick.

    start(runtime, user_id, path, tz=…, now=…)     # subscribe; the first lesson is planned now
    report = deliver(runtime, now)                  # the scheduler's job: plan what is due, send
    answer_quiz(runtime, user_id, delivery_id, path, lesson_id, chosen, tz=…, now=…)

**When.** A learner has one schedule (local time, weekdays; 09:30 on weekdays unless they
choose) in their own Slack time zone. `next_due_at` holds their next slot in UTC, computed
from the local date and time through zoneinfo, so a DST change moves the UTC instant and the
local time stays put. A day is delivered late (after downtime) only within `LATE_WINDOW`.
A channel schedule works the same way, in the time zone the manager chose.

**Exactly once.** Delivery has two steps. Planning records each due message as a row keyed by
(recipient, local day), so any number of planners agree on one row. Sending claims rows in
batches (`FOR UPDATE SKIP LOCKED`) and posts each with message metadata naming its row.
When the outcome of a post is unknown (the process died, the connection dropped, Slack
answered 5xx), the row is not simply posted again: the next claimer first looks for a
message carrying that metadata in the conversation and, if it is there, only records it.
429s are waited out by slack_sdk's RateLimitErrorRetryHandler (Slack did not post them).

**Spaced repetition: Leitner boxes.** Every quiz a person answers becomes a card in their
deck. A wrong answer puts it in box 1 (back the next lesson day); a right one moves it up a
box, and each box waits longer (`BOX_DAYS`): 1, 3, 7, 14, 30 days. Right in the last box
retires it. Due cards ride along in the person's next lesson message, up to
`REVIEWS_PER_MESSAGE`, the lowest boxes (the shakiest items) first. Leitner rather than SM-2:
one right/wrong tap gives no graded recall quality for SM-2 to use, and boxes are easy to
explain to a learner ("you'll see this again in 7 days").

**Adapting to the person.** Four things let people skip what they know and get help where
they stumble, and every one of them counts fairly (a lesson done *known* is done):

- *Journeys.* A subscription with `anchor_day` (an onboarding journey's day 1, in the
  person's zone) holds a lesson with `day: n` back until the local day anchor + n − 1, or the
  first lesson day after it; lessons without `day:` follow the one before. Without an anchor
  (a path someone chose) `day:` is ignored: they asked to learn now, and one lesson per
  lesson day already paces the path.
- *Placement.* A path with `placement:` opens with one message of its own quiz items
  (`LearningPath.placement_items`), before any of its lessons. Each item answered right marks
  its lesson done as KNOWN and files its quiz in the deck (box 2: it comes back in 3 days, a
  check that it really is known); a wrong one leaves the lesson on the path. The check ends
  when every item is answered (the first lesson not known follows at once) or when the next
  lesson slot comes (unanswered items are not known).
- *I know this.* On a lesson in a DM: done as KNOWN, its quiz into the deck like a placement
  item. The next lesson still waits for the next slot: skipping never floods a person, and
  the reviews check what was skipped.
- *Remedial lessons.* A missed quiz in a lesson's own message brings that lesson's
  `remedial:` next (once), ahead of the main line and of any journey day.
"""

from __future__ import annotations

import logging
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from time import thread_time
from typing import Any, Protocol, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import fuzz, process
from sqlmodel import Session

from bot import badges
from bot.content.lesson_paths import LearningPath, Lesson, Quiz
from bot.names import find_by_name
from bot.runtime import HomeChanged, Runtime
from bot.settings import Settings
from store import assignments as assignment_rows
from store import lessons as rows

log = logging.getLogger(__name__)

#: Who a delivery goes to: a person (by DM) or a channel.
PERSON, CHANNEL = rows.PERSON, rows.CHANNEL
DEFAULT_TIME = time(9, 30)
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
#: A slot missed by more than this (Eddy was down) is skipped, not sent in the evening.
LATE_WINDOW = timedelta(hours=4)
#: A claim older than this is taken to have died; its row is checked in Slack and finished.
CLAIM_LEASE = timedelta(minutes=5)
CLAIM_BATCH = 50
#: How far Slack's clock may be behind ours when looking for an earlier attempt's message.
CLOCK_SKEW = timedelta(minutes=10)
#: Senders working side by side in one delivery run.
SEND_WORKERS = 4
PLAN_BATCH = 500
#: Attempts before a delivery that keeps failing for unknown reasons is given up.
MAX_ATTEMPTS = 5
#: Waits before attempts 2, 3, 4, 5.
RETRY_BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
REVIEWS_PER_MESSAGE = 2
#: A delivery's reason when it is a path's placement check (its items ride in `reviews`).
PLACEMENT = "placement"
PLACEMENT_CLOSED = (
    "That placement check has closed: its lessons now come one by one (and “I know this” on "
    "a lesson skips it)."
)
#: Leitner box → days until the card is due again.
BOX_DAYS = {1: 1, 2: 3, 3: 7, 4: 14, 5: 30}
LAST_BOX = max(BOX_DAYS)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --- schedules --------------------------------------------------------------------------------


def reminder_at(settings: Settings, sent_at: datetime, step: int) -> datetime:
    """When step `step` (from 1) of a sent lesson's reminders is due (bot/lesson_reminders.py):
    its reminders spread evenly over the person's lesson window after it was sent, then a last
    check at the window's end."""
    reminders = settings.eddy_lesson_reminders
    if step > reminders:
        return sent_at + settings.lesson_window
    return sent_at + settings.lesson_window * step / (reminders + 1)


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone, or UTC when it is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class StoredSchedule(TypedDict):
    tz: str
    deliver_at: str
    days: str


@dataclass(frozen=True)
class Schedule:
    """Local delivery time on some weekdays, in one time zone."""

    tz: str
    at: time = DEFAULT_TIME
    days: frozenset[int] = WEEKDAYS

    @classmethod
    def of(cls, row: rows.Learner | rows.ChannelSchedule) -> Schedule:
        hours, minutes = row.deliver_at.split(":")
        return cls(row.tz, time(int(hours), int(minutes)), frozenset(int(d) for d in row.days))

    @property
    def stored(self) -> StoredSchedule:
        return {
            "tz": self.tz,
            "deliver_at": self.at.strftime("%H:%M"),
            "days": "".join(str(d) for d in sorted(self.days)),
        }

    def local_day(self, instant: datetime) -> date:
        return instant.astimezone(zone(self.tz)).date()

    def slot_on(self, day: date) -> datetime:
        """The UTC instant of the local delivery time on `day` (in a DST gap, just after it)."""
        local = datetime.combine(day, self.at, tzinfo=zone(self.tz))
        return local.astimezone(UTC)

    def lesson_day_from(self, day: date) -> date:
        """The first of this schedule's days on or after `day`."""
        return next(
            day + timedelta(days=offset)
            for offset in range(7)
            if (day + timedelta(days=offset)).weekday() in self.days
        )

    def next_slot(
        self, *, at_or_after: datetime | None = None, after_day: date | None = None
    ) -> datetime:
        """The first slot at or after an instant, or on the first scheduled day after a day
        (give one of the two)."""
        if after_day is not None:
            start = after_day + timedelta(days=1)
        elif at_or_after is not None:
            start = self.local_day(at_or_after)
        else:
            raise ValueError("next_slot needs at_or_after or after_day")
        for offset in range(8):
            day = start + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            slot = self.slot_on(day)
            if at_or_after is None or slot >= at_or_after:
                return slot
        return self.slot_on(start + timedelta(days=8))

    def previous_day(self, day: date) -> date:
        """The last scheduled day before `day`."""
        for back in range(1, 8):
            earlier = day - timedelta(days=back)
            if earlier.weekday() in self.days:
                return earlier
        return day - timedelta(days=7)

    def describe(self) -> str:
        return f"{describe_days(self.days)} at {self.at.strftime('%H:%M')} ({self.tz})"


def describe_days(days: frozenset[int]) -> str:
    if days == WEEKDAYS:
        return "weekdays"
    if days == EVERY_DAY:
        return "every day"
    if days == frozenset({5, 6}):
        return "weekends"
    return ", ".join(DAY_NAMES[d].capitalize() for d in sorted(days))


_TIME = re.compile(r"^(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?\s*(?P<ampm>am|pm)?$", re.IGNORECASE)


def parse_time(word: str) -> time | None:
    """`9:30`, `09:30`, `17:00`, `9am`, `5.30pm` → a time; anything else → None."""
    found = _TIME.match(word.strip())
    if not found or (found["m"] is None and found["ampm"] is None):
        return None
    hour, minute = int(found["h"]), int(found["m"] or 0)
    if found["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if found["ampm"].lower() == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_days(word: str) -> frozenset[int] | None:
    """`weekdays`, `daily`, `weekends`, `mon-fri`, `mon,wed,fri` → weekday numbers, else None."""
    text = word.strip().lower()
    named = {
        "weekdays": WEEKDAYS,
        "daily": EVERY_DAY,
        "everyday": EVERY_DAY,
        "weekends": frozenset({5, 6}),
    }
    if text in named:
        return named[text]
    days: set[int] = set()
    for part in filter(None, re.split(r"[,\s]+", text)):
        ends = part.split("-")
        if len(ends) > 2 or any(end[:3] not in DAY_NAMES for end in ends):
            return None
        first, last = (DAY_NAMES.index(end[:3]) for end in (ends[0], ends[-1]))
        days.update(
            range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        )
    return frozenset(days) or None


# --- a schedule as people give it ---------------------------------------------------------------
# `/learn schedule` and the Home tab's schedule form read a schedule through these, so a typo is
# refused by both, in the same words, and never becomes part of a path's name.

ZONE_EXAMPLE = "Europe/Berlin"
#: A word of `/learn schedule` that is meant as a time of day, readable or not (`25:00`, `9`).
_TIME_SHAPED = re.compile(r"^\d{1,2}(?:[:.h]\d{1,2})?\s*(?:am|pm)?$", re.IGNORECASE)


def read_zone(text: str) -> str | None:
    """The IANA time zone `text` names (`utc` → `UTC`), else None."""
    name = text.strip()
    if name.upper() == "UTC":
        return "UTC"
    return name if name and is_zone(name) else None


def zone_problem(text: str) -> str | None:
    """Why `text` is no time zone to schedule in, with the closest real zone as the
    suggestion (None when it is one)."""
    if read_zone(text) is not None:
        return None
    shown = text.strip()
    guess = process.extractOne(
        shown, sorted(available_timezones()), scorer=fuzz.ratio, score_cutoff=80
    )
    hint = f"did you mean {guess[0]}?" if guess else f"try one like {ZONE_EXAMPLE}."
    if not shown:
        return f"Give a time zone; {hint}"
    return f"“{shown}” is not a time zone I know; {hint}"


def time_problem(text: str) -> str | None:
    """Why `text` is no time of day (None when it is one)."""
    if parse_time(text) is not None:
        return None
    if not text.strip():
        return "Choose a time of day, like 09:00 or 9am."
    return f"“{text.strip()}” is not a time of day; try one like 09:00 or 9am."


NO_DAYS = "Choose at least one day."


class SchedulePart(StrEnum):
    """The parts of a schedule a problem can be about (the form shows each under its field)."""

    TIME = "time"
    DAYS = "days"
    ZONE = "zone"


@dataclass(frozen=True)
class ScheduleAsked:
    """What a manager asked for: the schedule, or what is wrong with each part; and, from a
    command, the words left over (the path's name)."""

    schedule: Schedule | None
    problems: dict[SchedulePart, str]
    rest: tuple[str, ...] = ()


def read_schedule(time_text: str, days: frozenset[int], zone_text: str) -> ScheduleAsked:
    """A schedule from the Home form's fields (a time, the days ticked, a zone's name)."""
    problems: dict[SchedulePart, str] = {}
    for part, problem in (
        (SchedulePart.TIME, time_problem(time_text)),
        (SchedulePart.DAYS, None if days else NO_DAYS),
        (SchedulePart.ZONE, zone_problem(zone_text)),
    ):
        if problem is not None:
            problems[part] = problem
    at, zone_name = parse_time(time_text), read_zone(zone_text)
    if problems or at is None or zone_name is None:
        return ScheduleAsked(None, problems)
    return ScheduleAsked(Schedule(zone_name, at, days), {})


def read_schedule_words(words: list[str], default_zone: str) -> ScheduleAsked:
    """A schedule from `/learn schedule`'s words (channel mentions already taken out): a time,
    days, and a zone, each optional (DEFAULT_TIME, weekdays, `default_zone`); the other words
    are the path's name. A word shaped like a time or a zone (`25:00`, `Europe/Berlln`) that
    is not one is a problem, in the form's words, never part of the name."""
    at_text, zone_text = "", ""
    days: set[int] = set()
    rest: list[str] = []
    for word in words:
        if parse_time(word) is not None or _TIME_SHAPED.match(word):
            at_text = word
        elif parse_days(word):
            days |= parse_days(word) or set()
        elif "/" in word or word.upper() == "UTC":
            zone_text = word
        else:
            rest.append(word)
    asked = read_schedule(
        at_text or DEFAULT_TIME.strftime("%H:%M"),
        frozenset(days) or WEEKDAYS,
        zone_text or default_zone,
    )
    return ScheduleAsked(asked.schedule, asked.problems, tuple(rest))


# --- what handlers get ------------------------------------------------------------------------


@dataclass(frozen=True)
class QuizState:
    chosen: int
    correct: bool


@dataclass(frozen=True)
class LessonMessage:
    """One lesson message as a person sees it: the lesson, its reviews, and (for a DM) what
    they have answered so far."""

    delivery_id: int
    recipient: str
    kind: str
    path: LearningPath | None
    lesson: Lesson | None
    reviews: tuple[tuple[LearningPath, Lesson], ...]
    reason: str
    #: The recipient's next scheduled lesson (UTC), for the footer.
    next_at: datetime | None
    #: (path id, lesson id) → the viewer's answer (DMs only: in channels each person's result
    #: is shown to them alone).
    answers: dict[tuple[str, str], QuizState] = field(default_factory=dict)
    #: For answered quizzes: the day each comes back, or None once retired (it is known).
    #: When each answered quiz comes back, as the lesson slot of its review day (None once
    #: retired: they know it).
    comes_back: dict[tuple[str, str], datetime | None] = field(default_factory=dict)
    done: bool = False
    #: The viewer skipped this lesson as one they know ("I know this").
    known: bool = False
    #: A placement check's quiz items (then `lesson` is None and there are no reviews).
    placement_items: tuple[tuple[LearningPath, Lesson], ...] = ()
    #: The placement check no longer takes answers (all answered, or the next slot came).
    placement_closed: bool = False

    @property
    def number(self) -> int:
        return self.path.number_of(self.lesson.id) if self.path and self.lesson else 0

    @property
    def in_channel(self) -> bool:
        return self.kind == rows.CHANNEL

    @property
    def is_placement(self) -> bool:
        return self.reason == PLACEMENT

    @property
    def helps_with(self) -> Lesson | None:
        """For a remedial lesson, the lesson whose missed quiz brought it."""
        if self.path is None or self.lesson is None or self.number:
            return None
        return self.path.remedial_for(self.lesson.id)

    @property
    def can_skip(self) -> bool:
        """ "I know this" is offered: a lesson in a person's DM they have not done yet."""
        return not self.in_channel and self.lesson is not None and not self.done


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


@dataclass(frozen=True)
class Unreachable:
    """Slack refused for good: the person left, turned off DMs, the channel is gone."""

    reason: str


@dataclass(frozen=True)
class TryLater:
    """A failure that may pass; `maybe_posted` when Slack may have posted it anyway."""

    reason: str
    maybe_posted: bool = False


PostResult = Posted | Unreachable | TryLater


class LessonPoster(Protocol):
    """How lessons reach Slack (handlers/lessons.py); bot/ decides what and when."""

    def post(self, message: LessonMessage) -> PostResult: ...

    def find(self, message: LessonMessage, since: datetime) -> PostResult | None:
        """The message already posted for this delivery if an earlier attempt got through;
        None if it did not; TryLater or Unreachable when Slack could not be asked."""
        ...


@dataclass(frozen=True)
class SchedulePaused:
    """A notice for the community managers: a channel schedule could not post."""

    channel: str
    path_title: str
    reason: str
    managers: tuple[str, ...]


@dataclass
class DeliveryReport:
    planned: int = 0
    sent: int = 0
    #: Found already posted by an earlier attempt, and recorded without posting again.
    recovered: int = 0
    failed: int = 0
    retrying: int = 0
    #: CPU time Eddy's own threads spent (planning, claiming, building, recording), without
    #: the time spent waiting for Slack.
    cpu_seconds: float = 0.0

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            *(getattr(self, name) + getattr(other, name) for name in self.__dataclass_fields__)
        )


# --- paths ------------------------------------------------------------------------------------


def paths(runtime: Runtime) -> dict[str, LearningPath]:
    return runtime.catalogue.paths


def find_path(runtime: Runtime, words: str) -> tuple[LearningPath, bool] | None:
    """The path `words` name (its id or title; typos forgiven) and whether it was a guess."""
    known = paths(runtime)
    match = find_by_name(words, {key: (key, path.title) for key, path in known.items()})
    return None if match is None else (known[match.key], match.fuzzy)


# --- learners ---------------------------------------------------------------------------------


def _learner(
    session: Session, runtime: Runtime, user_id: str, tz: str, now: datetime
) -> rows.Learner:
    """The learner row, created with the default schedule; `tz` refreshed from Slack."""
    row = rows.learner(session, team_id=runtime.team_id, user_id=user_id)
    if row is None:
        row = rows.Learner(
            team_id=runtime.team_id,
            user_id=user_id,
            created_at=now,
            **Schedule(tz or "UTC").stored,
        )
    elif tz and row.tz != tz:
        row.tz = tz
        if row.next_due_at is not None:
            row.next_due_at = Schedule.of(row).next_slot(at_or_after=now)
    return row


def _wake(row: rows.Learner, now: datetime) -> None:
    """Give a dormant learner a next slot (something new to send: a path, a card). A learner
    whose lessons paused (bot/lesson_reminders.py) is back: they answered, asked or started."""
    if row.paused_reason is not None:
        row.paused_reason, row.paused_at = None, now
    if row.next_due_at is None and row.stopped_reason is None:
        row.next_due_at = Schedule.of(row).next_slot(at_or_after=now)


@dataclass(frozen=True)
class Started:
    path: LearningPath
    #: The first lesson's delivery, planned now (None when the path has nothing left).
    delivery_id: int | None
    already: bool
    schedule: Schedule
    #: The delivery planned now is the path's placement check, not a lesson.
    placement: bool = False


def start(runtime: Runtime, user_id: str, path: LearningPath, *, tz: str, now: datetime) -> Started:
    """Subscribe to a path; its next lesson goes out at once and counts as today's."""
    return enrol(runtime, user_id, path, tz=tz, now=now)


def enrol(
    runtime: Runtime,
    user_id: str,
    path: LearningPath,
    *,
    tz: str,
    now: datetime,
    origin: str = rows.SELF,
    assignment_id: int | None = None,
    due_on: date | None = None,
    anchor_day: date | None = None,
) -> Started:
    """Put a person on a path: by their own choice (SELF: the next lesson goes out at once
    and counts as today's), or assigned to them (ASSIGNED) or started when they joined
    (JOURNEY), whose lessons start at their next lesson slot, on their own schedule. An
    assignment of a path they already follow keeps their progress and adds its due date."""
    with runtime.store.session() as session:
        learner = _learner(session, runtime, user_id, tz, now)
        if origin == rows.SELF:
            learner.stopped_reason, learner.stopped_at = None, None
        current = rows.subscription(session, team_id=runtime.team_id, user_id=user_id, path=path.id)
        already = current is not None and current.active
        if current is None:
            current = rows.LessonSubscription(
                team_id=runtime.team_id,
                user_id=user_id,
                path=path.id,
                started_at=now,
                placement=rows.PLACEMENT_DUE if path.placement else None,
            )
        current.active, current.stopped_at = True, None
        if origin != rows.SELF:
            current.origin = origin
            current.assignment_id = assignment_id
            current.due_on = due_on
            current.anchor_day = anchor_day or current.anchor_day
        rows.save(session, current)
        schedule = Schedule.of(learner)
        delivery_id = None
        if not already and origin == rows.SELF:
            delivery_id = _plan_now(session, runtime, learner, reason="first", now=now, only=path)
        placement = delivery_id is not None and current.placement == rows.PLACEMENT_SENT
        _wake(learner, now)
        rows.save(session, learner)
    runtime.notify(HomeChanged(users=(user_id,)))
    return Started(path, delivery_id, already, schedule, placement)


def ask_next(runtime: Runtime, user_id: str, *, tz: str, now: datetime) -> int | None:
    """Plan the next lesson now (`/learn next`); None when every path is done or none started,
    or the next lessons wait for their journey day (`waiting` says until when). It counts as
    today's lesson when today's has not gone out yet. A path whose placement check is due
    sends the check."""
    with runtime.store.session() as session:
        learner = _learner(session, runtime, user_id, tz, now)
        learner.stopped_reason, learner.stopped_at = None, None
        planned = _plan_now(session, runtime, learner, reason="asked", now=now)
        _wake(learner, now)
        rows.save(session, learner)
        return planned


def _plan_now(
    session: Session,
    runtime: Runtime,
    learner: rows.Learner,
    *,
    reason: str,
    now: datetime,
    only: LearningPath | None = None,
) -> int | None:
    """Plan the person's next message (from `only`, when given) to go out now: a lesson, or a
    path's placement check when it is due."""
    facts = _Facts.load(session, runtime, [learner.user_id])
    schedule = Schedule.of(learner)
    today = schedule.local_day(now)
    choice = facts.next_message(runtime, learner.user_id, today, only=only)
    if choice is None:
        return None
    facts.chosen(session, learner.user_id, choice)
    key = _person_key(runtime, learner.user_id, today)
    counts_as_today = not rows.planned_on(session, team_id=runtime.team_id, dedupe_key=key)
    if (
        counts_as_today
        and learner.next_due_at is not None
        and schedule.local_day(learner.next_due_at) <= today
    ):
        learner.next_due_at = schedule.next_slot(after_day=today)
    return rows.plan(
        session,
        team_id=runtime.team_id,
        recipient=learner.user_id,
        kind=rows.PERSON,
        day=today,
        dedupe_key=key if counts_as_today else None,
        reason=reason if choice.lesson is not None else PLACEMENT,
        path=choice.path.id,
        lesson_id=choice.lesson.id if choice.lesson is not None else None,
        reviews=choice.items,
        due_at=now,
    )


def stop(runtime: Runtime, user_id: str, path_id: str | None, *, now: datetime) -> list[str]:
    """Stop one path (or all of them, with their reviews); the ids of the paths stopped."""
    with runtime.store.session() as session:
        stopped = []
        for sub in rows.subscriptions(
            session, team_id=runtime.team_id, user_id=user_id, active_only=True
        ):
            if path_id is None or sub.path == path_id:
                sub.active, sub.stopped_at = False, now
                rows.save(session, sub)
                stopped.append(sub.path)
        learner = rows.learner(session, team_id=runtime.team_id, user_id=user_id)
        if path_id is None and learner is not None:
            _stop_learner(learner, "you stopped them with `/learn stop all`", now)
            rows.save(session, learner)
    return stopped


def schedule_of(runtime: Runtime, user_id: str, *, tz: str) -> tuple[Schedule, bool]:
    """When a person's lessons arrive (the default for someone who never set it), and
    whether they set it themselves (a learner row exists)."""
    with runtime.store.session() as session:
        row = rows.learner(session, team_id=runtime.team_id, user_id=user_id)
        return (Schedule.of(row), True) if row is not None else (Schedule(tz or "UTC"), False)


def set_schedule(
    runtime: Runtime,
    user_id: str,
    *,
    at: time | None,
    days: frozenset[int] | None,
    tz: str,
    now: datetime,
) -> Schedule:
    """Change when a person's lessons arrive; today's lesson is not sent twice."""
    with runtime.store.session() as session:
        learner = _learner(session, runtime, user_id, tz, now)
        old = Schedule.of(learner)
        new = Schedule(tz or old.tz, at or old.at, days or old.days)
        for name, value in new.stored.items():
            setattr(learner, name, value)
        if learner.next_due_at is not None:
            today = new.local_day(now)
            had_today = rows.planned_on(
                session, team_id=runtime.team_id, dedupe_key=_person_key(runtime, user_id, today)
            )
            learner.next_due_at = (
                new.next_slot(after_day=today) if had_today else new.next_slot(at_or_after=now)
            )
        rows.save(session, learner)
    return new


def update_person(
    runtime: Runtime, user_id: str, *, tz: str | None, left: bool, now: datetime
) -> None:
    """Slack told us a person changed (`user_change`): a new time zone moves their slot; a
    deactivated account stops their lessons."""
    with runtime.store.session() as session:
        learner = rows.learner(session, team_id=runtime.team_id, user_id=user_id)
        if learner is None:
            return
        if left:
            _stop_learner(learner, "they left the workspace", now)
        elif tz and tz != learner.tz and is_zone(tz):
            learner.tz = tz
            if learner.next_due_at is not None:
                learner.next_due_at = Schedule.of(learner).next_slot(at_or_after=now)
        rows.save(session, learner)


def _stop_learner(learner: rows.Learner, reason: str, now: datetime) -> None:
    learner.stopped_reason, learner.stopped_at, learner.next_due_at = reason, now, None


# --- channel schedules ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelPlan:
    channel: str
    path: LearningPath
    schedule: Schedule
    status: str
    status_reason: str | None
    next_at: datetime | None
    delivered: int


class ScheduleChange(StrEnum):
    """What became of a request to change a channel's lessons."""

    CREATED = "created"
    UPDATED = "updated"  # changed, or resumed
    PAUSED = "paused"
    REMOVED = "removed"
    NOT_FOUND = "not_found"  # no such schedule (or, to pause, not running)
    NOT_ALLOWED = "not_allowed"  # only community managers change channels' lessons


def may_schedule(runtime: Runtime, user_id: str, what: str) -> bool:
    """Only community managers schedule lessons into channels, change, pause or stop them
    (`what` names the attempt in the log when someone else tries)."""
    if runtime.is_manager(user_id):
        return True
    log.warning("Refused %s to %s, who is not a community manager", what, user_id)
    return False


def schedule_channel(
    runtime: Runtime,
    *,
    manager: str,
    channel: str,
    path: LearningPath,
    schedule: Schedule,
    now: datetime,
) -> ScheduleChange:
    """Schedule a path into a channel (or change its schedule, or resume it), when `manager`
    is a community manager: CREATED, UPDATED or NOT_ALLOWED."""
    if not may_schedule(runtime, manager, f"scheduling {path.id} in {channel}"):
        return ScheduleChange.NOT_ALLOWED
    with runtime.store.session() as session:
        row = rows.schedule_for(session, team_id=runtime.team_id, channel=channel, path=path.id)
        created = row is None
        if row is None:
            row = rows.ChannelSchedule(
                team_id=runtime.team_id,
                channel=channel,
                path=path.id,
                created_by=manager,
                created_at=now,
                **schedule.stored,
            )
        for name, value in schedule.stored.items():
            setattr(row, name, value)
        today = schedule.local_day(now)
        sent_today = (
            rows.planned_on(
                session, team_id=runtime.team_id, dedupe_key=_schedule_key(runtime, row.id, today)
            )
            if row.id
            else False
        )
        row.status, row.status_reason = rows.ACTIVE, None
        row.next_due_at = (
            schedule.next_slot(after_day=today)
            if sent_today
            else schedule.next_slot(at_or_after=now)
        )
        rows.save(session, row)
    return ScheduleChange.CREATED if created else ScheduleChange.UPDATED


def pause_channel(runtime: Runtime, *, channel: str, path_id: str, manager: str) -> ScheduleChange:
    """Stop a channel's lessons for now (scheduling it again resumes it): PAUSED, NOT_FOUND
    (no such schedule, or it is not running) or NOT_ALLOWED."""
    if not may_schedule(runtime, manager, f"pausing {path_id} in {channel}"):
        return ScheduleChange.NOT_ALLOWED
    with runtime.store.session() as session:
        row = rows.schedule_for(session, team_id=runtime.team_id, channel=channel, path=path_id)
        if row is None or row.status != rows.ACTIVE:
            return ScheduleChange.NOT_FOUND
        row.status, row.status_reason = rows.PAUSED, "paused by a community manager"
        row.next_due_at = None
        rows.save(session, row)
    log.info("Lessons of %s in %s paused by %s", path_id, channel, manager)
    return ScheduleChange.PAUSED


def unschedule_channel(
    runtime: Runtime, *, channel: str, path_id: str, manager: str
) -> ScheduleChange:
    """Stop a path's lessons in a channel for good: REMOVED, NOT_FOUND or NOT_ALLOWED."""
    if not may_schedule(runtime, manager, f"unscheduling {path_id} in {channel}"):
        return ScheduleChange.NOT_ALLOWED
    with runtime.store.session() as session:
        row = rows.schedule_for(session, team_id=runtime.team_id, channel=channel, path=path_id)
        if row is None:
            return ScheduleChange.NOT_FOUND
        rows.delete_schedule(session, row)
    log.info("Lessons of %s in %s stopped by %s", path_id, channel, manager)
    return ScheduleChange.REMOVED


def channel_plans(runtime: Runtime) -> list[ChannelPlan]:
    known = paths(runtime)
    with runtime.store.session() as session:
        found = []
        for row in rows.schedules(session, team_id=runtime.team_id):
            path = known.get(row.path)
            if path is None:
                continue
            delivered = rows.delivered_lessons(
                session, team_id=runtime.team_id, recipient=row.channel, schedule_id=row.id
            )
            found.append(
                ChannelPlan(
                    row.channel,
                    path,
                    Schedule.of(row),
                    row.status,
                    row.status_reason,
                    row.next_due_at,
                    len(delivered),
                )
            )
    return found


# --- planning ---------------------------------------------------------------------------------


def journey_day(path: LearningPath, lesson: Lesson, anchor: date) -> date:
    """The local day a journey lesson waits for: day 1 is the anchor, so `day: n` is n − 1
    calendar days on (planning sends it on the first lesson day from then)."""
    if lesson.id in path.remedial_ids:
        return anchor
    return anchor + timedelta(days=path.day_of(lesson.id) - 1)


def _person_key(runtime: Runtime, user_id: str, day: date) -> str:
    return f"{runtime.team_id}:person:{user_id}:{day.isoformat()}"


def _schedule_key(runtime: Runtime, schedule_id: int | None, day: date) -> str:
    return f"{runtime.team_id}:schedule:{schedule_id}:{day.isoformat()}"


@dataclass(frozen=True)
class _Choice:
    """What a person's next message brings: a lesson of `path`, or (`lesson` None) the path's
    placement check, whose items are [[path, lesson id], …] as a delivery keeps them."""

    path: LearningPath
    lesson: Lesson | None
    items: list[list[str]] = field(default_factory=list)


@dataclass
class _Facts:
    """What planning needs to know about some learners, read in a few queries for a whole
    batch (one query per learner and table would dominate a large fan-out)."""

    subscriptions: dict[str, list[rows.LessonSubscription]]
    #: (path, lesson) pairs each person was sent (or has planned) or has done.
    seen: dict[str, set[tuple[str, str]]]
    cards: dict[str, list[rows.ReviewCard]]
    #: (path, lesson) pairs whose quiz each person missed in the lesson's own message.
    missed: dict[str, set[tuple[str, str]]]

    @classmethod
    def load(cls, session: Session, runtime: Runtime, user_ids: list[str]) -> _Facts:
        team = runtime.team_id
        return cls(
            subscriptions=rows.subscriptions_of(session, team_id=team, user_ids=user_ids),
            seen=rows.seen_lessons_of(session, team_id=team, user_ids=user_ids),
            cards=rows.cards_of(session, team_id=team, user_ids=user_ids),
            missed=rows.missed_lessons_of(session, team_id=team, user_ids=user_ids),
        )

    def next_in(
        self, user_id: str, path: LearningPath, day: date | None = None, anchor: date | None = None
    ) -> Lesson | None:
        """The lesson of `path` this person gets next: the remedial of a quiz they missed (once),
        else the first main-line lesson they have neither been sent nor done — unless, on a
        journey (`anchor`), that lesson's day has not come by `day`."""
        seen = self.seen.get(user_id, set())
        missed = self.missed.get(user_id, set())
        for lesson in path.lessons if missed else ():
            remedial = path.lesson(lesson.remedial) if lesson.remedial else None
            if (
                remedial is not None
                and (path.id, lesson.id) in missed
                and (path.id, remedial.id) not in seen
            ):
                return remedial
        upcoming = next((each for each in path.main_line if (path.id, each.id) not in seen), None)
        if upcoming is None or anchor is None or day is None:
            return upcoming
        return upcoming if day >= journey_day(path, upcoming, anchor) else None

    def active(self, user_id: str) -> list[rows.LessonSubscription]:
        return [sub for sub in self.subscriptions.get(user_id, []) if sub.active]

    def subscription(self, user_id: str, path_id: str) -> rows.LessonSubscription | None:
        return next((s for s in self.subscriptions.get(user_id, []) if s.path == path_id), None)

    def next_message(
        self,
        runtime: Runtime,
        user_id: str,
        day: date,
        *,
        placements: bool = True,
        only: LearningPath | None = None,
    ) -> _Choice | None:
        """The next message from the active path that waited longest (or from `only`): its
        placement check when that is due (unless `placements` is False: the path is passed
        over), else its next lesson. A path whose check was sent and is still open sends no
        lesson until the check is answered or closes."""
        known = paths(runtime)
        subs = sorted(
            self.active(user_id),
            key=lambda sub: (
                sub.last_delivered_at is not None,
                sub.last_delivered_at or sub.started_at,
            ),
        )
        for sub in subs:
            path = known.get(sub.path)
            if path is None or (only is not None and sub.path != only.id):
                continue
            if sub.placement == rows.PLACEMENT_SENT:
                continue
            if sub.placement == rows.PLACEMENT_DUE and path.placement:
                items = path.placement_items(self.seen.get(user_id, set()))
                if items and not placements:
                    continue
                if items:
                    return _Choice(path, None, [[path.id, item.id] for item in items])
            lesson = self.next_in(user_id, path, day, sub.anchor_day)
            if lesson is not None:
                return _Choice(path, lesson)
        return None

    def next_lesson(
        self, runtime: Runtime, user_id: str, day: date
    ) -> tuple[LearningPath, Lesson] | None:
        """The next lesson (never a placement check) from the active path that waited longest."""
        choice = self.next_message(runtime, user_id, day, placements=False)
        return (choice.path, choice.lesson) if choice and choice.lesson else None

    def chosen(self, session: Session, user_id: str, choice: _Choice) -> None:
        """Record on the subscription what was just planned from it: its placement check is
        sent, or (a lesson) any check still due is over (it had nothing left to ask)."""
        sub = self.subscription(user_id, choice.path.id)
        if sub is None:
            return
        if choice.lesson is None:
            sub.placement = rows.PLACEMENT_SENT
        elif sub.placement == rows.PLACEMENT_DUE:
            sub.placement = rows.PLACEMENT_DONE
        else:
            return
        rows.save(session, sub)

    def close_placements(self, session: Session, user_id: str) -> None:
        """A lesson slot has come: placement checks sent before it take no more answers (what
        was not answered is not known), and their paths' lessons flow again."""
        for sub in self.active(user_id):
            if sub.placement == rows.PLACEMENT_SENT:
                sub.placement = rows.PLACEMENT_DONE
                rows.save(session, sub)

    def held(
        self, runtime: Runtime, user_id: str, day: date
    ) -> tuple[LearningPath, Lesson, date] | None:
        """The lesson a journey holds back that comes soonest after `day`, with the day it
        waits for (None when no journey holds a lesson back)."""
        known = paths(runtime)
        found: list[tuple[date, LearningPath, Lesson]] = []
        for sub in self.active(user_id):
            path = known.get(sub.path)
            if path is None or sub.anchor_day is None:
                continue
            lesson = self.next_in(user_id, path)
            if lesson is not None and journey_day(path, lesson, sub.anchor_day) > day:
                found.append((journey_day(path, lesson, sub.anchor_day), path, lesson))
        if not found:
            return None
        when_day, path, lesson = min(found, key=lambda each: each[0])
        return path, lesson, when_day

    def due_reviews(
        self, runtime: Runtime, user_id: str, day: date, skip: tuple[str, str] | None
    ) -> tuple[list[list[str]], bool]:
        """Up to REVIEWS_PER_MESSAGE due cards (lowest box first), and whether any is left."""
        known = paths(runtime)
        stopped = {sub.path for sub in self.subscriptions.get(user_id, []) if not sub.active}
        chosen: list[list[str]] = []
        live = False
        for card in self.cards.get(user_id, []):
            path = known.get(card.path)
            if card.path in stopped or path is None or path.lesson(card.lesson_id) is None:
                continue
            live = True
            if (
                card.due_day <= day
                and (card.path, card.lesson_id) != skip
                and len(chosen) < REVIEWS_PER_MESSAGE
            ):
                chosen.append([card.path, card.lesson_id])
        return chosen, live


def plan(runtime: Runtime, now: datetime) -> int:
    """Record every lesson message due at `now` (idempotent; safe on several instances)."""
    planned = 0
    while True:
        with runtime.store.session() as session:
            due = rows.learners_due(session, team_id=runtime.team_id, now=now, limit=PLAN_BATCH)
            facts = _Facts.load(session, runtime, [learner.user_id for learner in due])
            batch: list[dict[str, Any]] = []
            for learner in due:
                batch += _plan_person(session, runtime, learner, facts, now)
            planned += rows.plan_all(session, batch)
            schedules = rows.schedules_due(
                session, team_id=runtime.team_id, now=now, limit=PLAN_BATCH
            )
            for row in schedules:
                planned += _plan_channel(session, runtime, row, now)
        if len(due) < PLAN_BATCH and len(schedules) < PLAN_BATCH:
            return planned


def _plan_person(
    session: Session, runtime: Runtime, learner: rows.Learner, facts: _Facts, now: datetime
) -> list[dict[str, Any]]:
    """The deliveries due for one learner (at most one: slots are a day apart), and their
    next slot moved on."""
    schedule = Schedule.of(learner)
    planned: list[dict[str, Any]] = []
    while learner.next_due_at is not None and learner.next_due_at <= now:
        day = schedule.local_day(learner.next_due_at)
        late = now - learner.next_due_at > LATE_WINDOW
        learner.next_due_at = schedule.next_slot(after_day=day)
        if late:
            continue
        facts.close_placements(session, learner.user_id)
        choice = facts.next_message(runtime, learner.user_id, day)
        if choice is not None:
            facts.chosen(session, learner.user_id, choice)
        lesson = choice.lesson if choice else None
        reviews: list[list[str]] = []
        if choice is None or lesson is not None:  # a placement check comes alone
            skip = (choice.path.id, lesson.id) if choice and lesson else None
            reviews, cards_left = facts.due_reviews(runtime, learner.user_id, day, skip)
            if choice is None and not reviews:
                if not cards_left and not facts.active(learner.user_id):
                    learner.next_due_at = None  # nothing more to send until they start a path
                continue
        planned.append(
            dict(
                team_id=runtime.team_id,
                recipient=learner.user_id,
                kind=rows.PERSON,
                day=day,
                dedupe_key=_person_key(runtime, learner.user_id, day),
                reason="scheduled" if choice is None or lesson else PLACEMENT,
                path=choice.path.id if choice else None,
                lesson_id=lesson.id if lesson else None,
                reviews=choice.items if choice and not lesson else reviews,
                due_at=now,
            )
        )
    rows.save(session, learner)
    return planned


def _plan_channel(
    session: Session, runtime: Runtime, row: rows.ChannelSchedule, now: datetime
) -> int:
    schedule = Schedule.of(row)
    path = paths(runtime).get(row.path)
    planned = 0
    while row.status == rows.ACTIVE and row.next_due_at is not None and row.next_due_at <= now:
        day = schedule.local_day(row.next_due_at)
        late = now - row.next_due_at > LATE_WINDOW
        row.next_due_at = schedule.next_slot(after_day=day)
        if late:
            continue
        if path is None:
            row.status, row.status_reason, row.next_due_at = (
                rows.PAUSED,
                "its path is no longer in the content folder",
                None,
            )
            break
        sent = rows.delivered_lessons(
            session, team_id=runtime.team_id, recipient=row.channel, schedule_id=row.id
        )
        lesson = next((each for each in path.main_line if (path.id, each.id) not in sent), None)
        if lesson is None:
            row.status, row.status_reason, row.next_due_at = (
                rows.FINISHED,
                "every lesson was posted",
                None,
            )
            break
        planned += (
            rows.plan(
                session,
                team_id=runtime.team_id,
                recipient=row.channel,
                kind=rows.CHANNEL,
                schedule_id=row.id,
                day=day,
                dedupe_key=_schedule_key(runtime, row.id, day),
                reason="scheduled",
                path=path.id,
                lesson_id=lesson.id,
                reviews=[],
                due_at=now,
            )
            is not None
        )
    rows.save(session, row)
    return planned


# --- sending ----------------------------------------------------------------------------------


def deliver(runtime: Runtime, now: datetime) -> DeliveryReport:
    """The delivery job: plan what is due at `now`, then send every due message once."""
    started = thread_time()
    planned = plan(runtime, now)
    planning = thread_time() - started
    report = send_due(runtime, now)
    report.planned = planned
    report.cpu_seconds += planning
    return report


def send_due(runtime: Runtime, now: datetime, *, ids: list[int] | None = None) -> DeliveryReport:
    """Send due deliveries (only `ids`, when given). `SEND_WORKERS` senders claim batches side
    by side, so one waiting out a 429's Retry-After does not hold up the rest."""
    poster = runtime.lesson_poster
    if poster is None:
        log.warning("No Slack connection to deliver lessons")
        return DeliveryReport()
    if ids is not None:
        return _send_batches(runtime, poster, now, ids)
    with ThreadPoolExecutor(SEND_WORKERS, thread_name_prefix="eddy-lessons") as pool:
        reports = list(
            pool.map(lambda _: _send_batches(runtime, poster, now, None), range(SEND_WORKERS))
        )
    return sum(reports, DeliveryReport())


def _send_batches(
    runtime: Runtime, poster: LessonPoster, now: datetime, ids: list[int] | None
) -> DeliveryReport:
    """Claim a batch, send it, record it, and again, until nothing is left to claim.

    A batch's outcomes are recorded in one transaction after it is sent: if the process dies
    before that, its rows stay claimed, and the claim that takes them over when the lease
    ends finds the messages already in Slack by their metadata."""
    report = DeliveryReport()
    started = thread_time()
    token = uuid.uuid4().hex
    while True:
        with runtime.store.session() as session:
            claimed = rows.claim(
                session,
                team_id=runtime.team_id,
                token=token,
                now=now,
                stale_before=now - CLAIM_LEASE,
                limit=CLAIM_BATCH,
                ids=ids,
            )
            next_at = rows.next_slots(
                session,
                team_id=runtime.team_id,
                user_ids=[row.recipient for row in claimed if row.kind == rows.PERSON],
                schedule_ids=[row.schedule_id for row in claimed if row.schedule_id],
            )
        if not claimed:
            report.cpu_seconds += thread_time() - started
            return report
        outcomes = []
        for row in claimed:
            key = row.recipient if row.kind == rows.PERSON else f"schedule:{row.schedule_id}"
            outcomes.append((row, _send_one(runtime, poster, row, next_at.get(key), report)))
        notices: list[SchedulePaused] = []
        with runtime.store.session() as session:
            for row, result in outcomes:
                notices += _record(session, runtime, row, token, result, now, report)
        for notice in notices:
            runtime.notify(notice)


@dataclass(frozen=True)
class Withdrawn:
    """Not sent: its lesson left the content folder before it could go out."""

    reason: str = "its lesson is no longer in the content folder"


def _send_one(
    runtime: Runtime,
    poster: LessonPoster,
    row: rows.LessonDelivery,
    next_at: datetime | None,
    report: DeliveryReport,
) -> PostResult | Withdrawn:
    message = _compose(runtime, row, next_at)
    if message.lesson is None and not message.reviews and not message.placement_items:
        return Withdrawn()
    result: PostResult | None = None
    if row.attempts > 1:  # an earlier claim may have posted it before it died or lost touch
        result = poster.find(message, since=row.due_at - CLOCK_SKEW)
        report.recovered += isinstance(result, Posted)
    if result is None:
        result = poster.post(message)
        report.sent += isinstance(result, Posted)
    return result


def _record(
    session: Session,
    runtime: Runtime,
    row: rows.LessonDelivery,
    token: str,
    result: PostResult | Withdrawn,
    now: datetime,
    report: DeliveryReport,
) -> list[SchedulePaused]:
    """Settle one claimed delivery: sent, failed for good, or due again after a wait."""
    assert row.id is not None
    if isinstance(result, Posted):
        _record_sent(session, runtime, row, token, result, now)
        return []
    if not isinstance(result, TryLater) or row.attempts >= MAX_ATTEMPTS:
        reason = (
            f"gave up after {row.attempts} attempts: {result.reason}"
            if isinstance(result, TryLater)
            else result.reason
        )
        rows.finish(
            session, delivery_id=row.id, token=token, status=rows.FAILED, error=reason[:200]
        )
        report.failed += 1
        log.warning("Lesson delivery %s to %s failed: %s", row.id, row.recipient, reason)
        if isinstance(result, Unreachable):
            return _unreachable(session, runtime, row, result.reason, now)
        return []
    wait = RETRY_BACKOFF[min(row.attempts, len(RETRY_BACKOFF)) - 1]
    rows.finish(
        session,
        delivery_id=row.id,
        token=token,
        status=rows.DUE,
        not_before=now + wait,
        error=result.reason[:200],
    )
    report.retrying += 1
    log.info("Lesson delivery %s will be retried: %s", row.id, result.reason)
    return []


def _record_sent(
    session: Session,
    runtime: Runtime,
    row: rows.LessonDelivery,
    token: str,
    posted: Posted,
    now: datetime,
) -> None:
    assert row.id is not None
    reminded = row.kind == rows.PERSON and row.reason == "scheduled" and row.lesson_id
    recorded = rows.finish(
        session,
        delivery_id=row.id,
        token=token,
        status=rows.SENT,
        channel=posted.channel,
        ts=posted.ts,
        sent_at=now,
        error=None,
        remind_at=reminder_at(runtime.settings, now, 1) if reminded else None,
    )
    if recorded and row.kind == rows.PERSON and row.path:
        rows.touch_subscription(
            session, team_id=runtime.team_id, user_id=row.recipient, path=row.path, at=now
        )


def _unreachable(
    session: Session, runtime: Runtime, row: rows.LessonDelivery, reason: str, now: datetime
) -> list[SchedulePaused]:
    """Stop sending where Slack refuses for good: record why; for a channel, the notice
    for the managers (sent once the transaction is over)."""
    if row.kind == rows.PERSON:
        learner = rows.learner(session, team_id=runtime.team_id, user_id=row.recipient)
        if learner is not None:
            _stop_learner(learner, reason, now)
            rows.save(session, learner)
        return []
    schedule = rows.schedule(session, team_id=runtime.team_id, schedule_id=row.schedule_id or 0)
    if schedule is None:
        return []
    schedule.status, schedule.status_reason, schedule.next_due_at = rows.PAUSED, reason, None
    rows.save(session, schedule)
    path = paths(runtime).get(schedule.path)
    managers = tuple(dict.fromkeys([schedule.created_by, *runtime.settings.eddy_managers]))
    title = path.title if path else schedule.path
    return [SchedulePaused(schedule.channel, title, reason, managers)]


# --- what a message shows ---------------------------------------------------------------------


def _message_for(
    runtime: Runtime, row: rows.LessonDelivery, viewer: str | None = None
) -> LessonMessage:
    """A delivery as it shows now to `viewer` (their answers filled in), or as first posted."""
    assert row.id is not None
    answers: dict[tuple[str, str], QuizState] = {}
    comes_back: dict[tuple[str, str], datetime | None] = {}
    done = known = closed = False
    with runtime.store.session() as session:
        key = row.recipient if row.kind == rows.PERSON else f"schedule:{row.schedule_id}"
        next_at = rows.next_slots(
            session,
            team_id=runtime.team_id,
            user_ids=[row.recipient] if row.kind == rows.PERSON else [],
            schedule_ids=[row.schedule_id] if row.schedule_id else [],
        ).get(key)
        if viewer is not None and row.kind == rows.PERSON:
            learner = rows.learner(session, team_id=runtime.team_id, user_id=viewer)
            schedule = Schedule.of(learner) if learner is not None else None
            for answer in rows.answers_in(
                session, team_id=runtime.team_id, delivery_id=row.id, user_id=viewer
            ):
                quiz = (answer.path, answer.lesson_id)
                answers[quiz] = QuizState(answer.chosen, answer.correct)
                card = rows.card(
                    session,
                    team_id=runtime.team_id,
                    user_id=viewer,
                    path=answer.path,
                    lesson_id=answer.lesson_id,
                )
                if card is not None and schedule is not None:
                    comes_back[quiz] = None if card.retired else schedule.slot_on(card.due_day)
            lesson_key = (row.path or "", row.lesson_id or "")
            how = rows.how_done(session, team_id=runtime.team_id, user_id=viewer).get(lesson_key)
            done, known = how is not None, how == rows.KNOWN
            card = rows.card(
                session,
                team_id=runtime.team_id,
                user_id=viewer,
                path=lesson_key[0],
                lesson_id=lesson_key[1],
            )
            if known and card is not None and schedule is not None:
                comes_back[lesson_key] = None if card.retired else schedule.slot_on(card.due_day)
            if row.reason == PLACEMENT:
                sub = rows.subscription(
                    session, team_id=runtime.team_id, user_id=viewer, path=row.path or ""
                )
                closed = sub is None or sub.placement != rows.PLACEMENT_SENT
    return _compose(runtime, row, next_at, answers, comes_back, done, known, closed)


def _compose(
    runtime: Runtime,
    row: rows.LessonDelivery,
    next_at: datetime | None,
    answers: dict[tuple[str, str], QuizState] | None = None,
    comes_back: dict[tuple[str, str], datetime | None] | None = None,
    done: bool = False,
    known: bool = False,
    closed: bool = False,
) -> LessonMessage:
    """A delivery's message from its row and the current paths (no database reads)."""
    assert row.id is not None
    catalogue = paths(runtime)
    path = catalogue.get(row.path or "")
    lesson = path.lesson(row.lesson_id) if path and row.lesson_id else None
    carried = []
    for path_id, lesson_id in row.reviews:
        review_path = catalogue.get(path_id)
        review = review_path.lesson(lesson_id) if review_path else None
        if review_path is not None and review is not None and review.quiz is not None:
            carried.append((review_path, review))
    placement = row.reason == PLACEMENT
    return LessonMessage(
        delivery_id=row.id,
        recipient=row.recipient,
        kind=row.kind,
        path=path,
        lesson=lesson,
        reviews=() if placement else tuple(carried),
        reason=row.reason,
        next_at=next_at,
        answers=answers or {},
        comes_back=comes_back or {},
        done=done,
        known=known,
        placement_items=tuple(carried) if placement else (),
        placement_closed=closed,
    )


@dataclass(frozen=True)
class PostedLesson:
    """Where a delivery was posted and, for a lesson sent to one person, how it shows to
    them now (None in a channel, where each person's result is theirs alone)."""

    channel: str | None
    ts: str | None
    message: LessonMessage | None


def posted_lesson(runtime: Runtime, delivery_id: int, viewer: str) -> PostedLesson | None:
    with runtime.store.session() as session:
        row = rows.delivery(session, team_id=runtime.team_id, delivery_id=delivery_id)
    if row is None:
        return None
    message = _message_for(runtime, row, viewer=viewer) if row.kind == rows.PERSON else None
    return PostedLesson(row.channel, row.ts, message)


# --- answers, progress ------------------------------------------------------------------------


@dataclass(frozen=True)
class QuizResult:
    """What a person's tap on a quiz option came to."""

    path: LearningPath
    lesson: Lesson
    chosen: int
    correct: bool
    #: They had answered this quiz in this message before; `chosen`/`correct` are that answer.
    already: bool = False
    #: When it comes back: the lesson slot of its review day (None once retired: they know it).
    again_at: datetime | None = None
    #: Paths this answer completed.
    completed: tuple[LearningPath, ...] = ()
    streak: int = 0


class QuizRefusedError(Exception):
    """The quiz cannot be answered here (not theirs, or no longer in the content)."""


class PlacementClosedError(QuizRefusedError):
    """The person's own placement check no longer takes answers (the next slot came)."""


def _quiz_of(
    runtime: Runtime, path_id: str, lesson_id: str, chosen: int, what: str
) -> tuple[LearningPath, Lesson, Quiz]:
    """The path and lesson whose quiz option `chosen` a person tapped; QuizRefusedError
    (naming `what` they tapped) when the content no longer has it."""
    path = paths(runtime).get(path_id)
    lesson = path.lesson(lesson_id) if path else None
    if (
        path is None
        or lesson is None
        or lesson.quiz is None
        or not 0 <= chosen < len(lesson.quiz.options)
    ):
        raise QuizRefusedError(f"{what} is no longer in Eddy's lessons.")
    return path, lesson, lesson.quiz


def answer_quiz(
    runtime: Runtime,
    user_id: str,
    *,
    delivery_id: int,
    path_id: str,
    lesson_id: str,
    chosen: int,
    tz: str,
    now: datetime,
) -> QuizResult:
    """Record a person's answer (the first one per quiz per message counts), move its card
    between Leitner boxes, and count the lesson as done."""
    path, lesson, quiz = _quiz_of(runtime, path_id, lesson_id, chosen, "That quiz")
    with runtime.store.session() as session:
        row = rows.delivery(session, team_id=runtime.team_id, delivery_id=delivery_id)
        carried = row is not None and (
            [path_id, lesson_id] in row.reviews or (row.path, row.lesson_id) == (path_id, lesson_id)
        )
        if row is None or not carried or row.reason == PLACEMENT:
            raise QuizRefusedError("That quiz is not part of this lesson.")
        if row.kind == rows.PERSON and row.recipient != user_id:
            raise QuizRefusedError("This lesson was sent to someone else.")
        correct = chosen == quiz.answer
        is_review = [path_id, lesson_id] in row.reviews
        first = rows.record_answer(
            session,
            team_id=runtime.team_id,
            user_id=user_id,
            delivery_id=delivery_id,
            path=path_id,
            lesson_id=lesson_id,
            chosen=chosen,
            correct=correct,
            review=is_review,
            answered_at=now,
        )
        if not first:
            earlier = rows.answer_of(
                session,
                team_id=runtime.team_id,
                user_id=user_id,
                delivery_id=delivery_id,
                path=path_id,
                lesson_id=lesson_id,
            )
            assert earlier is not None
            return QuizResult(path, lesson, earlier.chosen, earlier.correct, already=True)
        learner = _learner(session, runtime, user_id, tz, now)
        schedule = Schedule.of(learner)
        today = schedule.local_day(now)
        again_on = _move_card(
            session, runtime, user_id, path_id, lesson_id, correct, schedule, today, now
        )
        again_at = schedule.slot_on(again_on) if again_on is not None else None
        _, completed = _complete(session, runtime, learner, path, lesson, now)
        _wake(learner, now)
        rows.save(session, learner)
        result = QuizResult(
            path,
            lesson,
            chosen,
            correct,
            again_at=again_at,
            completed=completed,
            streak=learner.streak,
        )
    badges.recognise(runtime, user_id, badges.STREAK_DAYS, badges.PATHS_COMPLETED)
    runtime.notify(HomeChanged(users=(user_id,)))
    return result


def _move_card(
    session: Session,
    runtime: Runtime,
    user_id: str,
    path_id: str,
    lesson_id: str,
    correct: bool,
    schedule: Schedule,
    today: date,
    now: datetime,
) -> date | None:
    """File the card in its next box; the day it comes back, on one of the person's lesson
    days (a review is part of a lesson), or None when it retired."""
    card = rows.card(
        session, team_id=runtime.team_id, user_id=user_id, path=path_id, lesson_id=lesson_id
    )
    if card is None:
        card = rows.ReviewCard(
            team_id=runtime.team_id,
            user_id=user_id,
            path=path_id,
            lesson_id=lesson_id,
            box=1,
            due_day=today,
            updated_at=now,
        )
        box = 2 if correct else 1
    elif correct:
        box = card.box + 1
    else:
        box = 1
    card.updated_at = now
    if box > LAST_BOX:
        card.retired = True
        rows.save(session, card)
        return None
    card.box, card.retired = box, False
    card.due_day = schedule.lesson_day_from(today + timedelta(days=BOX_DAYS[box]))
    rows.save(session, card)
    return card.due_day


def mark_done(
    runtime: Runtime, user_id: str, *, delivery_id: int, tz: str, now: datetime
) -> QuizResult | None:
    """A lesson without a quiz, marked done by the person it was sent to (or anyone, in a
    channel). None when the lesson is gone."""
    with runtime.store.session() as session:
        row = rows.delivery(session, team_id=runtime.team_id, delivery_id=delivery_id)
        path = paths(runtime).get(row.path or "") if row else None
        lesson = path.lesson(row.lesson_id or "") if row and path else None
        if row is None or path is None or lesson is None:
            return None
        if row.kind == rows.PERSON and row.recipient != user_id:
            raise QuizRefusedError("This lesson was sent to someone else.")
        learner = _learner(session, runtime, user_id, tz, now)
        _, completed = _complete(session, runtime, learner, path, lesson, now)
        rows.save(session, learner)
        result = QuizResult(path, lesson, -1, True, completed=completed, streak=learner.streak)
    badges.recognise(runtime, user_id, badges.STREAK_DAYS, badges.PATHS_COMPLETED)
    runtime.notify(HomeChanged(users=(user_id,)))
    return result


def know_lesson(
    runtime: Runtime, user_id: str, *, delivery_id: int, tz: str, now: datetime
) -> QuizResult | None:
    """ "I know this" on a lesson sent to the person: done as KNOWN, and its quiz filed in the
    deck like a right answer (box 2), so it comes back to check. `already` when the lesson
    was done before (answered, marked, or known). None when the lesson is gone."""
    with runtime.store.session() as session:
        row = rows.delivery(session, team_id=runtime.team_id, delivery_id=delivery_id)
        path = paths(runtime).get(row.path or "") if row else None
        lesson = path.lesson(row.lesson_id or "") if row and path else None
        if row is None or path is None or lesson is None or row.reason == PLACEMENT:
            return None
        if row.kind != rows.PERSON:
            raise QuizRefusedError("“I know this” is for lessons sent to you by DM.")
        if row.recipient != user_id:
            raise QuizRefusedError("This lesson was sent to someone else.")
        learner = _learner(session, runtime, user_id, tz, now)
        newly, completed = _complete(session, runtime, learner, path, lesson, now, rows.KNOWN)
        again_at = None
        if newly and lesson.quiz is not None:
            schedule = Schedule.of(learner)
            again_on = _move_card(
                session,
                runtime,
                user_id,
                path.id,
                lesson.id,
                True,
                schedule,
                schedule.local_day(now),
                now,
            )
            again_at = schedule.slot_on(again_on) if again_on is not None else None
        _wake(learner, now)
        rows.save(session, learner)
        result = QuizResult(
            path,
            lesson,
            -1,
            True,
            already=not newly,
            again_at=again_at,
            completed=completed,
            streak=learner.streak,
        )
    badges.recognise(runtime, user_id, badges.STREAK_DAYS, badges.PATHS_COMPLETED)
    runtime.notify(HomeChanged(users=(user_id,)))
    return result


@dataclass(frozen=True)
class PlacementResult:
    """What a tap on a placement item came to."""

    path: LearningPath
    lesson: Lesson
    correct: bool
    #: They had answered this item before; `correct` is that answer.
    already: bool = False
    #: Every item is answered: the check is over.
    finished: bool = False
    #: Items answered right so far, of `asked`.
    known: int = 0
    asked: int = 0
    #: The first lesson not known, planned when the check finished (to send now).
    next_delivery: int | None = None
    completed: tuple[LearningPath, ...] = ()
    streak: int = 0


def answer_placement(
    runtime: Runtime,
    user_id: str,
    *,
    delivery_id: int,
    path_id: str,
    lesson_id: str,
    chosen: int,
    tz: str,
    now: datetime,
) -> PlacementResult:
    """Record a placement item's answer (the first counts): right, its lesson is done as
    KNOWN and its quiz goes into the deck; wrong, the lesson stays on the path. The last
    answer closes the check and plans the first lesson not known, to go out now."""
    path, lesson, quiz = _quiz_of(runtime, path_id, lesson_id, chosen, "That question")
    with runtime.store.session() as session:
        row = rows.delivery(session, team_id=runtime.team_id, delivery_id=delivery_id)
        if row is None or row.reason != PLACEMENT or [path_id, lesson_id] not in row.reviews:
            raise QuizRefusedError("That question is not part of this placement check.")
        if row.kind != rows.PERSON or row.recipient != user_id:
            raise QuizRefusedError("This placement check was sent to someone else.")
        asked = [(item[0], item[1]) for item in row.reviews]
        earlier = rows.answer_of(
            session,
            team_id=runtime.team_id,
            user_id=user_id,
            delivery_id=delivery_id,
            path=path_id,
            lesson_id=lesson_id,
        )
        if earlier is not None:
            return PlacementResult(path, lesson, earlier.correct, already=True, asked=len(asked))
        sub = rows.subscription(session, team_id=runtime.team_id, user_id=user_id, path=path_id)
        if sub is None or sub.placement != rows.PLACEMENT_SENT:
            raise PlacementClosedError(PLACEMENT_CLOSED)
        correct = chosen == quiz.answer
        if not rows.record_answer(
            session,
            team_id=runtime.team_id,
            user_id=user_id,
            delivery_id=delivery_id,
            path=path_id,
            lesson_id=lesson_id,
            chosen=chosen,
            correct=correct,
            review=False,
            answered_at=now,
        ):
            return PlacementResult(path, lesson, correct, already=True, asked=len(asked))
        learner = _learner(session, runtime, user_id, tz, now)
        _count_day(learner, now)
        completed: tuple[LearningPath, ...] = ()
        if correct:
            newly, completed = _complete(session, runtime, learner, path, lesson, now, rows.KNOWN)
            if newly:
                schedule = Schedule.of(learner)
                today = schedule.local_day(now)
                _move_card(
                    session, runtime, user_id, path_id, lesson_id, True, schedule, today, now
                )
        answers = rows.answers_in(
            session, team_id=runtime.team_id, delivery_id=delivery_id, user_id=user_id
        )
        answered = {(answer.path, answer.lesson_id): answer.correct for answer in answers}
        finished = all(item in answered for item in asked)
        next_delivery = None
        if finished and rows.finish_placement(
            session, team_id=runtime.team_id, user_id=user_id, path=path_id
        ):
            sub.placement = rows.PLACEMENT_DONE  # as stored: planning reads this row
            next_delivery = _plan_now(session, runtime, learner, reason="first", now=now, only=path)
        _wake(learner, now)
        rows.save(session, learner)
        result = PlacementResult(
            path,
            lesson,
            correct,
            finished=finished,
            known=sum(answered.get(item, False) for item in asked),
            asked=len(asked),
            next_delivery=next_delivery,
            completed=completed,
            streak=learner.streak,
        )
    badges.recognise(runtime, user_id, badges.STREAK_DAYS, badges.PATHS_COMPLETED)
    runtime.notify(HomeChanged(users=(user_id,)))
    return result


def _count_day(learner: rows.Learner, now: datetime) -> None:
    """The person learned today (a lesson, a review, a placement item, "I know this"): keep
    their streak going."""
    schedule = Schedule.of(learner)
    today = schedule.local_day(now)
    if learner.streak_day != today:
        kept = learner.streak_day is not None and schedule.previous_day(today) <= learner.streak_day
        learner.streak = learner.streak + 1 if kept else 1
        learner.streak_day = today
        learner.best_streak = max(learner.best_streak, learner.streak)


def _complete(
    session: Session,
    runtime: Runtime,
    learner: rows.Learner,
    path: LearningPath,
    lesson: Lesson,
    now: datetime,
    how: str = rows.LEARNED,
) -> tuple[bool, tuple[LearningPath, ...]]:
    """Count a lesson done (learned, or known): keep the streak, and record the path when
    every main-line lesson is done either way. Whether it was newly done, and the paths
    completed."""
    _count_day(learner, now)
    if not rows.mark_done(
        session,
        team_id=runtime.team_id,
        user_id=learner.user_id,
        path=path.id,
        lesson_id=lesson.id,
        at=now,
        how=how,
    ):
        return False, ()
    done = rows.done_lessons(session, team_id=runtime.team_id, user_id=learner.user_id)
    if all((path.id, each.id) in done for each in path.main_line) and rows.complete_path(
        session, team_id=runtime.team_id, user_id=learner.user_id, path=path.id, at=now
    ):
        return True, (path,)
    return True, ()


@dataclass(frozen=True)
class PathProgress:
    path: LearningPath
    #: Main-line lessons done, learned or known.
    done: int
    active: bool
    completed_at: datetime | None
    #: They started it (and may have stopped it since); False for a path whose lessons they
    #: only met in a channel.
    started: bool = True
    #: Of `done`, the lessons they skipped as known (placement, "I know this").
    known: int = 0
    #: How it came to them (SELF, ASSIGNED or JOURNEY), the day they are asked to finish by,
    #: and who assigned it ("" for an onboarding journey; None when nobody did).
    origin: str = rows.SELF
    due_on: date | None = None
    assigned_by: str | None = None

    @property
    def assigned(self) -> bool:
        """Someone assigned it, or it came with joining the workspace (a journey)."""
        return self.origin != rows.SELF

    @property
    def total(self) -> int:
        """The lessons that count towards completion (the main line)."""
        return len(self.path.main_line)


@dataclass(frozen=True)
class Progress:
    """What `/learn me` shows."""

    paths: tuple[PathProgress, ...]
    schedule: Schedule | None
    next_at: datetime | None
    streak: int
    best_streak: int
    answered: int
    right: int
    reviews_waiting: int
    stopped_reason: str | None
    #: Why lessons wait for the person's Resume (bot/lesson_reminders.py); None: they flow.
    paused_reason: str | None = None


def progress(runtime: Runtime, user_id: str, *, now: datetime) -> Progress:
    known = paths(runtime)
    with runtime.store.session() as session:
        learner = rows.learner(session, team_id=runtime.team_id, user_id=user_id)
        subs = rows.subscriptions(session, team_id=runtime.team_id, user_id=user_id)
        done = rows.how_done(session, team_id=runtime.team_id, user_id=user_id)
        completed = rows.completions(session, team_id=runtime.team_id, user_id=user_id)
        answers = rows.answers_by(session, team_id=runtime.team_id, user_id=user_id)
        cards = rows.cards(session, team_id=runtime.team_id, user_id=user_id)
        assigners = assignment_rows.assigners(
            session,
            team_id=runtime.team_id,
            ids=[sub.assignment_id for sub in subs if sub.assignment_id is not None],
        )
    schedule = Schedule.of(learner) if learner else None
    shown: list[PathProgress] = []
    for path_id in dict.fromkeys([*(sub.path for sub in subs), *completed, *(p for p, _ in done)]):
        path = known.get(path_id)
        if path is None:
            continue
        active = any(sub.path == path_id and sub.active for sub in subs)
        count = sum((path.id, lesson.id) in done for lesson in path.main_line)
        known_count = sum(done.get((path.id, lesson.id)) == rows.KNOWN for lesson in path.main_line)
        sub = next((sub for sub in subs if sub.path == path_id), None)
        shown.append(
            PathProgress(
                path,
                count,
                active,
                completed.get(path_id),
                started=sub is not None,
                known=known_count,
                origin=sub.origin if sub is not None else rows.SELF,
                due_on=sub.due_on if sub is not None else None,
                assigned_by=assigners.get(sub.assignment_id)
                if sub is not None and sub.assignment_id is not None
                else None,
            )
        )
    streak = 0
    if learner is not None and schedule is not None and learner.streak_day is not None:
        today = schedule.local_day(now)
        alive = learner.streak_day >= schedule.previous_day(today)
        streak = learner.streak if alive else 0
    today = schedule.local_day(now) if schedule else now.date()
    return Progress(
        paths=tuple(shown),
        schedule=schedule,
        next_at=learner.next_due_at if learner else None,
        streak=streak,
        best_streak=learner.best_streak if learner else 0,
        answered=len(answers),
        right=sum(answer.correct for answer in answers),
        reviews_waiting=sum(card.due_day <= today for card in cards),
        stopped_reason=learner.stopped_reason if learner else None,
        paused_reason=learner.paused_reason if learner else None,
    )


def upcoming(runtime: Runtime, user_id: str) -> tuple[LearningPath, Lesson] | None:
    """The lesson `/learn next` (or the Home tab's Next lesson) would send now (a path whose
    placement check is due is passed over: the check is no lesson to name)."""
    with runtime.store.session() as session:
        learner = rows.learner(session, team_id=runtime.team_id, user_id=user_id)
        now = runtime.clock.now()
        today = Schedule.of(learner).local_day(now) if learner else now.date()
        return _Facts.load(session, runtime, [user_id]).next_lesson(runtime, user_id, today)


@dataclass(frozen=True)
class Waiting:
    """A journey lesson held back until its day, and the slot it comes at."""

    path: LearningPath
    lesson: Lesson
    at: datetime


def waiting(runtime: Runtime, user_id: str, *, now: datetime) -> Waiting | None:
    """The journey lesson that comes soonest, when journeys hold lessons back (what to tell
    someone who asks for a lesson and gets none)."""
    with runtime.store.session() as session:
        learner = rows.learner(session, team_id=runtime.team_id, user_id=user_id)
        if learner is None:
            return None
        schedule = Schedule.of(learner)
        held = _Facts.load(session, runtime, [user_id]).held(
            runtime, user_id, schedule.local_day(now)
        )
    if held is None:
        return None
    path, lesson, day = held
    return Waiting(path, lesson, schedule.slot_on(schedule.lesson_day_from(day)))


def subscribed_paths(runtime: Runtime, user_id: str) -> set[str]:
    with runtime.store.session() as session:
        return {
            sub.path
            for sub in rows.subscriptions(
                session, team_id=runtime.team_id, user_id=user_id, active_only=True
            )
        }
