"""How fast Eddy starts with a large content folder (issue 25, point 2, "Fast start").

Writes `--entries` knowledge entries (10,000 by default) into a temporary content folder beside
a copy of the shipped networks.yml, learning paths, badges.yml and small_talk.yml (the
shipped knowledge entries are left out, so the folder holds exactly that many). With the
benchmark data sets (`../shared/data`, see bench/datasets.py) titles and questions are CLINC150
queries and bodies StackFAQ answers, as in bench/search_latency.py; without them the text is
generated (deterministically, from bench/import_pages.py's phrases). Each entry has a title, 2
or 3 questions, tags, a topic, a review date and a body of a few paragraphs; one of them (the
probe) has a title no other entry shares.

Then `app.py run --mode http` is started in its own process against the local Slack
stand-in, Eddy's clock pinned (EDDY_CLOCK, as tests/deployed.py runs it), and from the moment
the process is spawned (`time.perf_counter`) the bench polls every `--poll` seconds:

- **healthz**: until `GET /healthz` answers 200;
- **/ask answered**: until the person who sent a signed `/ask` with the probe's question sees
  the probe's title: in the ack (Eddy before issue 25), or through the command's response URL
  (since: at once when the index is built, else after an ack saying Eddy is starting up). The
  question is sent again only when Eddy was not listening yet or answered with an error;
  **its request** is how long the request that got the answer took, against Slack's 3 s for
  an ack.

Eddy's CPU time (user and system, all threads, from /proc) at those two moments is printed
too: other work on a shared machine inflates the elapsed times, much less the CPU times. So are,
per run, the /ask requests answered with an error status before the answer (**error acks**:
Bolt answers 404 when no listener acknowledged within Slack's 3 s) and those answered 200
without the answer (**early acks**: Eddy saying it is starting up). `--verbose` lists every
attempt.

Each of `--runs` runs starts Eddy twice on a fresh SQLite file: a **first start** (empty
database: migrations, every entry stored, the index built) and a **restart** on the same
database (the files compared with the stored entries, the index built). Runs are made with
each bytecode setting:

- **none**: `PYTHONDONTWRITEBYTECODE=1` and `PYTHONPYCACHEPREFIX` an empty folder, so
  Python compiles every module it imports at every start (a container whose image has no
  `.pyc` files and may not write them);
- **compiled**: `python -m compileall` first (the project and its virtual environment, into
  its own `PYTHONPYCACHEPREFIX`), as a Dockerfile would at build time.

Last, in this process, the front matter of the same files is parsed three ways, one pass
each: as Eddy did before (`yaml.compose` then `yaml.safe_load`: two pure-Python parses), once
with the pure-Python loader, and once with libyaml's C loader (`bot.content.yaml_text`); and
the whole `load_knowledge` (read, split, parse, validate) is timed.

    uv run python bench/startup.py [--entries 10000] [--runs 3] [--bytecode none,compiled]
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets import data_dir, load_clinc150, load_stackfaq  # noqa: E402
from bench.import_pages import ACTIONS, PLACES, TAGS, THINGS, paragraph  # noqa: E402
from bench.search_latency import make_entries  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.content.entries import KNOWLEDGE_DIR, KnowledgeEntry, load_knowledge  # noqa: E402
from bot.content.networks import load_topics  # noqa: E402
from bot.content.yaml_text import FAST_LOADER, PURE_LOADER, parse_yaml  # noqa: E402
from sandbox import HttpTarget, SlackStandIn  # noqa: E402
from tests.conftest import PINNED  # noqa: E402
from tests.deployed import EddyProcess, free_port  # noqa: E402

SECRET = "bench-startup-signing-secret"
ALEX, GENERAL = "U0ALEX001", "C0GENERAL"
PROBE_TITLE = "Rotate the Kestrel build signing key"
PROBE_QUESTION = "how do I rotate the kestrel signing key?"
#: Where the project's own code lives (compiled with the virtual environment).
PROJECT_CODE = ["app.py", "bot", "handlers", "store", "sandbox"]
#: A start that takes longer than this is reported as failed.
START_LIMIT_SECONDS = 300.0


@dataclass(frozen=True)
class Start:
    """One start of Eddy, in seconds from spawning its process."""

    healthz: float
    answered: float
    #: How long the /ask request that got the first full answer took (Slack allows 3 s).
    first_ack: float
    #: Eddy's CPU time (all its threads) by then: what other work on the machine does not
    #: inflate, as it does the elapsed times.
    healthz_cpu: float
    answered_cpu: float
    #: The /ask attempts: seconds from the spawn each was sent at, seconds it took, outcome.
    attempts: tuple[tuple[float, float, str], ...] = ()

    @property
    def failed_acks(self) -> int:
        """/ask requests Eddy answered with an error status (Slack shows the person an
        error: Bolt answers 404 when no listener acknowledged within 3 s)."""
        return sum(
            1 for *_, outcome in self.attempts if outcome[:1].isdigit() and outcome[:3] != "200"
        )

    @property
    def early_acks(self) -> int:
        """/ask requests whose ack said Eddy is starting up (answered once it is)."""
        return sum(1 for *_, outcome in self.attempts if "starting up" in outcome)


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far, user and system (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def generated_entries(count: int, seed: int) -> list[KnowledgeEntry]:
    """`count` entries from bench/import_pages.py's phrases (no data sets needed)."""
    rng = random.Random(seed)
    every = [(a, t, p) for a in ACTIONS for t in THINGS for p in PLACES]
    if count > len(every):
        raise typer.BadParameter(f"at most {len(every):,} generated entries")
    entries = []
    for n, ((action, verb), thing, place) in enumerate(rng.sample(every, count)):
        entries.append(
            KnowledgeEntry(
                slug=f"entry-{n:06d}",
                title=f"{action} {thing} for {place}",
                body="\n\n".join(paragraph(rng, verb, thing, place) for _ in range(3)),
                questions=(f"how do I {verb} {thing}", f"{verb} {thing} {place}"),
                tags=tuple(rng.sample(TAGS, 2)),
            )
        )
    return entries


def bench_entries(count: int, seed: int) -> tuple[list[KnowledgeEntry], str]:
    """The entries to write, and where their text comes from."""
    folder = data_dir()
    if folder is None:
        return generated_entries(count, seed), "generated text"
    clinc, stack = load_clinc150(folder / "clinc150"), load_stackfaq(folder / "stackfaq")
    return make_entries(count, clinc, stack), "CLINC150 queries, StackFAQ answers"


def write_content(folder: Path, entries: list[KnowledgeEntry], seed: int) -> None:
    """A real content folder: the shipped one's networks, paths, badges and small talk, and
    `entries` (the one in the middle made the probe) as Markdown files with front matter,
    a hundred to a sub-folder."""
    shutil.copytree(ROOT / "content", folder, ignore=shutil.ignore_patterns(KNOWLEDGE_DIR))
    topics = sorted(load_topics(folder)[0] or ())
    rng = random.Random(seed)
    pool = [q for entry in entries for q in entry.questions]
    for n, entry in enumerate(entries):
        questions = list(entry.questions)
        if n % 2:
            questions.append(pool[(n * 7 + 5) % len(pool)])
        title, body = entry.title[:150], entry.body[:2000]
        if n == len(entries) // 2:
            title, questions = PROBE_TITLE, [PROBE_QUESTION, "kestrel signing key expired"]
        front = {
            "title": title,
            "questions": questions,
            "tags": [*entry.tags, rng.choice(TAGS)],
            "topic": rng.choice(topics),
            "reviewed": date(2026, 1, 1) + timedelta(days=n % 300),
        }
        path = folder / KNOWLEDGE_DIR / f"group-{n // 100:03d}" / f"{entry.slug}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        matter = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
        path.write_text(f"---\n{matter}---\n{body.strip() or title}\n", encoding="utf-8")


def compile_bytecode(prefix: Path) -> float:
    """Compile the project and its virtual environment into `prefix`; seconds taken."""
    site = sysconfig.get_paths()["purelib"]
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *PROJECT_CODE, site],
        cwd=ROOT,
        env={"PYTHONPYCACHEPREFIX": str(prefix), "PATH": "/usr/bin:/bin"},
        check=False,  # a package's file that does not compile (a Python 2 example) is no matter
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class AskPoller(threading.Thread):
    """Sends the probe's `/ask` until its ack shows the probe's title, one request at a time:
    a request that waits (for the index, say) is waited for, since its answer is the first
    full one; an answer without the title (Eddy still starting up) or a refused connection
    is asked again `poll` seconds later. Meanwhile the main thread polls /healthz, so a slow
    /ask never delays seeing it healthy."""

    def __init__(self, slack: SlackStandIn, pid: int, started: float, poll: float) -> None:
        super().__init__(name="ask-poller", daemon=True)
        self.slack, self.pid, self.started, self.poll = slack, pid, started, poll
        #: Seconds from the spawn to the full answer, how long that one request took, and
        #: Eddy's CPU seconds by then.
        self.answered: float | None = None
        self.ack_seconds: float | None = None
        self.cpu: float | None = None
        #: Every attempt: seconds from the spawn it was sent at, seconds it took, outcome.
        self.attempts: list[tuple[float, float, str]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        seen = len(self.slack.ephemerals(ALEX))  # the stand-in outlives one start
        while not self.stop.is_set():
            sent = time.perf_counter()
            try:
                delivery = self.slack.command(ALEX, GENERAL, f"/ask {PROBE_QUESTION}")
                outcome = f"{delivery.status}: {delivery.body[:160]}"
            except OSError as error:  # not listening yet
                delivery, outcome = None, type(error).__name__
            now = time.perf_counter()
            self.attempts.append((sent - self.started, now - sent, outcome))
            if delivery is not None and delivery.status == 200:
                # The answer is in the ack (Eddy before issue 25), or follows through the
                # command's response URL: at once, or once the index is built when the ack
                # said Eddy is starting up. One question is enough either way.
                while not self.stop.is_set():
                    if PROBE_TITLE in delivery.body or any(
                        PROBE_TITLE in message.text
                        for message in self.slack.ephemerals(ALEX)[seen:]
                    ):
                        self.answered = time.perf_counter() - self.started
                        self.ack_seconds = now - sent
                        self.cpu = cpu_seconds(self.pid)
                        return
                    time.sleep(self.poll / 4)
            self.stop.wait(self.poll)


def start_once(
    slack: SlackStandIn, database: Path, content: Path, poll: float, **env: str
) -> Start:
    """Start Eddy, time it to healthz and to a full /ask answer, and stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    slack.connect(HttpTarget(url + "/slack/events", timeout=START_LIMIT_SECONDS))
    started = time.perf_counter()
    eddy = EddyProcess(
        slack,
        database,
        "http",
        "--port",
        str(port),
        SLACK_SIGNING_SECRET=SECRET,
        EDDY_CONTENT_DIR=str(content),
        **env,
    )
    asking = AskPoller(slack, eddy.process.pid, started, poll)
    asking.start()
    healthz_at = healthz_cpu = None
    while healthz_at is None or asking.is_alive():
        if eddy.process.poll() is not None or time.perf_counter() - started > START_LIMIT_SECONDS:
            asking.stop.set()
            raise eddy.failed_to_start("did not answer")
        if healthz_at is None and healthy(url):
            healthz_at = time.perf_counter() - started
            healthz_cpu = cpu_seconds(eddy.process.pid)
        time.sleep(poll)
    status, log = eddy.stop()
    if status != -signal.SIGTERM or "Traceback" in log:  # uvicorn re-raises SIGTERM when done
        raise AssertionError(f"Eddy stopped with status {status}: {log}")
    assert asking.answered is not None and asking.ack_seconds is not None
    assert healthz_cpu is not None and asking.cpu is not None
    return Start(
        healthz_at,
        asking.answered,
        asking.ack_seconds,
        healthz_cpu,
        asking.cpu,
        tuple(asking.attempts),
    )


@contextmanager
def bytecode_env(setting: str, folder: Path, console: Console) -> Iterator[dict[str, str]]:
    prefix = folder / f"pycache-{setting}"
    prefix.mkdir()
    if setting == "none":
        yield {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": str(prefix)}
        return
    console.print(f"compileall (project and virtual environment): {compile_bytecode(prefix):.1f} s")
    yield {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(prefix)}


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """Elapsed and CPU seconds `work` took (CPU: this process's, which other work on the
    machine does not inflate)."""
    started, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - started, time.process_time() - cpu


def parse_figures(content: Path) -> list[tuple[str, float, float]]:
    """Elapsed and CPU seconds to parse every knowledge file's front matter, each way, one pass
    each; and `load_knowledge` whole (read, split, parse, validate)."""
    from frontmatter import YAMLHandler

    handler = YAMLHandler()
    paths = sorted((content / KNOWLEDGE_DIR).rglob("*.md"))
    fronts = [handler.split(path.read_text(encoding="utf-8"))[0] for path in paths]

    def before() -> None:
        for front in fronts:
            yaml.compose(front)
            yaml.safe_load(front)

    def parse_all(loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader]) -> None:
        for front in fronts:
            parse_yaml(front, loader)

    figures = [("before: yaml.compose + yaml.safe_load (pure Python, twice)", *timed(before))]
    for name, loader in (("pure Python", PURE_LOADER), ("libyaml", FAST_LOADER)):
        seconds = timed(partial(parse_all, loader))
        figures.append((f"parse_yaml, once, {name} ({loader.__name__})", *seconds))
    entries = len(load_knowledge(content).entries)
    seconds = timed(partial(load_knowledge, content))
    figures.append((f"load_knowledge, whole ({entries:,} entries)", *seconds))
    return figures


def show_attempts(console: Console, start: Start) -> None:
    """Each /ask attempt of a start (refused connections counted, not listed)."""
    refused = sum(1 for *_, outcome in start.attempts if not outcome[:1].isdigit())
    console.print(f"      {refused} attempts refused (not listening yet)", highlight=False)
    for sent, took, outcome in start.attempts:
        if outcome[:1].isdigit():
            console.print(f"      at {sent:5.1f} s, took {took:4.1f} s: {outcome}", markup=False)


def spread(values: list[float]) -> str:
    """Median, and the range when there is more than one run."""
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.1f} s"
    return f"{middle:.1f} s ({min(values):.1f}–{max(values):.1f})"


def main(
    entries: int = typer.Option(10_000, help="Knowledge entries in the content folder."),
    runs: int = typer.Option(3, help="Runs (each a first start and a restart) per setting."),
    bytecode: str = typer.Option("none,compiled", help="Bytecode settings, comma-separated."),
    poll: float = typer.Option(0.1, help="Seconds between polls of /healthz and /ask."),
    seed: int = typer.Option(25, help="The generator's seed."),
    verbose: bool = typer.Option(False, help="List every /ask attempt of each start."),
) -> None:
    console = Console(width=None if sys.stdout.isatty() else 180)
    settings = [setting.strip() for setting in bytecode.split(",") if setting.strip()]
    unknown = set(settings) - {"none", "compiled"}
    if unknown:
        raise typer.BadParameter(f"unknown bytecode setting {', '.join(sorted(unknown))}")
    made, source = bench_entries(entries, seed)
    with (
        tempfile.TemporaryDirectory() as temporary,
        SlackStandIn.from_manifest(
            ROOT / "manifest.yml", signing_secret=SECRET, clock=ManualClock(PINNED)
        ) as slack,
    ):
        folder = Path(temporary)
        content = folder / "content"
        started = time.perf_counter()
        write_content(content, made, seed)
        console.print(
            f"{entries:,} entries ({source}) written in {time.perf_counter() - started:.1f} s; "
            f"libyaml: {yaml.__with_libyaml__}"
        )
        results: dict[tuple[str, str], list[Start]] = {}
        for setting in settings:
            with bytecode_env(setting, folder, console) as env:
                for run in range(runs):
                    database = folder / f"{setting}-{run}" / "eddy.db"
                    database.parent.mkdir()
                    for kind in ("first start", "restart"):
                        start = start_once(slack, database, content, poll, **env)
                        results.setdefault((setting, kind), []).append(start)
                        console.print(
                            f"{setting:>8} run {run + 1} {kind:<11}: healthz "
                            f"{start.healthz:5.1f} s, /ask answered {start.answered:5.1f} s "
                            f"(that request took {start.first_ack:.1f} s); Eddy's CPU "
                            f"{start.healthz_cpu:.1f} s, {start.answered_cpu:.1f} s"
                        )
                        if verbose:
                            show_attempts(console, start)
        figures = parse_figures(content)

    table = Table(
        title=f"Eddy's start with {entries:,} knowledge entries: seconds from spawning "
        f"`app.py run --mode http` (median of {runs}, range)"
    )
    columns = ["bytecode", "database", "GET /healthz 200", "/ask answered", "its request"]
    for column in [*columns, "CPU to healthz", "CPU to answer", "error acks", "early acks"]:
        table.add_column(column, justify="left" if column in ("bytecode", "database") else "right")
    labels = {"none": "none", "compiled": "compileall"}
    for (setting, kind), starts in results.items():
        table.add_row(
            labels[setting],
            "empty (first start)" if kind == "first start" else "same (restart)",
            spread([start.healthz for start in starts]),
            spread([start.answered for start in starts]),
            spread([start.first_ack for start in starts]),
            spread([start.healthz_cpu for start in starts]),
            spread([start.answered_cpu for start in starts]),
            ", ".join(str(start.failed_acks) for start in starts),
            ", ".join(str(start.early_acks) for start in starts),
        )
    console.print(table)
    parsing = Table(title=f"Parsing the front matter of the {entries:,} files, in process")
    parsing.add_column("how")
    parsing.add_column("elapsed", justify="right")
    parsing.add_column("CPU", justify="right")
    for name, elapsed, cpu in figures:
        parsing.add_row(name, f"{elapsed:.2f} s", f"{cpu:.2f} s")
    console.print(parsing)


if __name__ == "__main__":
    typer.run(main)
