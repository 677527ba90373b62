"""Lesson fan-out: a day of micro-lessons for 10,000 people in 24 time zones (issue 5).

Eddy runs in this process against the local Slack stand-in, which answers every 50th
chat.postMessage with a 429 and Retry-After: 1. Each person subscribes to one path and wants a
lesson at 09:00 every day in their own zone; the zones cover every whole-hour offset from −11 to
+12 on the simulated day, so some 417 lessons fall due at each UTC hour. The clock starts just
before Monday 23 November 2026 00:00 UTC and the delivery job runs once before midnight (nothing
may go early) and then one minute past each hour for 24 hours, as the minutely scheduler would
catch each slot; then it runs again at the last instant, which must send nothing.

The figures come from what the stand-in received, not from Eddy's own report: lesson messages
(bot posts carrying Eddy's `eddy_lesson` metadata) per person give duplicates and missed
people, and each message's timestamp (the shared clock) in the person's zone tells whether it
arrived in their 09:00 hour. Eddy's overhead is the CPU time of its own threads
(`DeliveryReport.cpu_seconds`): planning, claiming, building messages, the HTTP client and
recording; the stand-in's server threads and the Retry-After sleeps are not in it.

    uv run python bench/lesson_fanout.py [--subscribers 10000] [--every 50]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import ManualClock  # noqa: E402
from bot.lessons import EVERY_DAY, DeliveryReport, Schedule, deliver  # noqa: E402
from bot.runtime import Runtime, open_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers import create_app  # noqa: E402
from handlers.lessons import METADATA_TYPE  # noqa: E402
from sandbox import SlackStandIn  # noqa: E402
from sandbox.workspace import User, Workspace  # noqa: E402
from store.lessons import Learner, LessonSubscription  # noqa: E402

#: The simulated day starts at Monday 00:00 UTC, when it is 09:00 in Tokyo.
DAY = datetime(2026, 11, 23, tzinfo=UTC)
#: The clock starts a little before it, so the first slot (Tokyo's) lies ahead.
START = DAY - timedelta(minutes=5)
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
PATH = "working-in-slack"
AT = clock_time(9, 0)
TARGET_MS = 5.0


def check_zones() -> None:
    """Fail loudly if a DST rule change ever makes two zones share an offset on the day: the
    benchmark's point is one slot per UTC hour."""
    offsets = {DAY.astimezone(ZoneInfo(name)).utcoffset() for name in ZONES}
    expected = {timedelta(hours=hours) for hours in range(-11, 13)}
    if offsets != expected:
        raise SystemExit(f"the zones do not give offsets −11…+12 on {DAY.date()}: {offsets}")


def run_instants() -> list[datetime]:
    """Once before the day (nothing is due yet), then one minute past each UTC hour: 25 runs.
    Stopping before the next midnight keeps Tokyo's Tuesday lesson out of the count."""
    return [START + timedelta(minutes=1)] + [
        DAY + timedelta(hours=hour, minutes=1) for hour in range(24)
    ]


def add_people(workspace: Workspace, count: int) -> list[User]:
    """`count` people in the stand-in's workspace, spread evenly over the zones."""
    people = [
        User(
            id=f"U{n:08d}",
            name=f"learner{n}",
            real_name=f"Learner {n}",
            tz=ZONES[n % len(ZONES)],
        )
        for n in range(count)
    ]
    for person in people:
        workspace.add_user(person)
    return people


def subscribe(runtime: Runtime, people: list[User]) -> None:
    """Store the subscribers directly, as an import from another tool would: a learner with a
    09:00 daily schedule and its first slot, and an active subscription to one path."""
    rows: list[Learner | LessonSubscription] = []
    for person in people:
        schedule = Schedule(person.tz, AT, EVERY_DAY)
        rows.append(
            Learner(
                team_id=runtime.team_id,
                user_id=person.id,
                next_due_at=schedule.next_slot(at_or_after=START),
                created_at=START,
                **schedule.stored,
            )
        )
        rows.append(
            LessonSubscription(
                team_id=runtime.team_id,
                user_id=person.id,
                path=PATH,
                started_at=START,
                active=True,
            )
        )
    with runtime.store.session() as session:
        session.add_all(rows)


def move_to(clock: ManualClock, instant: datetime) -> datetime:
    """Move the clock forward to `instant` (never backwards)."""
    clock.advance(max(timedelta(), instant - clock.now()))
    return instant


def lesson_arrivals(workspace: Workspace) -> dict[str, list[datetime]]:
    """Each person's lesson messages as the stand-in holds them: when each arrived (UTC)."""
    arrivals: dict[str, list[datetime]] = {}
    with workspace.lock:
        for message in workspace.messages:
            metadata = message.metadata or {}
            if message.user != workspace.bot.id or metadata.get("event_type") != METADATA_TYPE:
                continue
            person = workspace.channels[message.channel].im_user
            if person is not None:
                sent = datetime.fromtimestamp(float(message.ts), UTC)
                arrivals.setdefault(person, []).append(sent)
    return arrivals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=50, help="a 429 on every Nth post")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    check_zones()
    progress_console = Console(stderr=True)

    with (
        tempfile.TemporaryDirectory() as folder,
        SlackStandIn.from_manifest(ROOT / "manifest.yml", signing_secret="bench") as slack,
    ):
        clock = ManualClock(START)
        slack.workspace.clock = clock
        settings = load_settings(
            env_file=None,
            slack_bot_token=slack.bot_token,
            slack_signing_secret="bench",
            slack_app_token="",
            slack_api_url=slack.api_url,
            database_url=f"sqlite:///{Path(folder) / 'bench.db'}",
            eddy_managers=[],
            eddy_content_dir=ROOT / "content",
        )
        runtime = open_runtime(settings, clock=clock)
        try:
            create_app(runtime)
            started = time.perf_counter()
            people = add_people(slack.workspace, args.subscribers)
            subscribe(runtime, people)
            setup = time.perf_counter() - started
            slack.rate_limit_every("chat.postMessage", args.every)

            total = DeliveryReport()
            wall = 0.0
            process_cpu = time.process_time()
            instants = run_instants()
            with Progress(console=progress_console, transient=True) as progress:
                task = progress.add_task("delivering", total=len(instants))
                for instant in instants:
                    now = move_to(clock, instant)
                    began = time.perf_counter()
                    total += deliver(runtime, now)
                    wall += time.perf_counter() - began
                    progress.advance(task)
            began = time.perf_counter()
            rerun = deliver(runtime, instants[-1])  # the same instant again: nothing goes twice
            wall += time.perf_counter() - began
            process_cpu = time.process_time() - process_cpu
            total += rerun
            runtime.work.wait_idle()
            arrivals = lesson_arrivals(slack.workspace)
            answered_429 = sum(1 for call in slack.calls("chat.postMessage") if call.status == 429)
        finally:
            runtime.close()

    zone_of = {person.id: person.tz for person in people}
    sent = sum(len(times) for times in arrivals.values())
    duplicates = sum(max(0, len(times) - 1) for times in arrivals.values())
    missed = sum(1 for person in people if not arrivals.get(person.id))
    off_time = sum(
        1
        for person, times in arrivals.items()
        for when in times
        if when.astimezone(ZoneInfo(zone_of.get(person, "UTC"))).hour != AT.hour
    )
    per_zone = Counter(zone_of[person] for person in arrivals if person in zone_of)
    cpu_ms = total.cpu_seconds / sent * 1000 if sent else float("nan")
    process_ms = process_cpu / sent * 1000 if sent else float("nan")
    ok = duplicates == 0 and missed == 0 and off_time == 0

    lines = [
        ("subscribers", f"{len(people):,}"),
        (
            "time zones",
            f"{len(ZONES)} (UTC−11 … UTC+12; {min(per_zone.values(), default=0):,}"
            f"–{max(per_zone.values(), default=0):,} people reached per zone)",
        ),
        ("setup (storing subscribers)", f"{setup:.1f} s"),
        ("delivery runs", f"{len(run_instants())} + 1 re-run at the last instant"),
        ("lesson messages sent", f"{sent:,}"),
        ("duplicates", f"{duplicates:,} (must be 0)"),
        ("missed", f"{missed:,} (must be 0)"),
        ("off-time (not at 09:xx local)", f"{off_time:,} (must be 0)"),
        ("re-run sent", f"{rerun.sent + rerun.recovered:,} (must be 0)"),
        ("429s answered (and waited out)", f"{answered_429:,} (one post in {args.every})"),
        (
            "Eddy's report",
            f"planned {total.planned:,}, sent {total.sent:,}, recovered "
            f"{total.recovered:,}, failed {total.failed:,}, retrying {total.retrying:,}",
        ),
        ("wall time for the day", f"{wall:.1f} s"),
        ("deliveries/s", f"{sent / wall:,.0f}" if wall else "—"),
        ("Eddy's own CPU per delivery", f"{cpu_ms:.2f} ms"),
        ("process CPU per delivery", f"{process_ms:.2f} ms (Eddy + stand-in, all threads)"),
        (f"target ≤ {TARGET_MS:g} ms", "met" if cpu_ms <= TARGET_MS else "NOT met"),
    ]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label:<{width}}  {value}")
    print(
        "note: Eddy's CPU is the CPU time of its own threads (planning, claiming, building\n"
        "messages, the HTTP client, recording); it leaves out the stand-in's server threads\n"
        "and the Retry-After sleeps, which the wall time includes."
    )
    if not ok:
        print("FAILED: every subscriber must get exactly one lesson, in their 09:00 hour")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
