"""How fast Eddy's knowledge search is at 1k, 10k and 100k entries, and what an index costs.

Entries are made from the benchmark data sets (CLINC150 queries as titles and questions,
StackFAQ answers as bodies, recombined so that every entry differs; unique slugs). For each size,
in one process: build time, resident memory the index added, p50/p99/max search time over a few
hundred real questions (in scope, out of scope, and with typos), the cost of a Helpful click
(`learn`), the classifier's (background) training time and search p99 while it trains (the
classifier is off above its 1,000-entry cap), and an upsert followed by the search that rebuilds
BM25.

    uv run python bench/search_latency.py [--sizes 1000,10000,100000] [--queries 400]
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets import (  # noqa: E402
    Clinc150,
    StackFaq,
    load_data_or_exit,
    with_typos,
)
from bot.content.entries import KnowledgeEntry  # noqa: E402
from bot.knowledge import KnowledgeIndex, wordings_of  # noqa: E402
from bot.knowledge_classifier import WordingClassifier  # noqa: E402

BODY_CHARS = 1_200  # a few paragraphs, like a real entry
WARM_UP = 20
LEARNS = 200


def resident_bytes() -> int:
    """This process's resident set size (Linux), 0 where /proc is not there."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def make_entries(size: int, clinc: Clinc150, stack: StackFaq) -> list[KnowledgeEntry]:
    """`size` distinct entries: a title and two questions from CLINC150 queries (after the first
    pass over them, titles splice two queries), a StackFAQ answer as the body, the intent as a
    tag."""
    pool = [(text, intent) for intent in clinc.intents for text in clinc.train[intent]]
    pool += [(q.text, q.slug or "oos") for q in clinc.validation]
    bodies = [entry.body[:BODY_CHARS] for entry in stack.entries]
    entries: list[KnowledgeEntry] = []
    for n in range(size):
        text, intent = pool[n % len(pool)]
        if n >= len(pool):
            other = pool[(n * 7919) % len(pool)][0].split()
            words = text.split()
            text = " ".join(words[: max(1, len(words) // 2)] + other[len(other) // 2 :])
        entries.append(
            KnowledgeEntry(
                slug=f"entry-{n:06d}",
                title=text,
                body=bodies[n % len(bodies)],
                questions=(pool[(n * 31 + 7) % len(pool)][0], pool[(n * 131 + 3) % len(pool)][0]),
                tags=(intent,),
            )
        )
    return entries


def make_questions(count: int, clinc: Clinc150, stack: StackFaq) -> list[str]:
    """Real questions: CLINC150 test (in and out of scope) and StackFAQ rephrasings, a third of
    them with typos."""
    sources = [q.text for q in clinc.test[::7]] + [q.text for q in stack.test[::3]]
    picked = sources[:: max(1, len(sources) // count)][:count]
    return [with_typos(text, n, rate=0.3) if n % 3 == 0 else text for n, text in enumerate(picked)]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(
    sizes: str = typer.Option("1000,10000,100000", help="Comma-separated index sizes."),
    queries: int = typer.Option(400, help="Questions timed per size."),
) -> None:
    console = Console()
    clinc, stack = load_data_or_exit(console)
    questions = make_questions(queries, clinc, stack)
    table = Table(title=f"Knowledge search latency ({len(questions)} questions, one thread)")
    for column in (
        "entries",
        "build",
        "memory (RSS Δ)",
        "search p50",
        "search p99",
        "search max",
        "learn (mean)",
        "classifier training",
        "search p99 while it trains",
        "upsert + next search",
    ):
        table.add_column(column, justify="right")
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Measuring…", total=len(sizes.split(",")))
        for size in (int(s) for s in sizes.split(",")):
            entries = make_entries(size, clinc, stack)
            gc.collect()
            before = resident_bytes()
            started = time.perf_counter()
            index = KnowledgeIndex.from_entries(entries)
            build = time.perf_counter() - started
            gc.collect()
            memory = resident_bytes() - before
            for question in questions[:WARM_UP]:
                index.search(question)
            timings = []
            for question in questions:
                started = time.perf_counter()
                index.search(question)
                timings.append(time.perf_counter() - started)
            started = time.perf_counter()
            for n in range(LEARNS):
                index.learn(entries[(n * 37) % size].slug, f"{questions[n % len(questions)]} {n}")
            learn = (time.perf_counter() - started) / LEARNS
            during = []  # the learns above started a background retraining (below the cap)
            for question in questions:
                started = time.perf_counter()
                index.search(question)
                during.append(time.perf_counter() - started)
            index.settle()
            corpus = {entry.slug: wordings_of(entry) for entry in index.entries}
            started = time.perf_counter()
            trained = WordingClassifier.train(corpus) is not None
            training = time.perf_counter() - started
            started = time.perf_counter()
            index.upsert(entries[0].__class__(**{**entries[0].__dict__, "body": "changed"}))
            index.search(questions[0])
            upsert = time.perf_counter() - started
            table.add_row(
                f"{size:,}",
                f"{build:.1f} s",
                f"{memory / 2**20:,.0f} MiB",
                f"{statistics.median(timings) * 1000:.2f} ms",
                f"{percentile(timings, 0.99) * 1000:.2f} ms",
                f"{max(timings) * 1000:.2f} ms",
                f"{learn * 1e6:.0f} µs",
                f"{training:.1f} s" if trained else "— (over its cap)",
                f"{percentile(during, 0.99) * 1000:.2f} ms",
                f"{upsert:.2f} s",
            )
            del index, entries
            progress.advance(task)
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
