"""Team reports: how the people on a learning path are doing, for the community managers and
the path's owners (the Home console's Learning tab, and `app.py export learning`).

    found = report(runtime, path, team=team, now=runtime.clock.now())
    found.count(ON_TRACK), found.median_days, found.items[0]  # the hardest quiz item

**Who is counted.** A report covers the people *enrolled* on the path: those whose
subscription is active, and those who completed it after subscribing (someone who met its
lessons only in a channel never enrolled). Someone who stopped the path before
completing it is not enrolled any more; they are counted apart (`left`). With a team (a
Slack user group or a channel's members, as Slack said when the team was chosen) only its
members are counted, everywhere in the report.

**Where each enrolled person stands** (one of four, so the four add up to the enrolled):
- *completed*: every lesson done (lessons skipped as known count as done);
- *overdue*: not completed, and their due date is before their own local today;
- *on track*: not completed, not overdue, lessons not paused or stopped (`Learner.
  paused_reason` / `stopped_reason`), and keeping pace. With a due date, pace means lessons
  done ≥ the path's lessons × the share of their lesson days (their own schedule's weekdays)
  from enrolment to the due date that has passed, rounded down, not counting the day they
  enrolled or today (so nobody is behind for a lesson that had no chance to arrive yet).
  Without a due date, pace means they did a lesson or answered a quiz of the path (or
  enrolled) within their last `RECENT_LESSON_DAYS` lesson days;
- *behind*: the rest (paused or stopped lessons among them, counted as `paused`).

**Quiz accuracy per item** counts each person's first answer to the item outside reviews
(the first time it reached them, in a DM or a channel): reviews are answered after the
person was told the right answer, so they measure memory, not the item. People who are not
enrolled (a path posted in a channel) count too, since the question is how hard the item is;
with a team, only its members. Items with fewer than `ENOUGH_ANSWERS` answers are listed
last and marked as too few to judge; the others hardest (least often right) first.

**The funnel** counts, lesson by lesson, the enrolled people who have done it, those who
skipped it as known shown apart.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.content.lesson_paths import LearningPath, Lesson, path_from_spec
from bot.lessons import DEFAULT_TIME, WEEKDAYS, Schedule
from bot.runtime import Runtime
from store import assignments as assignment_rows
from store import learning_reports as rows
from store import lessons as lesson_rows

#: How a person came to the path, in the order reports show them.
SELF, ASSIGNED, JOURNEY = lesson_rows.SELF, lesson_rows.ASSIGNED, lesson_rows.JOURNEY
ORIGINS = (ASSIGNED, JOURNEY, SELF)
#: Where an enrolled person stands (see the module docstring).
COMPLETED, OVERDUE, ON_TRACK, BEHIND = "completed", "overdue", "on track", "behind"
STANDINGS = (COMPLETED, ON_TRACK, BEHIND, OVERDUE)
#: What a team is: a user group or a channel's members.
GROUP, CHANNEL = assignment_rows.GROUP, assignment_rows.CHANNEL
#: Fewer first answers than this say too little about an item to rank it.
ENOUGH_ANSWERS = 5
#: Without a due date, a person who did something on the path within this many of their
#: lesson days (a working week on the usual schedule) is on track.
RECENT_LESSON_DAYS = 5
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class Team:
    """Some people to report on: a user group's or a channel's members."""

    kind: str
    #: The user group (S…) or channel (C…) ID.
    id: str
    #: As people know it: "@support-team", "#support".
    name: str
    members: frozenset[str]

    def stored(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "members": sorted(self.members),
        }

    @classmethod
    def from_stored(cls, stored: object) -> Team | None:
        """A team as `stored` wrote it, or None for anything else."""
        if not isinstance(stored, dict):
            return None
        kind, team_id, name = stored.get("kind"), stored.get("id"), stored.get("name")
        members = stored.get("members")
        if kind not in (GROUP, CHANNEL) or not isinstance(members, list):
            return None
        if not isinstance(team_id, str) or not isinstance(name, str):
            return None
        return cls(kind, team_id, name, frozenset(str(member) for member in members))


@dataclass(frozen=True)
class PersonRecord:
    """One enrolled person on the path."""

    user_id: str
    origin: str
    started_at: datetime
    due_on: date | None
    #: Lessons of the path done by learning them, and by showing they knew them.
    learned: int
    known: int
    total: int
    completed_at: datetime | None
    standing: str
    #: Why their lessons wait or stopped (None while they flow).
    paused: str | None
    #: Their first answers to the path's quiz items outside reviews, and how many were right.
    answered: int
    right: int

    @property
    def done(self) -> int:
        return self.learned + self.known

    @property
    def accuracy(self) -> float | None:
        return self.right / self.answered if self.answered else None


@dataclass(frozen=True)
class ItemAccuracy:
    """One quiz item: how often people's first answer to it was right."""

    number: int
    lesson: Lesson
    answers: int
    right: int

    @property
    def accuracy(self) -> float | None:
        return self.right / self.answers if self.answers else None

    @property
    def enough(self) -> bool:
        return self.answers >= ENOUGH_ANSWERS


@dataclass(frozen=True)
class FunnelStep:
    """One lesson: how many of the enrolled have done it (learned, or skipped as known)."""

    number: int
    lesson: Lesson
    learned: int
    known: int

    @property
    def done(self) -> int:
        return self.learned + self.known


@dataclass(frozen=True)
class PathReport:
    path: LearningPath
    team: Team | None
    #: The enrolled, in the order they enrolled.
    people: tuple[PersonRecord, ...]
    #: People who stopped the path before completing it (not enrolled any more).
    left: int
    #: Median days from enrolment to completion, over those who completed it.
    median_days: float | None
    #: Enough answers first, hardest first; then the items with too few answers.
    items: tuple[ItemAccuracy, ...]
    funnel: tuple[FunnelStep, ...]

    @property
    def enrolled(self) -> int:
        return len(self.people)

    def count(self, standing: str) -> int:
        return sum(person.standing == standing for person in self.people)

    def by_origin(self) -> dict[str, int]:
        return {origin: sum(p.origin == origin for p in self.people) for origin in ORIGINS}

    @property
    def paused(self) -> int:
        return sum(p.standing == BEHIND and p.paused is not None for p in self.people)

    def who(self, standing: str) -> list[str]:
        return [person.user_id for person in self.people if person.standing == standing]


# --- who may see what ---------------------------------------------------------------------------


def owners_of(path: LearningPath) -> tuple[str, ...]:
    """The people a path names as its owners (an optional `owners:` list in its file)."""
    owners = getattr(path, "owners", None) or ()
    return tuple(str(owner) for owner in owners)


def reportable_paths(runtime: Runtime, user_id: str) -> list[LearningPath]:
    """The paths whose report `user_id` may see: every path for a community manager, the
    paths they own for anyone else (none for most people), by title."""
    known = runtime.catalogue.paths.values()
    manager = runtime.is_manager(user_id)
    found = [path for path in known if manager or user_id in owners_of(path)]
    return sorted(found, key=lambda path: (path.title.lower(), path.id))


def busiest(runtime: Runtime, offered: list[LearningPath]) -> LearningPath | None:
    """The path of `offered` most people are on (the report shown before one is chosen)."""
    with runtime.store.session() as session:
        counts = rows.enrolled_counts(session, team_id=runtime.team_id)
    return max(offered, key=lambda path: counts.get(path.id, 0), default=None)


def report_for(
    runtime: Runtime, user_id: str, path_id: str, *, team: Team | None, now: datetime
) -> PathReport | None:
    """The report on `path_id` as `user_id` may see it; None when the path is gone or is not
    theirs to see."""
    path = next((p for p in reportable_paths(runtime, user_id) if p.id == path_id), None)
    return None if path is None else report(runtime, path, team=team, now=now)


# --- the report ---------------------------------------------------------------------------------


def report(runtime: Runtime, path: LearningPath, *, team: Team | None, now: datetime) -> PathReport:
    """How the people on `path` (the members of `team` only, when given) are doing at `now`."""
    with runtime.store.session() as session:
        subscribed = rows.enrolments(session, team_id=runtime.team_id, path=path.id)
        completed = rows.completions(session, team_id=runtime.team_id, path=path.id)
        done = rows.lessons_done(session, team_id=runtime.team_id, path=path.id)
        answered = rows.answers(session, team_id=runtime.team_id, path=path.id)
    if team is not None:
        subscribed = [each for each in subscribed if each.user_id in team.members]
        answered = [each for each in answered if each.user_id in team.members]
    enrolled = [each for each in subscribed if each.active or each.user_id in completed]
    left = len(subscribed) - len(enrolled)
    lesson_ids = {lesson.id: number for number, lesson in enumerate(path.lessons, 1)}
    done = [each for each in done if each.lesson_id in lesson_ids]
    firsts = _first_answers(answered, lesson_ids)
    done_by: dict[str, list[rows.Done]] = {}
    for each in done:
        done_by.setdefault(each.user_id, []).append(each)
    last_seen: dict[str, datetime] = {}
    for moment in [*((d.user_id, d.done_at) for d in done), *_answer_times(answered)]:
        user, at = moment
        last_seen[user] = max(at, last_seen.get(user, at))
    firsts_by: dict[str, list[rows.Answer]] = {}
    for answer in firsts:
        firsts_by.setdefault(answer.user_id, []).append(answer)
    people = tuple(
        _record(
            each,
            path,
            done_by.get(each.user_id, []),
            completed.get(each.user_id),
            firsts_by.get(each.user_id, []),
            last_seen.get(each.user_id),
            now,
        )
        for each in enrolled
    )
    took = [
        max(0.0, (person.completed_at - person.started_at).total_seconds() / DAY_SECONDS)
        for person in people
        if person.completed_at is not None
    ]
    counted = {person.user_id for person in people}
    return PathReport(
        path=path,
        team=team,
        people=people,
        left=left,
        median_days=statistics.median(took) if took else None,
        items=_items(path, firsts),
        funnel=_funnel(path, [each for each in done if each.user_id in counted]),
    )


def _answer_times(answered: Iterable[rows.Answer]) -> Iterable[tuple[str, datetime]]:
    return ((answer.user_id, answer.answered_at) for answer in answered)


def _first_answers(answered: list[rows.Answer], lesson_ids: dict[str, int]) -> list[rows.Answer]:
    """Each person's first answer to each item of the path, reviews left out (`answered` is
    oldest first)."""
    seen: set[tuple[str, str]] = set()
    firsts = []
    for answer in answered:
        key = (answer.user_id, answer.lesson_id)
        if answer.review or answer.lesson_id not in lesson_ids or key in seen:
            continue
        seen.add(key)
        firsts.append(answer)
    return firsts


def _schedule(enrolment: rows.Enrolment) -> Schedule:
    """The person's own schedule (their zone and lesson days), the usual one if none is kept."""
    if enrolment.tz is None or enrolment.deliver_at is None or enrolment.days is None:
        return Schedule("UTC", DEFAULT_TIME, WEEKDAYS)
    hours, _, minutes = enrolment.deliver_at.partition(":")
    try:
        at = time(int(hours), int(minutes or 0))
    except ValueError:
        at = DEFAULT_TIME
    days = frozenset(int(day) for day in enrolment.days if day.isdigit() and int(day) < 7)
    return Schedule(enrolment.tz, at, days or WEEKDAYS)


def lesson_days_between(days: frozenset[int], after: date, until: date) -> int:
    """How many of `days` (weekdays, Monday = 0) fall after `after`, up to `until` included."""
    if until <= after:
        return 0
    span = (until - after).days
    weeks, rest = divmod(span, 7)
    count = weeks * len(days)
    for offset in range(1, rest + 1):
        if (after + timedelta(days=offset)).weekday() in days:
            count += 1
    return count


def _record(
    enrolment: rows.Enrolment,
    path: LearningPath,
    done: list[rows.Done],
    completed_at: datetime | None,
    firsts: list[rows.Answer],
    last_seen: datetime | None,
    now: datetime,
) -> PersonRecord:
    schedule = _schedule(enrolment)
    known = sum(each.how == lesson_rows.KNOWN for each in done)
    learned = len(done) - known
    total = len(path.lessons)
    paused = enrolment.paused_reason or enrolment.stopped_reason
    standing = _standing(
        schedule,
        enrolment,
        done=learned + known,
        total=total,
        completed=completed_at is not None,
        paused=paused is not None,
        last_seen=max(enrolment.started_at, last_seen or enrolment.started_at),
        now=now,
    )
    return PersonRecord(
        user_id=enrolment.user_id,
        origin=enrolment.origin,
        started_at=enrolment.started_at,
        due_on=enrolment.due_on,
        learned=learned,
        known=known,
        total=total,
        completed_at=completed_at,
        standing=standing,
        paused=paused,
        answered=len(firsts),
        right=sum(answer.correct for answer in firsts),
    )


def _standing(
    schedule: Schedule,
    enrolment: rows.Enrolment,
    *,
    done: int,
    total: int,
    completed: bool,
    paused: bool,
    last_seen: datetime,
    now: datetime,
) -> str:
    if completed:
        return COMPLETED
    today = schedule.local_day(now)
    due = enrolment.due_on
    if due is not None and due < today:
        return OVERDUE
    if paused:
        return BEHIND
    if due is not None:
        start = schedule.local_day(enrolment.started_at)
        allowed = max(1, lesson_days_between(schedule.days, start, due))
        passed = min(allowed, lesson_days_between(schedule.days, start, today - timedelta(days=1)))
        expected = math.floor(total * passed / allowed)
        return ON_TRACK if done >= expected else BEHIND
    cutoff = today
    for _ in range(RECENT_LESSON_DAYS):
        cutoff = schedule.previous_day(cutoff)
    return ON_TRACK if schedule.local_day(last_seen) >= cutoff else BEHIND


def _items(path: LearningPath, firsts: list[rows.Answer]) -> tuple[ItemAccuracy, ...]:
    counts: dict[str, list[int]] = {}
    for answer in firsts:
        tally = counts.setdefault(answer.lesson_id, [0, 0])
        tally[0] += 1
        tally[1] += answer.correct
    items = [
        ItemAccuracy(number, lesson, *counts.get(lesson.id, [0, 0]))
        for number, lesson in enumerate(path.lessons, 1)
        if lesson.quiz is not None
    ]
    judged = sorted(
        (item for item in items if item.enough),
        key=lambda item: (item.right / item.answers, -item.answers, item.number),
    )
    few = sorted(
        (item for item in items if not item.enough), key=lambda item: (-item.answers, item.number)
    )
    return (*judged, *few)


def _funnel(path: LearningPath, done: list[rows.Done]) -> tuple[FunnelStep, ...]:
    learned: dict[str, int] = {}
    known: dict[str, int] = {}
    for each in done:
        tally = known if each.how == lesson_rows.KNOWN else learned
        tally[each.lesson_id] = tally.get(each.lesson_id, 0) + 1
    return tuple(
        FunnelStep(number, lesson, learned.get(lesson.id, 0), known.get(lesson.id, 0))
        for number, lesson in enumerate(path.lessons, 1)
    )


# --- for the command line -----------------------------------------------------------------------


def stored_paths(runtime: Runtime) -> dict[str, LearningPath]:
    """The paths as Eddy last loaded them into the database (the command line reads these:
    it has no catalogue of its own)."""
    with runtime.store.session() as session:
        found = lesson_rows.paths(session, team_id=runtime.team_id)
    return {row.key: path_from_spec(row.spec) for row in found}


def cached_team(runtime: Runtime, kind: str, name: str) -> Team | None:
    """A team from the members Eddy keeps of the groups and channels it assigned paths to
    (refreshed while Eddy runs); None when it keeps none by that name."""
    with runtime.store.session() as session:
        found = rows.cached_group(session, team_id=runtime.team_id, kind=kind, name=name)
    if found is None:
        return None
    shown = f"@{found.name or name}" if kind == GROUP else f"#{found.name or name}"
    return Team(kind, found.target, shown, frozenset(found.members))


CSV_HEADER = (
    "user_id",
    "name",
    "origin",
    "started",
    "due",
    "lessons_done",
    "lessons_known",
    "lessons_total",
    "completed_at",
    "standing",
    "overdue",
    "paused",
    "quiz_first_answers",
    "quiz_accuracy",
)


def person_row(person: PersonRecord, name: str = "") -> list[str]:
    """One enrolled person as a CSV row (CSV_HEADER's columns); `lessons_done` counts the
    known ones too."""
    return [
        person.user_id,
        name,
        person.origin,
        person.started_at.isoformat(),
        person.due_on.isoformat() if person.due_on else "",
        str(person.done),
        str(person.known),
        str(person.total),
        person.completed_at.isoformat() if person.completed_at else "",
        person.standing,
        "yes" if person.standing == OVERDUE else "no",
        person.paused or "",
        str(person.answered),
        f"{person.accuracy:.2f}" if person.accuracy is not None else "",
    ]


ITEMS_HEADER = (
    "kind",
    "number",
    "lesson_id",
    "lesson",
    "answers",
    "right",
    "accuracy",
    "done",
    "known",
)


def item_rows(found: PathReport) -> list[list[str]]:
    """The quiz items (hardest first; `accuracy` empty below ENOUGH_ANSWERS answers) and
    the funnel, lesson by lesson, as CSV rows under ITEMS_HEADER."""
    rows_out = [
        [
            "item",
            str(item.number),
            item.lesson.id,
            item.lesson.title,
            str(item.answers),
            str(item.right),
            f"{item.accuracy:.2f}" if item.enough and item.accuracy is not None else "",
            "",
            "",
        ]
        for item in found.items
    ]
    rows_out += [
        [
            "funnel",
            str(step.number),
            step.lesson.id,
            step.lesson.title,
            "",
            "",
            "",
            str(step.done),
            str(step.known),
        ]
        for step in found.funnel
    ]
    return rows_out
