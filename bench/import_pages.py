"""How fast a docs folder becomes knowledge: `app.py content import FOLDER --publish` on a
generated folder of Markdown pages.

The folder (in a temporary directory, deterministic for a seed) holds `--pages` Markdown files
of an imaginary company's handbook: titles made of an action, a thing and a place ("Request a
parking permit for the Berlin office"), bodies of several paragraphs; some files have front
matter (title, tags, questions, link), some are long with headings (split into a page per
section), lists, a table and links. Measured, side by side:

1. reading: `read_source(folder)`, in this process (pages/s; then again under tracemalloc,
   which slows Python several times, for its peak memory);
2. the first import with `--publish`: the command line in its own process, against a SQLite
   database in the temporary directory whose workspace Eddy met (an Eddy runtime and Bolt app
   started once on the Slack stand-in, as the tests do): pages/s, its peak RSS;
3. the same command again on the unchanged folder;
4. search latency p50/p99 over a few hundred questions on the resulting index
   (`runtime.catalogue.search`, after the refresh a running Eddy does within a minute), in
   several rounds, each with its own p99, in elapsed time and in this thread's CPU time (which
   other work on the machine does not inflate): run it on an otherwise idle machine.

Eddy's clock is pinned (`EDDY_CLOCK`, the tests' instant); the bench times itself with
`time.perf_counter` only.

    uv run python bench/import_pages.py [--pages 5000] [--seed 7] [--queries 400] [--rounds 5]
"""

from __future__ import annotations

import gc
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import ManualClock  # noqa: E402
from bot.importers import read_source  # noqa: E402
from bot.runtime import open_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers import create_app  # noqa: E402
from sandbox import BoltTarget, SlackStandIn  # noqa: E402

APP = ROOT / "app.py"
MANIFEST = ROOT / "manifest.yml"
SIGNING_SECRET = "sandbox-signing-secret-for-bench"
MANAGER = "U0ALEX001"
#: The tests' instant (tests/conftest.py's PINNED): Eddy never reads the wall clock here.
PINNED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
WARM_UP = 20

ACTIONS = [
    ("Request", "request"), ("Renew", "renew"), ("Cancel", "cancel"), ("Book", "book"),
    ("Report a problem with", "report a problem with"), ("Return", "return"),
    ("Pay for", "pay for"), ("Apply for", "apply for"), ("Change", "change"),
    ("Replace", "replace"), ("Get approval for", "get approval for"), ("Set up", "set up"),
    ("Transfer", "transfer"), ("Expense", "expense"), ("Extend", "extend"),
    ("Find out the rules for", "find out the rules for"),
]  # fmt: skip
THINGS = [
    "a parking permit", "a bike locker", "a meeting room", "a standing desk", "a laptop",
    "a second monitor", "a phone contract", "a VPN token", "a building badge",
    "a visitor pass", "a company credit card", "a train pass", "a hotel room",
    "a rental car", "a conference ticket", "a training course", "a language class",
    "a gym membership", "an ergonomic chair", "a headset", "a shared mailbox",
    "a software licence", "a cloud account", "a test device", "a storage locker",
    "a mobile hotspot", "a home office allowance", "a relocation package",
    "a parental leave plan", "a sabbatical", "a volunteering day", "a team offsite",
    "a catering order", "a courier delivery", "a print job", "a shredding bin",
    "a first aid kit", "a fire warden course", "a key card for the lab", "a locker key",
]  # fmt: skip
PLACES = [
    "the Berlin office", "the Lisbon office", "the Austin office", "the Toronto office",
    "the Singapore office", "the Nairobi office", "the Warsaw office", "the Dublin office",
    "the São Paulo office", "the Osaka office", "the Melbourne office", "the Leeds warehouse",
    "the Lyon lab", "remote staff", "contractors", "new starters", "the support team",
    "the sales team", "interns", "managers",
]  # fmt: skip
LINKERS = ["for", "at", "in"]
SYSTEMS = ["Atlas", "Heron", "Fernlink", "Kestrel", "the People portal", "the service desk"]
TEAMS = ["Facilities", "IT", "People", "Finance", "Travel", "Security", "Workplace"]
DAYS = ["two working days", "a week", "48 hours", "the same day", "ten days", "a month"]
TAGS = ["facilities", "it", "travel", "finance", "people", "security", "benefits", "office"]


def title_parts(rng: random.Random, count: int) -> list[tuple[int, int, int]]:
    """`count` distinct (action, thing, place) triples."""
    every = [
        (a, t, p)
        for a in range(len(ACTIONS))
        for t in range(len(THINGS))
        for p in range(len(PLACES))
    ]
    if count > len(every):
        raise typer.BadParameter(f"at most {len(every):,} pages")
    return rng.sample(every, count)


def paragraph(rng: random.Random, verb: str, thing: str, place: str) -> str:
    team, system, days = rng.choice(TEAMS), rng.choice(SYSTEMS), rng.choice(DAYS)
    sentences = [
        f"To {verb} {thing} for {place}, open {system} and choose *{team} requests*.",
        f"The {team} team handles it within {days}; you get an email when it is done.",
        f"If you need it sooner, say why in the request and {team} will call you back.",
        f"Your manager approves anything over {rng.randint(2, 40) * 25} euros first.",
        f"Keep the reference number: {team} asks for it if something goes wrong.",
        f"Most people in {place} use {system} for this; the paper form is no longer accepted.",
        f"Ask in #{team.lower()}-help if {system} shows an error you do not understand.",
        f"Remember that {thing} stays the company's property and goes back when you leave.",
    ]
    return " ".join(rng.sample(sentences, rng.randint(3, 5)))


def page_text(rng: random.Random, n: int, parts: tuple[int, int, int]) -> tuple[str, str]:
    """(file name, Markdown) of one page."""
    (action, verb), thing, place = ACTIONS[parts[0]], THINGS[parts[1]], PLACES[parts[2]]
    title = f"{action} {thing} {rng.choice(LINKERS) if place.startswith('the') else 'for'} {place}"
    name = f"{n:05d}-{'-'.join(title.lower().split()[:6])}.md".replace("é", "e")
    body = [paragraph(rng, verb, thing, place) for _ in range(rng.randint(1, 3))]
    kind = rng.random()
    if kind < 0.3:
        body.append(
            "Steps:\n\n"
            + "\n".join(
                f"{i + 1}. {step}"
                for i, step in enumerate(
                    [
                        f"Open {rng.choice(SYSTEMS)}.",
                        f"Pick *{thing}* from the list.",
                        f"Fill in the form for {place}.",
                        "Submit and wait for the confirmation email.",
                    ]
                )
            )
        )
    if kind > 0.8:
        body.append(
            "| what | who | how long |\n|---|---|---|\n"
            + "\n".join(
                f"| {step} | {rng.choice(TEAMS)} | {rng.choice(DAYS)} |"
                for step in ("request", "approval", "delivery")
            )
        )
    if rng.random() < 0.4:
        body.append(
            f"See also [{rng.choice(TEAMS)} policies](https://handbook.example.com/"
            f"{rng.choice(TAGS)}/{n}) and <https://help.example.com/articles/{n}>."
        )
    text = "\n\n".join(body)
    if rng.random() < 0.15:  # a long page: sections under headings, split on import
        sections = [
            f"## {heading}\n\n{paragraph(rng, verb, thing, place)}\n\n"
            f"{paragraph(rng, verb, thing, place)}\n\n- {rng.choice(TEAMS)} decides\n"
            f"- {rng.choice(SYSTEMS)} records it\n"
            for heading in rng.sample(
                ["Who can ask", "Before you start", "Costs", "Exceptions", "After approval"], 3
            )
        ]
        text = f"{paragraph(rng, verb, thing, place)}\n\n" + "\n".join(sections)
    if rng.random() < 0.35:
        tags = ", ".join(rng.sample(TAGS, 2))
        questions = f"How do I {verb} {thing}?"
        front = (
            f"---\ntitle: {title}\ntags: [{tags}]\nquestions:\n  - {questions}\n"
            f"link: https://handbook.example.com/pages/{n}\n---\n"
        )
        return name, front + text + "\n"
    return name, f"# {title}\n\n{text}\n"


def make_folder(folder: Path, pages: int, seed: int) -> list[str]:
    """Write the docs folder; the titles' (verb, thing, place) phrases for questions."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    asked = []
    for n, parts in enumerate(title_parts(rng, pages)):
        name, text = page_text(rng, n, parts)
        (folder / name).write_text(text, encoding="utf-8")
        asked.append(f"{ACTIONS[parts[0]][1]} {THINGS[parts[1]]} {PLACES[parts[2]]}")
    return asked


def make_questions(rng: random.Random, asked: list[str], count: int) -> list[str]:
    """As people ask: in scope (rephrased, some without the place), and out of scope."""
    questions = []
    for n in range(count):
        if n % 5 == 4:
            questions.append(
                rng.choice(
                    [
                        "what is the wifi password for guests",
                        "who won the football last night",
                        "can I bring my dog to the summer party",
                        "how do I change my pension contributions",
                        "where is the nearest pharmacy",
                    ]
                )
            )
            continue
        phrase = rng.choice(asked)
        if n % 3 == 0:
            phrase = phrase.split(" the ")[0] if " the " in phrase else phrase
        questions.append(rng.choice(["how do I ", "how can I ", "where do I ", ""]) + phrase)
    return questions


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_import(folder: Path, env: dict[str, str]) -> tuple[float, int, str]:
    """`app.py content import FOLDER --publish` in its own process: (seconds, peak RSS in
    bytes, its output)."""
    out = folder.parent / "import.out"
    with out.open("w") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, str(APP), "content", "import", str(folder), "--publish"],
            cwd=folder.parent,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        took = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    text = out.read_text()
    if child.returncode != 0:
        raise SystemExit(f"content import failed ({child.returncode}):\n{text}")
    return took, usage.ru_maxrss * 1024, text


def main(
    pages: int = typer.Option(5000, help="Markdown files in the generated docs folder."),
    seed: int = typer.Option(7, help="The generator's seed."),
    queries: int = typer.Option(400, help="Questions timed on the resulting index."),
    rounds: int = typer.Option(5, help="Rounds of those questions, each with its own p99."),
    read_only: bool = typer.Option(False, "--read-only", help="Measure reading only."),
) -> None:
    console = Console(width=150)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="eddy-import-bench-") as tmp:
        work = Path(tmp)
        folder = work / "handbook"
        asked = make_folder(folder, pages, seed)
        size = sum(path.stat().st_size for path in folder.iterdir())
        console.print(f"Generated {pages:,} Markdown files ({size / 2**20:.1f} MiB) in {folder}")

        gc.collect()
        started = time.perf_counter()
        read = read_source(folder)
        reading = time.perf_counter() - started
        read_pages = len(read.pages)
        del read
        gc.collect()  # again under tracemalloc, which slows Python several times: memory only
        tracemalloc.start()
        read = read_source(folder)
        _, read_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        console.print(f"Read {read_pages:,} pages ({len(read.skipped)} skipped) in {reading:.1f} s")
        del read
        if read_only:
            console.print(
                f"{read_pages / reading:,.0f} pages/s, tracemalloc peak "
                f"{read_peak / 2**20:,.0f} MiB"
            )
            return

        database = f"sqlite:///{work / 'eddy.db'}"
        clock = ManualClock(PINNED)
        with SlackStandIn.from_manifest(
            MANIFEST, signing_secret=SIGNING_SECRET, clock=clock
        ) as slack:
            settings = load_settings(
                env_file=None,
                slack_bot_token=slack.bot_token,
                slack_signing_secret=SIGNING_SECRET,
                slack_app_token="",
                slack_api_url=slack.api_url,
                database_url=database,
                eddy_managers=[MANAGER],
                eddy_content_dir=ROOT / "content",
            )
            runtime = open_runtime(settings, clock=clock)  # Eddy meets its workspace
            try:
                slack.connect(BoltTarget(create_app(runtime), runtime.work))
                shipped = len(runtime.catalogue.index.entries)
                env = {
                    k: v
                    for k, v in os.environ.items()
                    if not k.startswith(("SLACK_", "EDDY_", "DATABASE_URL", "PORT"))
                } | {
                    "EDDY_CLOCK": PINNED.isoformat(),
                    "DATABASE_URL": database,
                    "EDDY_MANAGERS": MANAGER,
                    "EDDY_CONTENT_DIR": str(ROOT / "content"),
                }
                console.print("First import (--publish)…")
                first, first_rss, _ = run_import(folder, env)
                console.print("Second import (unchanged)…")
                second, second_rss, _ = run_import(folder, env)

                runtime.catalogue.refresh(runtime)
                entries = len(runtime.catalogue.index.entries)
                questions = make_questions(random.Random(seed + 1), asked, queries)
                for question in questions[:WARM_UP]:
                    runtime.catalogue.search(question)
                rounds_timed: list[tuple[list[float], list[float]]] = []
                for _ in range(rounds):
                    timings, cpu = [], []
                    for question in questions:
                        started, started_cpu = time.perf_counter(), time.thread_time()
                        runtime.catalogue.search(question)
                        cpu.append(time.thread_time() - started_cpu)
                        timings.append(time.perf_counter() - started)
                    rounds_timed.append((timings, cpu))
            finally:
                runtime.close()

    table = Table(
        title=f"Importing a docs folder of {pages:,} Markdown files (seed {seed}; "
        f"{shipped} shipped entries besides)"
    )
    for column in ("step", "pages", "time", "pages/s", "peak memory", "notes"):
        table.add_column(column, justify="right")
    table.add_row(
        "read_source (in process)",
        f"{read_pages:,}",
        f"{reading:.1f} s",
        f"{read_pages / reading:,.0f}",
        f"{read_peak / 2**20:,.0f} MiB (tracemalloc)",
        f"{size / 2**20:.1f} MiB of Markdown",
    )
    for label, took, rss in (
        ("import --publish, first", first, first_rss),
        ("import --publish, again (unchanged)", second, second_rss),
    ):
        table.add_row(
            label,
            f"{read_pages:,}",
            f"{took:.1f} s",
            f"{read_pages / took:,.1f}",
            f"{rss / 2**20:,.0f} MiB (RSS)",
            "CLI process, SQLite",
        )
    for number, (timings, cpu) in enumerate(rounds_timed, 1):
        p99 = percentile(timings, 0.99) * 1000
        table.add_row(
            f"search after the import, round {number}",
            f"{entries:,} entries",
            f"p50 {statistics.median(timings) * 1000:.2f} ms",
            "",
            "",
            f"p99 {p99:.2f} ms (≤ 5 ms at 10k: {'✓' if p99 <= 5 else '✗'}), "
            f"max {max(timings) * 1000:.2f} ms; CPU p50 {statistics.median(cpu) * 1000:.2f}, "
            f"p99 {percentile(cpu, 0.99) * 1000:.2f} ms; {len(questions)} questions",
        )
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
