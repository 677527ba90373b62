"""Assigned learning: a community manager, or a path's owners, assign a path to people, a
Slack user group or a channel's members, with a due date and a line on why it matters.

    result = assign(runtime, manager="U1", path=path, targets=[Target(GROUP, "S1", "@support")],
                    due_on=date(2026, 12, 31), why="We start the new ticket flow in January.",
                    now=now)
    reached = reach(runtime, now=now, assignment_ids=result.assignment_ids)
    refresh(runtime, now)                 # the scheduler's job: groups and channels anew
    members_changed(runtime, kind=GROUP, target="S1", added=["U2"], now=now)   # Slack's events
    welcome(runtime, person, now=now)     # team_join: the onboarding journeys

**Who it reaches.** A person named is reached; a group's or a channel's members as Slack
lists them (cached in `group_members`, refreshed by the scheduler and on Slack's events), so
that people who join later are reached too. Bots, deactivated accounts, Eddy itself and
single-channel guests are never enrolled. An onboarding journey (`assign_on_join: true`) is
a standing assignment of its own kind (JOINERS) that everyone who joins the workspace
reaches, guests aside.

**Once.** Everyone an assignment reaches is a row (`assigned_person`), inserted once whoever
notices first. They are told once: the teller takes the row's `told_at` with a conditional
update, enrols them (lessons start at their next lesson slot, on their own schedule, in
their zone), and tells them; when Slack refuses the message, `told_at` is given back and a
later pass tries again. A person reached by several assignments of one path is told once;
their path follows the assignment due first.

**Leaving.** Someone who leaves the group or channel keeps their progress, and the path no
longer counts as assigned to them: it stays theirs, as their own choice, if they had begun
it, and stops (silently) if no lesson of it had reached them yet. Unassigning does the same
for everyone the assignment reached, and tells those whose path stops.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlmodel import Session

from bot import lessons
from bot.content.lesson_paths import LearningPath
from bot.people import Person
from bot.runtime import HomeChanged, Runtime
from bot.text import plural
from store import assignments as rows
from store import lessons as lesson_rows

log = logging.getLogger(__name__)

PERSON, GROUP, CHANNEL, JOINERS = rows.PERSON, rows.GROUP, rows.CHANNEL, rows.JOINERS
SELF, ASSIGNED, JOURNEY = lesson_rows.SELF, lesson_rows.ASSIGNED, lesson_rows.JOURNEY
#: What a person is told when an assignment that had not begun for them no longer stands.
UNASSIGNED = "unassigned"
WHY_LENGTH = rows.WHY_LENGTH
#: A group's or channel's members are asked of Slack again when the copy is this old.
REFRESH_AFTER = timedelta(minutes=30)
#: An onboarding journey's standing assignment: its target and how it is named.
JOINERS_TARGET, JOINERS_NAME = "team_join", "everyone who joins"


# --- how Slack is reached (handlers/assignments.py) -----------------------------------------


@dataclass(frozen=True)
class Members:
    """A group's or a channel's members as Slack lists them now, and its name as people
    know it ("@support-team", "#onboarding"; "" when Slack did not say)."""

    user_ids: tuple[str, ...]
    name: str = ""


@dataclass(frozen=True)
class Unreadable:
    """Slack would not list a group's or a channel's members (`reason`: Slack's error)."""

    reason: str


class SlackUnsureError(Exception):
    """Slack could not say who someone is right now: they are reached on a later pass."""


@dataclass(frozen=True)
class Told:
    """What one person is told, once: a path assigned to them (ASSIGNED), an onboarding
    journey's welcome (JOURNEY), or that an assignment they had not begun no longer stands
    (UNASSIGNED)."""

    kind: str
    user_id: str
    path: LearningPath
    #: Who assigned it ("" for a journey).
    assigned_by: str
    #: The manager's line on why it matters, as they typed it.
    why: str | None = None
    due_on: date | None = None
    #: When their lessons come, and the next one (None when none is due: paused, or done).
    schedule: lessons.Schedule | None = None
    next_at: datetime | None = None
    #: Lessons of it they had done already (their progress stays), and whether all.
    done: int = 0
    completed: bool = False
    #: Why their lessons wait (they stopped them, Slack refused), if they do.
    paused: str | None = None


class AssignmentSlack(Protocol):
    """How assignments reach Slack (handlers/assignments.py); bot/ decides who and when."""

    def members(self, kind: str, target: str) -> Members | Unreadable:
        """Every member of a user group (GROUP) or a channel (CHANNEL), all pages."""
        ...

    def person(self, user_id: str) -> Person | None:
        """Who someone is (None: Slack knows nobody so); raises SlackUnsureError when Slack cannot
        say right now."""
        ...

    def tell(self, told: Told) -> bool:
        """Message the person; False when Slack refused (nothing was posted)."""
        ...


# --- what the domain answers ----------------------------------------------------------------


class Outcome(StrEnum):
    ASSIGNED = "assigned"
    REMOVED = "removed"
    #: Only community managers and the path's owners assign it.
    NOT_ALLOWED = "not_allowed"
    #: Slack would not list a group's or channel's members: nothing was assigned.
    UNREADABLE = "unreadable"
    #: Nothing to unassign: the path was not assigned to any of those named.
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Target:
    """Whom an assignment names: a person, a user group, a channel (or, for a journey,
    everyone who joins), and its name as people know it ("@support-team", "#onboarding")."""

    kind: str
    id: str
    name: str = ""


@dataclass(frozen=True)
class AssignResult:
    outcome: Outcome
    assignment_ids: tuple[int, ...] = ()
    #: Targets that had the path assigned already: their due date and why are updated.
    renewed: tuple[Target, ...] = ()
    #: Targets Slack would not list, with Slack's reason (nothing was assigned then).
    unreadable: tuple[tuple[Target, str], ...] = ()
    #: How many members each group or channel has, as Slack listed them.
    sizes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class UnassignResult:
    outcome: Outcome
    removed: tuple[Target, ...] = ()
    #: Targets the path was not assigned to.
    missing: tuple[Target, ...] = ()
    #: People who stay on the path as their own choice, and whose path stopped (they had
    #: not begun it).
    kept: int = 0
    stopped: int = 0


@dataclass
class Reached:
    """What one pass of reaching people came to."""

    #: People told now.
    told: list[str] = field(default_factory=list)
    #: Newly reached people: enrolled, and told or to be told.
    added: int = 0
    #: Members Eddy never enrols: bots, deactivated accounts, single-channel guests, itself.
    skipped: int = 0
    #: People Slack could not say anything about right now, or would not let Eddy message:
    #: a later pass tries again.
    later: int = 0
    #: People who left a group or channel.
    left: int = 0

    def __add__(self, other: Reached) -> Reached:
        return Reached(
            self.told + other.told,
            self.added + other.added,
            self.skipped + other.skipped,
            self.later + other.later,
            self.left + other.left,
        )


@dataclass(frozen=True)
class AssignmentSummary:
    """An assignment as `/learn assigned` and the console show it."""

    id: int
    path: LearningPath
    target: Target
    due_on: date | None
    why: str | None
    assigned_by: str
    assigned_at: datetime
    #: People it reached (who have not left), who completed the path, and who are past its
    #: due date in their own zone without completing it.
    reached: int = 0
    completed: int = 0
    overdue: int = 0
    #: For a journey: whether the path still has `assign_on_join: true`.
    journey_on: bool = False


@dataclass(frozen=True)
class Listing:
    """`/learn assigned`: the assignments the viewer may see; `mine` when those are only
    the ones that reach them (they manage no path)."""

    assignments: tuple[AssignmentSummary, ...]
    mine: bool


# --- who may ---------------------------------------------------------------------------------


def may_assign(runtime: Runtime, user_id: str, path: LearningPath | None, what: str) -> bool:
    """Community managers assign any path; a path's `owners` assign that path (`what`
    names the attempt in the log when someone else tries)."""
    if runtime.is_manager(user_id) or (path is not None and user_id in path.owners):
        return True
    log.warning(
        "Refused %s to %s, who is neither a community manager nor an owner of the path",
        what,
        user_id,
    )
    return False


def manages_any(runtime: Runtime, user_id: str) -> bool:
    """Whether this person may assign some path (a manager, or some path's owner)."""
    return runtime.is_manager(user_id) or any(
        user_id in path.owners for path in lessons.paths(runtime).values()
    )


def teachable(person: Person | None, *, journey: bool = False) -> bool:
    """Whether Eddy enrols this person: a human with an active account who is no
    single-channel guest (on a journey, no guest at all: onboarding is for members)."""
    if person is None or not person.is_human or not person.active:
        return False
    return not (person.guest if journey else person.single_channel_guest)


# --- assigning --------------------------------------------------------------------------------


def assign(
    runtime: Runtime,
    *,
    manager: str,
    path: LearningPath,
    targets: Sequence[Target],
    due_on: date | None,
    why: str | None,
    now: datetime,
) -> AssignResult:
    """Assign `path` to each target (again: the due date and why given replace theirs, and
    what is not given stays); groups' and channels' members are listed by Slack first, and
    if one cannot be, nothing is assigned. Then `reach` the people (the handler does, once it
    has answered the manager)."""
    if not may_assign(runtime, manager, path, f"assigning {path.id}"):
        return AssignResult(Outcome.NOT_ALLOWED)
    listed: dict[Target, Members] = {}
    unreadable: list[tuple[Target, str]] = []
    for target in targets:
        if target.kind not in (GROUP, CHANNEL):
            continue
        got = _slack_members(runtime, target.kind, target.id)
        if isinstance(got, Unreadable):
            unreadable.append((target, got.reason))
        else:
            listed[target] = got
    if unreadable:
        return AssignResult(Outcome.UNREADABLE, unreadable=tuple(unreadable))
    ids: list[int] = []
    renewed: list[Target] = []
    with runtime.store.session() as session:
        for target, got in listed.items():
            rows.save_members(
                session,
                team_id=runtime.team_id,
                kind=target.kind,
                target=target.id,
                name=got.name or target.name,
                user_ids=got.user_ids,
                at=now,
            )
        for target in dict.fromkeys(targets):
            row = rows.find(
                session, team_id=runtime.team_id, path=path.id, kind=target.kind, target=target.id
            )
            if row is None:
                row = rows.Assignment(
                    team_id=runtime.team_id,
                    path=path.id,
                    target_kind=target.kind,
                    target=target.id,
                    target_name="",
                    assigned_by=manager,
                    assigned_at=now,
                )
            elif row.removed_at is None:
                renewed.append(target)
            else:  # assigned anew: it reaches (and tells) its people afresh
                row.assigned_at = now
                assert row.id is not None
                rows.forget_people(session, team_id=runtime.team_id, assignment_id=row.id)
            known_name = listed[target].name if target in listed else ""
            row.target_name = (known_name or target.name or row.target_name)[:100]
            if target in renewed:  # what was not given again stays as it was
                due_on_now, why_now = due_on or row.due_on, why or row.why
            else:
                due_on_now, why_now = due_on, why
            row.removed_at, row.removed_by = None, None
            row.due_on, row.why, row.assigned_by = due_on_now, why_now, manager
            rows.save(session, row)
            assert row.id is not None
            ids.append(row.id)
            if target in renewed:
                for person in rows.people(
                    session, team_id=runtime.team_id, assignment_ids=[row.id]
                ):
                    if person.left_at is None and person.told_at is not None:
                        _govern(session, runtime, path.id, person.user_id, now)
    log.info("%s assigned %s to %s", manager, path.id, ", ".join(t.id for t in targets))
    runtime.notify(HomeChanged(managers=True))
    return AssignResult(
        Outcome.ASSIGNED,
        tuple(ids),
        tuple(renewed),
        sizes={target.id: len(got.user_ids) for target, got in listed.items()},
    )


def unassign(
    runtime: Runtime,
    *,
    manager: str,
    path: LearningPath,
    targets: Sequence[Target],
    now: datetime,
) -> UnassignResult:
    """Take back the assignment of `path` to each target (the row stays, with who took it
    back and when). Everyone it reached keeps their progress: the path stays theirs as
    their own choice if they had begun it, else it stops and they are told so."""
    if not may_assign(runtime, manager, path, f"unassigning {path.id}"):
        return UnassignResult(Outcome.NOT_ALLOWED)
    removed: list[Target] = []
    missing: list[Target] = []
    kept: list[str] = []
    stopped: list[str] = []
    telling: list[tuple[str, str]] = []
    with runtime.store.session() as session:
        for target in dict.fromkeys(targets):
            row = rows.find(
                session, team_id=runtime.team_id, path=path.id, kind=target.kind, target=target.id
            )
            if row is None or row.removed_at is not None:
                missing.append(target)
                continue
            row.removed_at, row.removed_by = now, manager
            rows.save(session, row)
            removed.append(Target(target.kind, target.id, row.target_name or target.name))
            assert row.id is not None
            for person in rows.people(session, team_id=runtime.team_id, assignment_ids=[row.id]):
                if person.left_at is not None:
                    continue
                became = _govern(session, runtime, path.id, person.user_id, now)
                if became == _STOPPED:
                    stopped.append(person.user_id)
                    if person.told_at is not None:
                        telling.append((person.user_id, row.assigned_by))
                elif became == _OWN:
                    kept.append(person.user_id)
    slack = runtime.assignment_slack
    for user_id, assigned_by in dict(telling).items():
        if slack is not None:
            slack.tell(Told(UNASSIGNED, user_id, path, assigned_by=assigned_by))
    if removed:
        log.info("%s unassigned %s from %s", manager, path.id, ", ".join(t.id for t in removed))
        runtime.notify(HomeChanged(users=tuple(dict.fromkeys([*kept, *stopped])), managers=True))
    outcome = Outcome.REMOVED if removed else Outcome.NOT_FOUND
    return UnassignResult(
        outcome, tuple(removed), tuple(missing), len(set(kept)), len(set(stopped))
    )


#: What became of a person's path when an assignment stopped applying to them.
_LINKED, _OWN, _STOPPED = "linked", "own", "stopped"


def _precedence(row: rows.Assignment) -> tuple[bool, date, datetime, int]:
    """The assignment a path follows when several reach one person: the one due first."""
    return (row.due_on is None, row.due_on or date.max, row.assigned_at, row.id or 0)


def _governing(
    session: Session, runtime: Runtime, path_id: str, user_id: str
) -> rows.Assignment | None:
    found = rows.reaching(session, team_id=runtime.team_id, path=path_id, user_id=user_id)
    return min(found, key=_precedence) if found else None


def _govern(session: Session, runtime: Runtime, path_id: str, user_id: str, now: datetime) -> str:
    """Link a person's path to the assignment that reaches them and is due first; with none
    left, it is their own choice if they had begun it, else it stops."""
    first = _governing(session, runtime, path_id, user_id)
    if first is not None:
        rows.link_subscription(
            session,
            team_id=runtime.team_id,
            user_id=user_id,
            path=path_id,
            origin=JOURNEY if first.target_kind == JOINERS else ASSIGNED,
            assignment_id=first.id,
            due_on=first.due_on,
        )
        return _LINKED
    began = rows.began(session, team_id=runtime.team_id, user_id=user_id, path=path_id)
    rows.link_subscription(
        session,
        team_id=runtime.team_id,
        user_id=user_id,
        path=path_id,
        origin=SELF,
        assignment_id=None,
        due_on=None,
        stop_at=None if began else now,
    )
    return _OWN if began else _STOPPED


# --- reaching people ----------------------------------------------------------------------


def _slack_members(runtime: Runtime, kind: str, target: str) -> Members | Unreadable:
    slack = runtime.assignment_slack
    if slack is None:
        return Unreadable("no Slack connection")
    return slack.members(kind, target)


def _who(runtime: Runtime, user_id: str) -> Person | None:
    """Who someone is (Slack, remembered); raises SlackUnsureError."""
    slack = runtime.assignment_slack
    if slack is None:
        raise SlackUnsureError("no Slack connection")
    return slack.person(user_id)


def reach(
    runtime: Runtime, *, now: datetime, assignment_ids: Sequence[int] | None = None
) -> Reached:
    """Bring standing assignments (all, or these) up to date with who they name: the members
    who are new are enrolled and told once; those who left no longer count; whoever was not
    told yet (Slack refused before) is told now. Idempotent, and safe on several instances."""
    report = Reached()
    if runtime.assignment_slack is None:
        log.warning("No Slack connection to reach the people of assignments")
        return report
    known = lessons.paths(runtime)
    with runtime.store.session() as session:
        found = [
            row
            for row in rows.standing(session, team_id=runtime.team_id, ids=assignment_ids)
            if row.path in known
        ]
        ids = [row.id for row in found if row.id is not None]
        reached = rows.people(session, team_id=runtime.team_id, assignment_ids=ids)
        covered: dict[int, set[str] | None] = {}
        for row in found:
            assert row.id is not None
            if row.target_kind == PERSON:
                covered[row.id] = {row.target}
            elif row.target_kind in (GROUP, CHANNEL):
                cached = rows.members(
                    session, team_id=runtime.team_id, kind=row.target_kind, target=row.target
                )
                covered[row.id] = set(cached.members) if cached is not None else None
            else:
                covered[row.id] = None  # joiners are added one by one, and never leave
    # Who is new, who left and who is back, per assignment.
    new: dict[int, list[str]] = {}
    gone: dict[int, list[str]] = {}
    back: dict[int, list[str]] = {}
    for row in found:
        assert row.id is not None
        mine = {person.user_id: person for person in reached if person.assignment_id == row.id}
        cover = covered[row.id]
        if cover is None:
            continue
        new[row.id] = sorted(user for user in cover if user not in mine)
        gone[row.id] = [u for u, p in mine.items() if p.left_at is None and u not in cover]
        back[row.id] = [u for u, p in mine.items() if p.left_at is not None and u in cover]
    people: dict[str, Person] = {}
    for user_id in sorted({user for users in new.values() for user in users}):
        try:
            person = _who(runtime, user_id)
        except SlackUnsureError:
            report.later += 1
            continue
        if teachable(person):
            assert person is not None
            people[user_id] = person
        else:
            report.skipped += 1
    returned: list[tuple[rows.Assignment, str]] = []
    with runtime.store.session() as session:
        for row in found:
            assert row.id is not None
            for user_id in new.get(row.id, []):
                if user_id in people and rows.add_person(
                    session,
                    team_id=runtime.team_id,
                    assignment_id=row.id,
                    user_id=user_id,
                    at=now,
                ):
                    report.added += 1
            left = rows.mark_left(
                session,
                team_id=runtime.team_id,
                assignment_id=row.id,
                user_ids=gone.get(row.id, []),
                at=now,
            )
            for user_id in left:
                _govern(session, runtime, row.path, user_id, now)
            report.left += len(left)
            for user_id in rows.mark_back(
                session,
                team_id=runtime.team_id,
                assignment_id=row.id,
                user_ids=back.get(row.id, []),
            ):
                returned.append((row, user_id))
        # Told, but never enrolled: an instance stopped between the two.
        for someone in rows.unenrolled(session, team_id=runtime.team_id, assignment_ids=ids):
            returned.append(
                (next(row for row in found if row.id == someone.assignment_id), someone.user_id)
            )
    for row, user_id in returned:
        _enrol_back(runtime, row, user_id, now, report)
    report += _tell_untold(runtime, found, people, now)
    if report.added or report.left or report.told:
        runtime.notify(HomeChanged(managers=True))
    return report


def _enrol_back(
    runtime: Runtime, row: rows.Assignment, user_id: str, now: datetime, report: Reached
) -> None:
    """Someone back in a group or channel they had left (or told, but not enrolled): the
    path is assigned to them again (they were told about it before)."""
    try:
        person = _who(runtime, user_id)
    except SlackUnsureError:
        report.later += 1
        return
    if not teachable(person):
        return
    assert person is not None
    _enrol(runtime, row, person, now)


def _enrol(
    runtime: Runtime, row: rows.Assignment, person: Person, now: datetime
) -> lessons.Started | None:
    """Put the person on the assignment's path, linked to the assignment that reaches them
    and is due first, their lessons starting at their next slot; a journey's day 1 is the
    day of that slot (their first working day)."""
    path = lessons.paths(runtime).get(row.path)
    if path is None:
        return None
    with runtime.store.session() as session:
        first = _governing(session, runtime, row.path, person.id) or row
    anchor = None
    if first.target_kind == JOINERS:
        schedule, _ = lessons.schedule_of(runtime, person.id, tz=person.tz)
        anchor = schedule.local_day(schedule.next_slot(at_or_after=now))
    return lessons.enrol(
        runtime,
        person.id,
        path,
        tz=person.tz,
        now=now,
        origin=JOURNEY if first.target_kind == JOINERS else ASSIGNED,
        assignment_id=first.id,
        due_on=first.due_on,
        anchor_day=anchor,
    )


def _tell_untold(
    runtime: Runtime,
    found: list[rows.Assignment],
    people: dict[str, Person],
    now: datetime,
) -> Reached:
    """Enrol and tell everyone these assignments reached who was not told yet: each person
    once per path, by whoever takes their rows first."""
    report = Reached()
    slack = runtime.assignment_slack
    assert slack is not None
    by_id = {row.id: row for row in found}
    with runtime.store.session() as session:
        reached = rows.people(
            session,
            team_id=runtime.team_id,
            assignment_ids=[row_id for row_id in by_id if row_id is not None],
        )
    untold: dict[tuple[str, str], list[rows.Assignment]] = {}
    told_before: set[tuple[str, str]] = set()
    for someone in reached:
        row = by_id[someone.assignment_id]
        if someone.left_at is not None:
            continue
        key = (someone.user_id, row.path)
        if someone.told_at is None:
            untold.setdefault(key, []).append(row)
        else:
            told_before.add(key)
    for (user_id, path_id), waiting in untold.items():
        try:
            person = people.get(user_id) or _who(runtime, user_id)
        except SlackUnsureError:
            report.later += 1
            continue
        if not teachable(person, journey=all(row.target_kind == JOINERS for row in waiting)):
            continue
        assert person is not None
        taken = []
        with runtime.store.session() as session:
            for row in waiting:
                assert row.id is not None
                if rows.claim_telling(
                    session, team_id=runtime.team_id, assignment_id=row.id, user_id=user_id, at=now
                ):
                    taken.append(row)
        if not taken:
            continue  # another instance (or pass) is telling them
        started = _enrol(runtime, taken[0], person, now)
        if started is None or (user_id, path_id) in told_before:
            continue  # they know about this path already: once is enough
        told = _told(runtime, taken[0], person, started, now)
        if slack.tell(told):
            report.told.append(user_id)
            continue
        report.later += 1
        with runtime.store.session() as session:
            for row in taken:
                assert row.id is not None
                rows.release_telling(
                    session, team_id=runtime.team_id, assignment_id=row.id, user_id=user_id, at=now
                )
    return report


def _told(
    runtime: Runtime,
    row: rows.Assignment,
    person: Person,
    started: lessons.Started,
    now: datetime,
) -> Told:
    """What to tell a person just enrolled: who assigned the path and why, by when, and when
    their lessons come (or why they wait)."""
    with runtime.store.session() as session:
        first = _governing(session, runtime, row.path, person.id) or row
    progress = lessons.progress(runtime, person.id, now=now)
    mine = next((each for each in progress.paths if each.path.id == started.path.id), None)
    journey = first.target_kind == JOINERS
    return Told(
        kind=JOURNEY if journey else ASSIGNED,
        user_id=person.id,
        path=started.path,
        assigned_by=first.assigned_by,
        why=first.why,
        due_on=first.due_on,
        schedule=progress.schedule,
        next_at=progress.next_at,
        done=mine.done if mine else 0,
        completed=mine is not None and mine.completed_at is not None,
        paused=progress.stopped_reason,
    )


# --- groups and channels change -------------------------------------------------------------


def members_changed(
    runtime: Runtime,
    *,
    kind: str,
    target: str,
    added: Sequence[str] = (),
    removed: Sequence[str] = (),
    now: datetime,
) -> Reached | None:
    """Slack said people joined or left a user group or a channel (`subteam_members_changed`,
    `member_joined_channel`): if a standing assignment names it, its members change and the
    assignment reaches whoever joined. None when no assignment names it."""
    with runtime.store.session() as session:
        ids = [
            row.id
            for row in rows.standing(session, team_id=runtime.team_id, kinds=[kind])
            if row.target == target and row.id is not None
        ]
        cached = (
            rows.members(session, team_id=runtime.team_id, kind=kind, target=target, lock=True)
            if ids
            else None
        )
        if cached is None:
            return None
        gone = set(removed)
        kept = [user for user in cached.members if user not in gone]
        rows.save_members(
            session,
            team_id=runtime.team_id,
            kind=kind,
            target=target,
            name=cached.name,
            user_ids=[*kept, *(user for user in added if user not in kept)],
            at=cached.refreshed_at,
        )
    return reach(runtime, now=now, assignment_ids=ids)


def refresh(runtime: Runtime, now: datetime) -> str:
    """The scheduler's job: list anew the members of every group and channel a standing
    assignment names (each by one instance, at most every REFRESH_AFTER), then reach whoever
    is new, and tell whoever Slack would not let Eddy tell before."""
    if runtime.assignment_slack is None:
        return "no Slack connection"
    known = lessons.paths(runtime)
    with runtime.store.session() as session:
        targets = sorted(
            {
                (row.target_kind, row.target)
                for row in rows.standing(session, team_id=runtime.team_id, kinds=[GROUP, CHANNEL])
                if row.path in known
            }
        )
    refreshed = 0
    for kind, target in targets:
        with runtime.store.session() as session:
            taken = rows.claim_refresh(
                session,
                team_id=runtime.team_id,
                kind=kind,
                target=target,
                stale_before=now - REFRESH_AFTER,
                at=now,
            )
        if not taken:
            continue
        got = _slack_members(runtime, kind, target)
        if isinstance(got, Unreadable):
            log.warning("Could not list the members of %s %s: %s", kind, target, got.reason)
            continue
        with runtime.store.session() as session:
            cached = rows.members(session, team_id=runtime.team_id, kind=kind, target=target)
            rows.save_members(
                session,
                team_id=runtime.team_id,
                kind=kind,
                target=target,
                name=got.name or (cached.name if cached else ""),
                user_ids=got.user_ids,
                at=now,
            )
        refreshed += 1
    reached = reach(runtime, now=now)
    return (
        f"{plural(refreshed, 'group or channel', 'groups and channels')} refreshed, "
        f"{plural(reached.added, 'person', 'people')} reached, {len(reached.told)} told, "
        f"{reached.left} left"
    )


# --- onboarding journeys ----------------------------------------------------------------------


def welcome(runtime: Runtime, person: Person, *, now: datetime) -> Reached:
    """Someone joined the workspace (`team_join`): every path with `assign_on_join` reaches
    them, from their first working day, with a welcome told once. Bots and guests are left
    out (onboarding is for members)."""
    journeys = [path for path in lessons.paths(runtime).values() if path.assign_on_join]
    if not journeys:
        return Reached()
    if not teachable(person, journey=True):
        log.info("No onboarding journey for %s: a bot, a guest or a deactivated account", person.id)
        return Reached(skipped=1)
    ids = []
    with runtime.store.session() as session:
        for path in journeys:
            row = rows.journey(
                session,
                team_id=runtime.team_id,
                path=path.id,
                target=JOINERS_TARGET,
                name=JOINERS_NAME,
                at=now,
            )
            assert row.id is not None
            rows.add_person(
                session, team_id=runtime.team_id, assignment_id=row.id, user_id=person.id, at=now
            )
            ids.append(row.id)
    with runtime.store.session() as session:
        found = rows.standing(session, team_id=runtime.team_id, ids=ids)
    report = _tell_untold(runtime, found, {person.id: person}, now)
    report.added += 1
    runtime.notify(HomeChanged(managers=True))
    return report


# --- what stands ----------------------------------------------------------------------------


def listing(
    runtime: Runtime, *, viewer: str | None, path_id: str | None = None, now: datetime
) -> Listing:
    """The assignments `viewer` may see (of one path, when given): community managers every
    one, a path's owners that path's; anyone else those that reach them. No viewer: every
    one (the console, which only community managers see)."""
    known = lessons.paths(runtime)
    manager = viewer is None or runtime.is_manager(viewer)
    owned = {key for key, path in known.items() if viewer in path.owners}
    mine = not manager and not owned
    with runtime.store.session() as session:
        if mine and viewer is not None:
            found = rows.assigned_to(session, team_id=runtime.team_id, user_id=viewer)
        else:
            found = rows.standing(session, team_id=runtime.team_id, path=path_id)
            found = [row for row in found if manager or row.path in owned]
        found = [row for row in found if row.path in known and path_id in (None, row.path)]
        reached = rows.people(
            session,
            team_id=runtime.team_id,
            assignment_ids=[row.id for row in found if row.id is not None],
        )
        everyone = sorted({person.user_id for person in reached})
        zones = rows.zones(session, team_id=runtime.team_id, user_ids=everyone)
        done = {
            path: rows.completed(session, team_id=runtime.team_id, path=path, user_ids=everyone)
            for path in {row.path for row in found}
        }
    summaries = []
    for row in found:
        assert row.id is not None
        people = [p.user_id for p in reached if p.assignment_id == row.id and p.left_at is None]
        finished = [user for user in people if user in done[row.path]]
        overdue = 0
        if row.due_on is not None:
            overdue = sum(
                user not in done[row.path]
                and lessons.Schedule(zones.get(user, "UTC")).local_day(now) > row.due_on
                for user in people
            )
        path = known[row.path]
        summaries.append(
            AssignmentSummary(
                id=row.id,
                path=path,
                target=Target(row.target_kind, row.target, row.target_name),
                due_on=row.due_on,
                why=row.why,
                assigned_by=row.assigned_by,
                assigned_at=row.assigned_at,
                reached=len(people),
                completed=len(finished),
                overdue=overdue,
                journey_on=row.target_kind == JOINERS and path.assign_on_join,
            )
        )
    return Listing(tuple(summaries), mine)


def standing_one(runtime: Runtime, assignment_id: int) -> AssignmentSummary | None:
    """A standing assignment by its id (the console's Unassign names it), without its
    figures; None when there is none (or its path is gone)."""
    with runtime.store.session() as session:
        row = rows.assignment(session, team_id=runtime.team_id, assignment_id=assignment_id)
    path = lessons.paths(runtime).get(row.path) if row is not None else None
    if row is None or row.id is None or row.removed_at is not None or path is None:
        return None
    return AssignmentSummary(
        id=row.id,
        path=path,
        target=Target(row.target_kind, row.target, row.target_name),
        due_on=row.due_on,
        why=row.why,
        assigned_by=row.assigned_by,
        assigned_at=row.assigned_at,
    )
