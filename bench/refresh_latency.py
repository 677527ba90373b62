"""Search latency while the minutely content refresh runs, with a large content folder.

Every minute the refresh job (`Catalogue.refresh`) looks for changed content files and reads
every entry and learned wording from the database to pick up what other instances changed:
with 10,000 entries that is most of a second of Python in the job's thread, even when nothing
changed. Searches run meanwhile in the request threads, in the same interpreter.

Writes `--entries` knowledge entries into a temporary content folder (as bench/startup.py does:
CLINC150 queries and StackFAQ answers where the benchmark data sets are, generated text
otherwise), stores them in a fresh SQLite database and builds the index, the clock pinned.
Then, `--runs` times: one refresh alone (its elapsed time), and one refresh in a background
thread while this thread asks questions back to back until it is done (the worst case for
both: searches never stop). Each line prints the refresh's time, how many searches ran, their
p50/p99/max elapsed time and the garbage collector's pauses meanwhile.

    uv run python bench/refresh_latency.py [--entries 10000] [--runs 3]
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search_latency import GcPauses, percentile  # noqa: E402
from bench.startup import bench_entries, write_content  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.content.catalogue import Catalogue  # noqa: E402
from bot.runtime import open_runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from tests.conftest import PINNED  # noqa: E402

QUESTIONS = 400
WARM_UP = 20


def refresh_while_searching(
    catalogue: Catalogue, refresh: threading.Thread, questions: list[str]
) -> tuple[float, list[float], GcPauses]:
    """Start `refresh` and search back to back until it ends: its elapsed seconds, each
    search's, and the collector's pauses meanwhile."""
    pauses = GcPauses()
    elapsed: list[float] = []
    gc.callbacks.append(pauses)
    try:
        started = time.perf_counter()
        refresh.start()
        while refresh.is_alive():
            begun = time.perf_counter()
            catalogue.search(questions[len(elapsed) % len(questions)])
            elapsed.append(time.perf_counter() - begun)
        refresh.join()
        return time.perf_counter() - started, elapsed, pauses
    finally:
        gc.callbacks.remove(pauses)


def main(
    entries: int = typer.Option(10_000, help="Knowledge entries in the content folder."),
    runs: int = typer.Option(3, help="Refreshes timed alone, and as many while searching."),
) -> None:
    console = Console()
    with tempfile.TemporaryDirectory(prefix="eddy-refresh-bench-") as scratch:
        folder = Path(scratch)
        written, source = bench_entries(entries, seed=1)
        write_content(folder / "content", written, seed=1)
        questions = [q for entry in written for q in entry.questions]
        questions = questions[:: max(1, len(questions) // QUESTIONS)][:QUESTIONS]
        del written
        settings = load_settings(
            None,
            database_url=f"sqlite:///{folder / 'eddy.db'}",
            eddy_content_dir=folder / "content",
        )
        runtime = open_runtime(settings, clock=ManualClock(PINNED))
        started = time.perf_counter()
        catalogue = Catalogue.open(runtime)
        console.print(
            f"{entries:,} entries ({source}): stored and indexed in "
            f"{time.perf_counter() - started:.1f} s"
        )
        for question in questions[:WARM_UP]:
            catalogue.search(question)
        table = Table(title=f"The content refresh at {entries:,} entries, nothing changed")
        for column in (
            "run",
            "refresh alone",
            "refresh while searching",
            "searches",
            "p50",
            "p99",
            "max",
            "garbage collector",
        ):
            table.add_column(column, justify="right")
        for run in range(1, runs + 1):
            started = time.perf_counter()
            catalogue.refresh(runtime)
            alone = time.perf_counter() - started
            refresh = threading.Thread(target=catalogue.refresh, args=(runtime,))
            took, elapsed, pauses = refresh_while_searching(catalogue, refresh, questions)
            figures = (
                f"{statistics.median(elapsed) * 1000:.2f} ms",
                f"{percentile(elapsed, 0.99) * 1000:.2f} ms",
                f"{max(elapsed) * 1000:.2f} ms",
            )
            console.print(
                f"  run {run}: refresh alone {alone:.2f} s; while searching {took:.2f} s, "
                f"{len(elapsed)} searches: p50 {figures[0]}, p99 {figures[1]}, "
                f"max {figures[2]}; {pauses.summary()}"
            )
            table.add_row(
                str(run),
                f"{alone:.2f} s",
                f"{took:.2f} s",
                str(len(elapsed)),
                *figures,
                pauses.summary(),
            )
        catalogue.index.close()
        runtime.close()
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
