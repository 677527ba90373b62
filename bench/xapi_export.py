"""The xAPI export over a busy quarter (issues 8 and 18): how fast `app.py export xapi` writes.

Fills a fresh database with 90 days of a 2,000-person workspace: questions (a quarter of
them sent to experts, answered and resolved), lessons by DM with their quiz answers and path
completions, badges, and reactions that give points (some taken back). Then runs the real
command, `uv run app.py export xapi --out FILE`, in its own process, twice, and prints
statements written, wall time, statements/s and the file's size for each run. Since issue 18
the first run also records the quarter in the ledger (what the scheduler does a minute at a
time in a running Eddy); the second reads the ledger only. `--database-url` runs it on
PostgreSQL (a fresh database is made and dropped; give the server's admin URL).

    uv run python bench/xapi_export.py [--questions 100000] [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content.lesson_paths import load_paths, path_spec  # noqa: E402
from store import Store  # noqa: E402
from store.badges import BadgeAward, PointLedger  # noqa: E402
from store.knowledge import QuestionLog  # noqa: E402
from store.lessons import LessonDelivery, LessonPathRow, PathCompletion, QuizAnswer  # noqa: E402
from store.networks import RoutedQuestion  # noqa: E402
from store.xapi import Workspace  # noqa: E402

TEAM = "T0BENCH01"
DAYS = 90
#: The quarter ends here (a pinned instant: the bench never reads the wall clock).
QUARTER_END = datetime(2026, 6, 30, tzinfo=UTC)
BATCH = 5_000


def rows_for(questions: int, people: int, now: datetime) -> dict[type, list[dict]]:
    """A quarter's events, spread evenly over the days, for `people` people."""
    rng = random.Random(8)
    users = [f"U{index:08d}" for index in range(people)]
    paths = {path.id: path for path in load_paths(ROOT / "content").paths}
    start = now - timedelta(days=DAYS)

    def moment() -> datetime:
        return start + timedelta(seconds=rng.uniform(0, DAYS * 86_400))

    made: dict[type, list[dict]] = {table: [] for table in (QuestionLog, RoutedQuestion)}
    made |= {LessonDelivery: [], QuizAnswer: [], PathCompletion: [], BadgeAward: []}
    made[PointLedger] = []
    for number in range(1, questions + 1):
        asked_at, user = moment(), rng.choice(users)
        confident = rng.random() < 0.7
        made[QuestionLog].append(
            {
                "id": number,
                "team_id": TEAM,
                "asked_at": asked_at,
                "user_id": user,
                "surface": "command",
                "question": f"how do I do thing number {number} at work",
                "hits": [{"slug": "reset-vpn-password", "score": 0.9}] if confident else [],
                "confident": confident,
                "answered_slug": "reset-vpn-password" if confident else None,
                "outcome": "answered" if confident else "unsure",
            }
        )
        if not confident and rng.random() < 0.8:
            answered = asked_at + timedelta(hours=rng.uniform(0.2, 8))
            made[RoutedQuestion].append(
                {
                    "team_id": TEAM,
                    "question_id": number,
                    "topic": "it-help",
                    "asker_id": user,
                    "question": f"how do I do thing number {number} at work",
                    "status": "resolved",
                    "routed_at": asked_at,
                    "answered_by": rng.choice(users),
                    "answer": "Like this: open the portal and choose the form.",
                    "answered_at": answered,
                    "resolved_at": answered + timedelta(minutes=30),
                }
            )
    delivery_id = 0
    for user in users:
        for path in rng.sample(list(paths.values()), 2):
            day = moment()
            for lesson in path.lessons:
                delivery_id += 1
                day += timedelta(days=1)
                made[LessonDelivery].append(
                    {
                        "id": delivery_id,
                        "team_id": TEAM,
                        "recipient": user,
                        "kind": "person",
                        "day": day.date(),
                        "reason": "scheduled",
                        "path": path.id,
                        "lesson_id": lesson.id,
                        "reviews": [],
                        "status": "sent",
                        "due_at": day,
                        "attempts": 1,
                        "sent_at": day,
                    }
                )
                if lesson.quiz is not None:
                    made[QuizAnswer].append(
                        {
                            "team_id": TEAM,
                            "user_id": user,
                            "delivery_id": delivery_id,
                            "path": path.id,
                            "lesson_id": lesson.id,
                            "chosen": rng.randrange(len(lesson.quiz.options)),
                            "correct": rng.random() < 0.7,
                            "review": False,
                            "answered_at": day + timedelta(minutes=5),
                        }
                    )
            made[PathCompletion].append(
                {"team_id": TEAM, "user_id": user, "path": path.id, "completed_at": day}
            )
        made[BadgeAward].append(
            {
                "team_id": TEAM,
                "user_id": user,
                "badge": "path-finder",
                "name": "Path finder",
                "emoji": "world_map",
                "reason": "your first completed path",
                "awarded_at": moment(),
            }
        )
    for number in range(questions // 2):
        at, giver, receiver = moment(), rng.choice(users), rng.choice(users)
        reaction = {
            "team_id": TEAM,
            "giver": giver,
            "receiver": receiver,
            "emoji": "white_check_mark",
            "channel": "C0GENERAL",
            "message_ts": f"{1_700_000_000 + number}.000100",
            "at": at,
            "giver_day": at.date(),
            "event_id": f"Ev{number}",
        }
        made[PointLedger].append(reaction | {"points": 3})
        if number % 10 == 0:
            taken = at + timedelta(minutes=2)
            made[PointLedger].append(
                reaction | {"points": -3, "at": taken, "event_id": f"Ex{number}"}
            )
    made[LessonPathRow] = [
        {"team_id": TEAM, "key": key, "spec": path_spec(path), "updated_at": now}
        for key, path in paths.items()
    ]
    made[Workspace] = [{"team_id": TEAM, "url": "https://bench.slack.com/", "seen_at": now}]
    return made


def fill(url: str, questions: int, people: int) -> int:
    """Migrate a fresh database at `url` and write the quarter into it; how many rows."""
    store = Store.connect(url)
    store.upgrade()
    made = rows_for(questions, people, QUARTER_END)
    with store.engine.begin() as connection:
        for table, rows in made.items():
            for first in range(0, len(rows), BATCH):
                connection.execute(insert(table), rows[first : first + BATCH])
    store.close()
    return sum(len(rows) for table, rows in made.items() if table not in (LessonPathRow, Workspace))


def run(
    questions: int = typer.Option(100_000, help="Questions asked in the quarter."),
    people: int = typer.Option(2_000, help="People in the workspace."),
    database_url: str = typer.Option(
        "", help="A PostgreSQL admin URL (a fresh database is made there); default SQLite."
    ),
) -> None:
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        url, drop = f"sqlite:///{folder}/bench.db", None
        if database_url:
            name = f"eddy_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            url = database_url.rsplit("/", 1)[0] + f"/{name}"
            drop = (admin, name)
        try:
            started = time.perf_counter()
            events = fill(url, questions, people)
            console.print(f"Wrote {events:,} rows in {time.perf_counter() - started:.1f} s")
            results = [export(url, Path(folder) / f"run-{run}.jsonl", console) for run in (1, 2)]
        finally:
            if drop is not None:
                admin, name = drop
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        table = Table(
            title=f"export xapi on {url.split(':', 1)[0]}: {DAYS} days, {people:,} people"
        )
        for heading in ("run", "statements", "seconds", "statements/s", "MB"):
            table.add_column(heading, justify="right")
        for run, (written, seconds, size) in enumerate(results, start=1):
            table.add_row(
                "first" if run == 1 else "again",
                f"{written:,}",
                f"{seconds:.1f}",
                f"{written / seconds:,.0f}",
                f"{size / 1e6:.0f}",
            )
        console.print(table)


def export(url: str, out: Path, console: Console) -> tuple[int, float, int]:
    """Run `app.py export xapi` once, with Eddy's clock at the quarter's end; (statements,
    seconds, bytes)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EDDY_")}
    environment |= {"DATABASE_URL": url, "EDDY_CLOCK": QUARTER_END.isoformat()}
    started = time.perf_counter()
    done = subprocess.run(
        [
            *(sys.executable, str(ROOT / "app.py"), "export", "xapi"),
            *("--until", QUARTER_END.isoformat(), "--out", str(out)),
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        console.print(done.stderr)
        raise typer.Exit(1)
    with out.open(encoding="utf-8") as lines:
        written = sum(1 for _ in lines)
    return written, seconds, out.stat().st_size


if __name__ == "__main__":
    typer.run(run)
