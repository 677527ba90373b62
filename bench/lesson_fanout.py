"""Lesson fan-out: a Monday of micro-lessons and their reminders for 10,000 people in 24 time
zones, on several Eddy instances sharing one database (issue 5; issue 24, point 6).

Eddy runs in this process against the local Slack stand-in, which answers every 50th
chat.postMessage with a 429 and Retry-After: 1. Everyone wants a lesson at 09:00 in their own
zone; the zones cover every whole-hour offset from −11 to +12, so some 417 people's Monday
09:00 falls in each UTC hour from Sunday 21:00 (Tarawa) to Monday 20:00 (Pago Pago).

**Who.** By default (`--mix mixed`) a third of the people chose a path themselves
(`working-in-slack`, every day, as issue 5's benchmark had everyone), a third were assigned
`security-basics` through one assignment to a user group (due 18 December), and a third are
on the `first-week` onboarding journey, which started on one of last week's working days (its
`day:` offsets hold lessons back; their earlier lessons are done, their quizzes are review
cards, their placement check is over). Each gets whichever lesson is due on their Monday:
lesson 1 of their own or assigned path, or the journey's next lesson whose day has come. The
rows are stored directly, as an import from another tool would. `--mix self` puts everyone on
a path they chose, as issue 5's benchmark did.

**When.** The clock starts just before the first slot; at one minute past each UTC hour, and
at any instant a reminder step falls due (`bot.lessons.reminder_at`; hourly with the
defaults), every instance runs the delivery job (`bot.lessons.deliver`) and the reminder job
(`bot.lesson_reminders.remind`) side by side, in threads, as their schedulers would. Nobody
answers, so each lesson gets its reminders (EDDY_LESSON_REMINDERS, default one, half-way
through the 8-hour window: 13:01 local) and its last check at the window's end, which is
where the clock stops: Tuesday 04:01 UTC. The hours after Monday's last slot bring Tuesday's
lessons in the zones from UTC+5 eastwards; they are checked for duplicates but not counted as
missed or off-time, and neither are their reminders. Then every job runs once more at the
last instant, which must send nothing. `--no-reminders` leaves the reminder job out and
stops the clock after Monday's last slot; `--instances 1` runs one Eddy. So
`--mix self --no-reminders --instances 1` is issue 5's day (on people's own Monday).

**What is checked.** The figures come from what the stand-in received, not from Eddy's
reports: lesson messages carry Eddy's `eddy_lesson` metadata (their delivery's ID) and
reminders its `eddy_lesson_reminder` metadata (the lesson's delivery ID and which reminder).
A lesson message beyond the first for a delivery, or for a person's local day, is a
duplicate; a person with no Monday lesson is missed; a Monday lesson outside its 09:00 hour is
off-time, and one that is not the lesson due for that person is wrong. A reminder beyond the
first for a (delivery, step) is a duplicate; a Monday lesson without its reminder missed it;
a reminder before its lesson, or after the lesson's window ended, or on another local day, is
outside the window. All of these must be 0 (exit 1 otherwise).

**Cost.** Eddy's CPU is the CPU time of its own threads: `DeliveryReport.cpu_seconds`
(planning, claiming, building messages, the HTTP client, recording) and the thread time of
each reminder run (finding due steps, claiming them, the permalink and the post, recording);
the stand-in's server threads and the Retry-After sleeps are not in it.

    uv run python bench/lesson_fanout.py [--subscribers 10000] [--every 50] [--mix mixed|self]
        [--no-reminders] [--instances 2] [--database postgresql://postgres@127.0.0.1/postgres]

`--database` names a PostgreSQL server (a fresh database is made there and dropped at the
end) or a SQLite URL; by default a SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import ManualClock  # noqa: E402
from bot.content.lesson_paths import LearningPath, Lesson  # noqa: E402
from bot.lesson_reminders import ReminderReport, remind  # noqa: E402
from bot.lessons import (  # noqa: E402
    BOX_DAYS,
    EVERY_DAY,
    WEEKDAYS,
    DeliveryReport,
    Schedule,
    deliver,
    journey_day,
    reminder_at,
)
from bot.runtime import Runtime, open_runtime  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from handlers import create_app  # noqa: E402
from handlers.lesson_reminders import REMINDER_METADATA_TYPE  # noqa: E402
from handlers.lessons import METADATA_TYPE  # noqa: E402
from sandbox import SlackStandIn  # noqa: E402
from sandbox.workspace import User, Workspace  # noqa: E402
from store import assignments as assignment_rows  # noqa: E402
from store import lessons as lesson_rows  # noqa: E402
from store.db import normalise_url  # noqa: E402

#: Everyone's Monday (in their own zone): day 1 of a working week.
MONDAY = date(2026, 11, 23)
#: One zone per whole-hour UTC offset, −11 to +12, on that day (November: no DST in the north;
#: Auckland would be +13, so Tarawa stands for +12).
ZONES = (
    "Pacific/Pago_Pago",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Halifax",
    "America/Sao_Paulo",
    "Atlantic/South_Georgia",
    "Atlantic/Azores",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Athens",
    "Europe/Moscow",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Brisbane",
    "Pacific/Noumea",
    "Pacific/Tarawa",
)
AT = clock_time(9, 0)
TARGET_MS = 5.0
#: How people came to their path (the cohorts of `--mix mixed`), and each cohort's path.
SELF, ASSIGNED, JOURNEY = lesson_rows.SELF, lesson_rows.ASSIGNED, lesson_rows.JOURNEY
PATH_OF = {SELF: "working-in-slack", ASSIGNED: "security-basics", JOURNEY: "first-week"}
#: The assignment: made on the Friday before, to a user group, due before the holidays.
ASSIGNED_DAY = date(2026, 11, 20)
DUE_ON = date(2026, 12, 18)
GROUP = "S0BENCH001"
MANAGER = "U0MANAGER"
#: The journey's day 1 for each fifth of its people: last week's working days.
JOURNEY_STARTS = tuple(MONDAY - timedelta(days=7 - offset) for offset in range(5))


@dataclass(frozen=True)
class Person:
    """A learner of the benchmark: who they are in Slack, how they came to their path, and
    what they did of it before Monday (the journey's earlier lessons)."""

    user: User
    cohort: str
    path: str
    schedule: Schedule
    #: The journey's day 1 (JOURNEY only).
    anchor: date | None = None
    #: Lessons done before Monday, with the local day each was done.
    done: tuple[tuple[str, date], ...] = ()
    #: The title of the lesson due on their Monday.
    expected_title: str = ""


def check_zones() -> None:
    """Fail loudly if a DST rule change ever makes two zones share an offset on the day: the
    benchmark's point is one slot per UTC hour."""
    offsets = {Schedule(name, AT).slot_on(MONDAY) for name in ZONES}
    first = min(offsets)
    if offsets != {first + timedelta(hours=hours) for hours in range(24)}:
        raise SystemExit(f"the zones' 09:00 on {MONDAY} are not 24 consecutive UTC hours")


def slots() -> tuple[datetime, datetime]:
    """The first and the last Monday 09:00 slot (Tarawa's and Pago Pago's), in UTC."""
    instants = [Schedule(name, AT).slot_on(MONDAY) for name in ZONES]
    return min(instants), max(instants)


def run_instants(settings: Settings, reminders: bool) -> list[datetime]:
    """When the jobs run: once before the first slot (nothing may go early), at one minute past
    each UTC hour through Monday's last slot, and, with reminders, on through the last
    Monday lesson's last check, plus every instant a reminder step of a lesson sent at one of
    those runs falls due (all of them hourly with the default settings)."""
    first, last = slots()
    end = last + timedelta(minutes=1)
    if reminders:
        end += settings.lesson_window  # the last check of the last Monday lesson
    hourly = []
    at = first + timedelta(minutes=1)
    while at <= end:
        hourly.append(at)
        at += timedelta(hours=1)
    steps = set(hourly)
    if reminders:
        for sent in hourly:
            for step in range(1, settings.eddy_lesson_reminders + 2):
                due = reminder_at(settings, sent, step)
                if due <= end:
                    steps.add(due)
    return [first - timedelta(minutes=4), *sorted(steps)]


def journey_so_far(path: LearningPath, anchor: date) -> tuple[list[tuple[str, date]], Lesson]:
    """What a journey that began on `anchor` (lessons on weekdays) brought before Monday, each
    lesson done the day it came, and the lesson due on Monday (its day has come)."""
    done: list[tuple[str, date]] = []
    day = anchor
    while day < MONDAY:
        taken = {lesson_id for lesson_id, _ in done}
        upcoming = next((each for each in path.main_line if each.id not in taken), None)
        if (
            day.weekday() in WEEKDAYS
            and upcoming is not None
            and journey_day(path, upcoming, anchor) <= day
        ):
            done.append((upcoming.id, day))
        day += timedelta(days=1)
    taken = {lesson_id for lesson_id, _ in done}
    due = next(each for each in path.main_line if each.id not in taken)
    if journey_day(path, due, anchor) > MONDAY:
        raise SystemExit(f"the {path.id} journey from {anchor} holds its Monday lesson back")
    return done, due


def add_people(
    workspace: Workspace, count: int, mix: str, paths: dict[str, LearningPath]
) -> list[Person]:
    """`count` people in the stand-in's workspace, spread evenly over the zones, and over the
    cohorts within each zone (24 people at a time share a cohort)."""
    people = []
    for n in range(count):
        user = User(
            id=f"U{n:08d}", name=f"learner{n}", real_name=f"Learner {n}", tz=ZONES[n % len(ZONES)]
        )
        workspace.add_user(user)
        cohort = SELF if mix == "self" else (SELF, ASSIGNED, JOURNEY)[(n // len(ZONES)) % 3]
        path = paths[PATH_OF[cohort]]
        if cohort == JOURNEY:
            anchor = JOURNEY_STARTS[(n // (3 * len(ZONES))) % len(JOURNEY_STARTS)]
            done, due = journey_so_far(path, anchor)
            people.append(
                Person(
                    user,
                    cohort,
                    path.id,
                    Schedule(user.tz, AT, WEEKDAYS),
                    anchor,
                    tuple(done),
                    due.title,
                )
            )
        else:
            days = EVERY_DAY if cohort == SELF else WEEKDAYS
            people.append(
                Person(
                    user,
                    cohort,
                    path.id,
                    Schedule(user.tz, AT, days),
                    None,
                    (),
                    path.lessons[0].title,
                )
            )
    return people


def store_people(runtime: Runtime, people: list[Person], start: datetime) -> None:
    """Store the learners directly, as an import from another tool would: each a learner with
    a 09:00 schedule and its next slot, a subscription to their path; the assignment (one, to
    a user group, with its members and the people it reached, told last Friday) and the
    journey's standing assignment, linked from their subscriptions; the journey's lessons done
    before Monday, their quizzes as review cards (box 2, as answered right), the placement
    check over."""
    team = runtime.team_id
    paths = runtime.catalogue.paths
    cohorts = Counter(person.cohort for person in people)
    assigned_at = Schedule("UTC", clock_time(15, 0)).slot_on(ASSIGNED_DAY)
    with runtime.store.session() as session:
        assignment_of: dict[str, int] = {}
        if cohorts[ASSIGNED]:
            row = assignment_rows.Assignment(
                team_id=team,
                path=PATH_OF[ASSIGNED],
                target_kind=assignment_rows.GROUP,
                target=GROUP,
                target_name="@support-team",
                due_on=DUE_ON,
                why="Everyone on support handles customer data.",
                assigned_by=MANAGER,
                assigned_at=assigned_at,
            )
            session.add(row)
            session.add(
                assignment_rows.GroupMembers(
                    team_id=team,
                    kind=assignment_rows.GROUP,
                    target=GROUP,
                    name="support-team",
                    members=[p.user.id for p in people if p.cohort == ASSIGNED],
                    refreshed_at=assigned_at,
                )
            )
            session.flush()
            assert row.id is not None
            assignment_of[ASSIGNED] = row.id
        if cohorts[JOURNEY]:
            row = assignment_rows.Assignment(
                team_id=team,
                path=PATH_OF[JOURNEY],
                target_kind=assignment_rows.JOINERS,
                target="team_join",
                target_name="everyone who joins",
                assigned_by=MANAGER,
                assigned_at=start - timedelta(days=30),
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            assignment_of[JOURNEY] = row.id
        added: list[Any] = []
        for person in people:
            began = (
                start
                if person.cohort == SELF
                else assigned_at
                if person.cohort == ASSIGNED
                else person.schedule.slot_on(person.anchor or MONDAY) - timedelta(hours=1)
            )
            added.append(
                lesson_rows.Learner(
                    team_id=team,
                    user_id=person.user.id,
                    next_due_at=person.schedule.next_slot(at_or_after=start),
                    created_at=began,
                    **person.schedule.stored,
                )
            )
            added.append(
                lesson_rows.LessonSubscription(
                    team_id=team,
                    user_id=person.user.id,
                    path=person.path,
                    started_at=began,
                    active=True,
                    origin=person.cohort,
                    assignment_id=assignment_of.get(person.cohort),
                    due_on=DUE_ON if person.cohort == ASSIGNED else None,
                    anchor_day=person.anchor,
                    placement=(
                        lesson_rows.PLACEMENT_DONE if paths[person.path].placement else None
                    ),
                )
            )
            if person.cohort != SELF:
                added.append(
                    assignment_rows.AssignedPerson(
                        team_id=team,
                        assignment_id=assignment_of[person.cohort],
                        user_id=person.user.id,
                        added_at=began,
                        told_at=began,
                    )
                )
            for lesson_id, day in person.done:
                at = person.schedule.slot_on(day) + timedelta(minutes=20)
                added.append(
                    lesson_rows.LessonDone(
                        team_id=team,
                        user_id=person.user.id,
                        path=person.path,
                        lesson_id=lesson_id,
                        done_at=at,
                    )
                )
                lesson = paths[person.path].lesson(lesson_id)
                if lesson is not None and lesson.quiz is not None:
                    added.append(
                        lesson_rows.ReviewCard(
                            team_id=team,
                            user_id=person.user.id,
                            path=person.path,
                            lesson_id=lesson_id,
                            box=2,
                            due_day=day + timedelta(days=BOX_DAYS[2]),
                            updated_at=at,
                        )
                    )
        session.add_all(added)


def move_to(clock: ManualClock, instant: datetime) -> datetime:
    """Move the clock forward to `instant` (never backwards)."""
    clock.advance(max(timedelta(), instant - clock.now()))
    return instant


@dataclass
class Totals:
    """What Eddy's jobs reported, and the CPU time of its reminder runs."""

    delivery: DeliveryReport = field(default_factory=DeliveryReport)
    reminders: ReminderReport = field(default_factory=ReminderReport)
    reminder_cpu: float = 0.0

    def add(self, other: Totals) -> None:
        self.delivery += other.delivery
        self.reminders.reminded += other.reminders.reminded
        self.reminders.paused += other.reminders.paused
        self.reminders.settled += other.reminders.settled
        self.reminder_cpu += other.reminder_cpu


def timed_remind(runtime: Runtime, now: datetime) -> Totals:
    """One reminder run and the CPU time it took in its thread (it posts in that thread: the
    permalink, the message and its record are all in it)."""
    started = time.thread_time()
    report = remind(runtime, now)
    return Totals(reminders=report, reminder_cpu=time.thread_time() - started)


def run_jobs(
    pool: ThreadPoolExecutor, runtimes: list[Runtime], now: datetime, reminders: bool
) -> list[Totals]:
    """Every instance's delivery job and (with `reminders`) reminder job at `now`, all at
    once, in threads, as each instance's scheduler would run them; what each instance did."""
    deliveries = [pool.submit(deliver, runtime, now) for runtime in runtimes]
    reminding = [pool.submit(timed_remind, runtime, now) for runtime in runtimes if reminders]
    done = [Totals(delivery=delivered.result()) for delivered in deliveries]
    for instance, reminded in zip(done, reminding, strict=False):
        instance.add(reminded.result())
    return done


@dataclass(frozen=True)
class Received:
    """A message of Eddy's in a person's DM, as the stand-in holds it."""

    person: str
    at: datetime
    delivery_id: int
    step: int
    text: str


def received(workspace: Workspace) -> tuple[list[Received], list[Received]]:
    """The lesson messages and the reminders the stand-in holds, told apart by Eddy's
    message metadata."""
    lessons: list[Received] = []
    reminders: list[Received] = []
    with workspace.lock:
        for message in workspace.messages:
            metadata = message.metadata or {}
            kind = metadata.get("event_type")
            if message.user != workspace.bot.id or kind not in (
                METADATA_TYPE,
                REMINDER_METADATA_TYPE,
            ):
                continue
            person = workspace.channels[message.channel].im_user
            if person is None:
                continue
            payload = metadata.get("event_payload") or {}
            found = Received(
                person,
                datetime.fromtimestamp(float(message.ts), UTC),
                int(payload.get("delivery_id", 0)),
                int(payload.get("step", 0)),
                message.text,
            )
            (lessons if kind == METADATA_TYPE else reminders).append(found)
    return lessons, reminders


@contextmanager
def database(url: str | None, folder: Path) -> Iterator[tuple[str, str]]:
    """The database Eddy runs on, and its name for the figures: a SQLite file in `folder`
    (no URL), the SQLite URL given, or a fresh database on the PostgreSQL server at `url`,
    dropped afterwards."""
    if not url:
        yield f"sqlite:///{folder / 'bench.db'}", "SQLite (a file)"
        return
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        yield url, "SQLite"
        return
    admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
    name = f"eddy_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            admin.url.set(database=name).render_as_string(hide_password=False),
            f"PostgreSQL (a fresh database on {parsed.host}:{parsed.port or 5432})",
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=50, help="a 429 on every Nth post")
    parser.add_argument(
        "--mix",
        choices=("mixed", "self"),
        default="mixed",
        help="mixed: a third each self-enrolled, assigned, on a journey; self: all self-enrolled",
    )
    parser.add_argument(
        "--no-reminders",
        dest="reminders",
        action="store_false",
        help="run the delivery job alone, through Monday's last slot",
    )
    parser.add_argument("--instances", type=int, default=2, help="Eddys on one database")
    parser.add_argument(
        "--database",
        default="",
        help="a PostgreSQL server URL (a fresh database is made there) or a SQLite URL; "
        "default a SQLite file in a temporary folder",
    )
    args = parser.parse_args()
    if args.instances < 1:
        parser.error("--instances must be at least 1")
    logging.basicConfig(level=logging.WARNING)
    check_zones()
    progress_console = Console(stderr=True)
    first_slot, _ = slots()
    start = first_slot - timedelta(minutes=5)

    with (
        tempfile.TemporaryDirectory() as folder,
        database(args.database, Path(folder)) as (database_url, database_name),
        SlackStandIn.from_manifest(ROOT / "manifest.yml", signing_secret="bench") as slack,
    ):
        clock = ManualClock(start)
        slack.workspace.clock = clock
        settings = load_settings(
            env_file=None,
            slack_bot_token=slack.bot_token,
            slack_signing_secret="bench",
            slack_app_token="",
            slack_api_url=slack.api_url,
            database_url=database_url,
            eddy_managers=[],
            eddy_content_dir=ROOT / "content",
        )
        runtimes: list[Runtime] = []
        try:
            for _ in range(args.instances):
                runtimes.append(open_runtime(settings, clock=clock))
                create_app(runtimes[-1])
            started = time.perf_counter()
            people = add_people(
                slack.workspace, args.subscribers, args.mix, runtimes[0].catalogue.paths
            )
            store_people(runtimes[0], people, start)
            setup = time.perf_counter() - started
            slack.rate_limit_every("chat.postMessage", args.every)

            per_instance = [Totals() for _ in runtimes]
            wall = 0.0
            instants = run_instants(settings, args.reminders)
            workers = 2 * len(runtimes)
            process_cpu = time.process_time()
            with (
                ThreadPoolExecutor(workers, thread_name_prefix="bench-jobs") as pool,
                Progress(console=progress_console, transient=True) as progress,
            ):
                task = progress.add_task("delivering and reminding", total=len(instants))
                for instant in instants:
                    now = move_to(clock, instant)
                    began = time.perf_counter()
                    for instance, did in zip(
                        per_instance, run_jobs(pool, runtimes, now, args.reminders), strict=True
                    ):
                        instance.add(did)
                    wall += time.perf_counter() - began
                    progress.advance(task)
                began = time.perf_counter()
                # The same instant again, on every instance: nothing goes twice.
                rerun = Totals()
                for instance, did in zip(
                    per_instance,
                    run_jobs(pool, runtimes, instants[-1], args.reminders),
                    strict=True,
                ):
                    instance.add(did)
                    rerun.add(did)
                wall += time.perf_counter() - began
            process_cpu = time.process_time() - process_cpu
            for runtime in runtimes:
                runtime.work.wait_idle()
            lessons, reminders = received(slack.workspace)
            answered_429 = sum(1 for call in slack.calls("chat.postMessage") if call.status == 429)
        finally:
            for runtime in runtimes:
                runtime.close()

    person_of = {person.user.id: person for person in people}
    window = settings.lesson_window

    def local(person: str, at: datetime) -> datetime:
        return at.astimezone(ZoneInfo(person_of[person].user.tz))

    # Lessons: one per delivery, one per person and local day; Monday's for everyone, at 09:xx.
    per_delivery = Counter(each.delivery_id for each in lessons)
    per_day = Counter((each.person, local(each.person, each.at).date()) for each in lessons)
    lesson_duplicates = max(
        sum(n - 1 for n in per_delivery.values()), sum(n - 1 for n in per_day.values())
    )
    monday = [each for each in lessons if local(each.person, each.at).date() == MONDAY]
    later = len(lessons) - len(monday)
    missed = len(person_of.keys() - {each.person for each in monday})
    off_time = sum(1 for each in monday if local(each.person, each.at).hour != AT.hour)
    wrong = sum(1 for each in monday if person_of[each.person].expected_title not in each.text)
    per_zone = Counter(person_of[each.person].user.tz for each in monday)
    by_cohort = Counter(person_of[each.person].cohort for each in monday)

    # Reminders: one per lesson and step, within the lesson's window on its own day.
    lesson_of = {each.delivery_id: each for each in lessons}
    per_step = Counter((each.delivery_id, each.step) for each in reminders)
    reminder_duplicates = sum(n - 1 for n in per_step.values())
    outside = 0
    for each in reminders:
        lesson = lesson_of.get(each.delivery_id)
        if lesson is None or lesson.person != each.person:
            outside += 1
            continue
        lesson_day = local(lesson.person, lesson.at).date()
        window_end = person_of[each.person].schedule.slot_on(lesson_day) + window
        if not (
            lesson.at < each.at <= window_end and local(each.person, each.at).date() == lesson_day
        ):
            outside += 1
    expected_steps = settings.eddy_lesson_reminders if args.reminders else 0
    reminded_steps = set(per_step)
    reminders_missed = sum(
        1
        for each in monday
        for step in range(1, expected_steps + 1)
        if (each.delivery_id, step) not in reminded_steps
    )
    monday_ids = {each.delivery_id for each in monday}
    of_monday = sum(1 for each in reminders if each.delivery_id in monday_ids)

    sent, nudged = len(lessons), len(reminders)
    messages = sent + nudged
    totals = Totals()
    for instance in per_instance:
        totals.add(instance)
    lesson_cpu = totals.delivery.cpu_seconds
    lesson_ms = lesson_cpu / sent * 1000 if sent else float("nan")
    reminder_ms = totals.reminder_cpu / nudged * 1000 if nudged else float("nan")
    message_ms = (lesson_cpu + totals.reminder_cpu) / messages * 1000 if messages else float("nan")
    process_ms = process_cpu / messages * 1000 if messages else float("nan")
    rerun_sent = rerun.delivery.sent + rerun.delivery.recovered + rerun.reminders.reminded
    ok = (
        lesson_duplicates == 0
        and missed == 0
        and off_time == 0
        and wrong == 0
        and reminder_duplicates == 0
        and reminders_missed == 0
        and outside == 0
        and rerun_sent == 0
    )

    cohorts = Counter(person.cohort for person in people)
    described = {
        SELF: f"{cohorts[SELF]:,} chose {PATH_OF[SELF]}",
        ASSIGNED: f"{cohorts[ASSIGNED]:,} assigned {PATH_OF[ASSIGNED]}",
        JOURNEY: f"{cohorts[JOURNEY]:,} on the {PATH_OF[JOURNEY]} journey (day 4–8)",
    }
    last_run = instants[-1]
    lines = [
        ("learners", f"{len(people):,}: " + ", ".join(described[c] for c in cohorts)),
        (
            "time zones",
            f"{len(ZONES)} (UTC−11 … UTC+12; {min(per_zone.values(), default=0):,}"
            f"–{max(per_zone.values(), default=0):,} Monday lessons per zone)",
        ),
        (
            "database",
            f"{database_name}, {len(runtimes)} instance{'s' if len(runtimes) > 1 else ''} on it",
        ),
        ("setup (storing learners)", f"{setup:.1f} s"),
        (
            "job runs",
            f"{len(instants)} instants to {last_run:%a %H:%M} UTC, each: delivery"
            + (" + reminders" if args.reminders else "")
            + (" on every instance at once" if len(runtimes) > 1 else "")
            + "; + 1 re-run at the last instant",
        ),
        (
            "lesson messages sent",
            f"{sent:,} ({len(monday):,} on people's Monday: "
            + ", ".join(f"{n:,} {cohort}" for cohort, n in by_cohort.items())
            + (f"; {later:,} on Tuesday, not counted below)" if later else ")"),
        ),
        ("  duplicates", f"{lesson_duplicates:,} (must be 0)"),
        ("  missed (Monday)", f"{missed:,} (must be 0)"),
        ("  off-time (not at 09:xx local)", f"{off_time:,} (must be 0)"),
        ("  not the lesson due", f"{wrong:,} (must be 0)"),
    ]
    if args.reminders:
        lines += [
            (
                "reminders sent",
                f"{nudged:,} ({of_monday:,} of Monday lessons; "
                f"{nudged - of_monday:,} of Tuesday's, before the clock stopped)",
            ),
            ("  duplicates", f"{reminder_duplicates:,} (must be 0)"),
            ("  missed (Monday lessons)", f"{reminders_missed:,} (must be 0)"),
            ("  outside the lesson's window", f"{outside:,} (must be 0)"),
        ]
    else:
        lines.append(("reminders sent", f"{nudged:,} (the reminder job is off: --no-reminders)"))
    lines += [
        ("re-run sent", f"{rerun_sent:,} (must be 0)"),
        ("429s answered (and waited out)", f"{answered_429:,} (one post in {args.every})"),
        (
            "Eddy's delivery report",
            f"planned {totals.delivery.planned:,}, sent {totals.delivery.sent:,}, recovered "
            f"{totals.delivery.recovered:,}, failed {totals.delivery.failed:,}, retrying "
            f"{totals.delivery.retrying:,}",
        ),
    ]
    if args.reminders:
        lines.append(
            (
                "Eddy's reminder report",
                f"reminded {totals.reminders.reminded:,}, paused {totals.reminders.paused:,}, "
                f"settled {totals.reminders.settled:,} (the lessons' last checks)",
            )
        )
    lines += [
        (
            "each instance sent",
            " · ".join(
                f"{each.delivery.sent:,} lessons"
                + (f" + {each.reminders.reminded:,} reminders" if args.reminders else "")
                for each in per_instance
            ),
        ),
        ("wall time", f"{wall:.1f} s"),
        ("messages/s", f"{messages / wall:,.0f}" if wall else "—"),
        ("Eddy's own CPU per lesson", f"{lesson_ms:.2f} ms"),
    ]
    if args.reminders:
        lines.append(
            ("Eddy's own CPU per reminder", f"{reminder_ms:.2f} ms (last checks included)")
        )
    lines += [
        ("Eddy's own CPU per message", f"{message_ms:.2f} ms"),
        ("process CPU per message", f"{process_ms:.2f} ms (Eddy + stand-in, all threads)"),
        (f"target ≤ {TARGET_MS:g} ms per message", "met" if message_ms <= TARGET_MS else "NOT met"),
    ]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label:<{width}}  {value}")
    print(
        "note: Eddy's CPU is the CPU time of its own threads (planning, claiming, building\n"
        "messages, the HTTP client, recording; for reminders also the permalink and the last\n"
        "checks); it leaves out the stand-in's server threads and the Retry-After sleeps,\n"
        "which the wall time includes."
    )
    if not ok:
        print(
            "FAILED: every learner must get exactly one Monday lesson, the one due, in their\n"
            "09:00 hour, and each lesson its reminders once, within its window"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
