"""How well Eddy's knowledge search ranks, knows when it does not know, and learns.

Builds indexes from CLINC150 (one entry per intent, titles only or with 5 curated questions)
and StackFAQ (one entry per thread: title = the question, body = the answers), asks every test
question clean and with typos, and prints, side by side with two baselines computed in the same
run — BM25 alone (bm25s), rapidfuzz token_set_ratio and the sentence embeddings alone
(bot/meaning.py) — top-1, recall@3, MRR@10 and CLINC150's
out-of-scope AUROC (the best hit's score as the "in scope" score). Then the learning curve:
CLINC150 titles only, replaying training questions as Helpful clicks (`index.learn`), test
top-1 after 0, 1, 5, 10 and 20 learned wordings per entry. `--calibrate` derives the
`confident` threshold (bot.knowledge.CONFIDENT_SCORE) from CLINC150's validation split.

    uv run python bench/search_quality.py [--calibrate] [--no-learning-curve]
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
import typer
from rapidfuzz import fuzz, process
from rich.console import Console
from rich.progress import track
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets import (  # noqa: E402
    Clinc150,
    Query,
    Ranking,
    clinc_entries,
    load_data_or_exit,
    ranking_figures,
    typo_variant,
)
from bot import knowledge, meaning  # noqa: E402
from bot.content.entries import KnowledgeEntry  # noqa: E402
from bot.knowledge import KnowledgeIndex  # noqa: E402

LEARNING_STEPS = (0, 1, 5, 10, 20)
STEMMER = Stemmer.Stemmer("english")
# Calibration: the lowest threshold at which at most this share of out-of-scope questions get
# a confident answer (they should go to the experts instead).
OUT_OF_SCOPE_ALLOWED = 0.05
CALIBRATION_SWEEP = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
RESULTS = 10

# One engine answers a batch of questions: the slugs best first, and the best score.
Engine = Callable[[Sequence[str]], tuple[list[list[str]], list[float]]]


def eddy_engine(index: KnowledgeIndex) -> Engine:
    def run(questions: Sequence[str]) -> tuple[list[list[str]], list[float]]:
        ranked: list[list[str]] = []
        best: list[float] = []
        for question in questions:
            hits = index.search(question, limit=RESULTS)
            ranked.append([hit.slug for hit in hits])
            best.append(hits[0].score if hits else 0.0)
        return ranked, best

    return run


def bm25_engine(entries: Sequence[KnowledgeEntry]) -> Engine:
    """bm25s alone, its own tokenizer with English stopwords and Snowball stemming (as in the
    data README's reference figures), over title, questions, tags and body."""
    texts = [" ".join([e.title, *e.questions, *e.tags, e.body]) for e in entries]
    model = bm25s.BM25()
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=STEMMER, show_progress=False)
    model.index(tokens, show_progress=False)
    slugs = [e.slug for e in entries]

    def run(questions: Sequence[str]) -> tuple[list[list[str]], list[float]]:
        tokens = bm25s.tokenize(
            list(questions), stopwords="en", stemmer=STEMMER, show_progress=False
        )
        found, scores = model.retrieve(tokens, k=min(RESULTS, len(slugs)), show_progress=False)
        ranked = [
            [slugs[i] for i, s in zip(row, srow, strict=True) if s > 0]
            for row, srow in zip(found, scores, strict=True)
        ]
        return ranked, [float(row[0]) for row in scores]

    return run


def fuzzy_engine(entries: Sequence[KnowledgeEntry]) -> Engine:
    """rapidfuzz token_set_ratio between the question and each title and question; best per
    entry."""
    wordings = [text for e in entries for text in (e.title, *e.questions)]
    owners = np.array([n for n, e in enumerate(entries) for _ in (e.title, *e.questions)])
    slugs = [e.slug for e in entries]

    def run(questions: Sequence[str]) -> tuple[list[list[str]], list[float]]:
        similarity = process.cdist(
            [q.lower() for q in questions],
            [w.lower() for w in wordings],
            scorer=fuzz.token_set_ratio,
            dtype=np.float32,
            workers=-1,
        )
        per_entry = np.full((len(questions), len(entries)), -1.0, dtype=np.float32)
        for column, owner in enumerate(owners):
            np.maximum(per_entry[:, owner], similarity[:, column], out=per_entry[:, owner])
        order = np.argsort(-per_entry, axis=1, kind="stable")[:, :RESULTS]
        ranked = [[slugs[i] for i in row] for row in order]
        return ranked, [float(per_entry[n, row[0]]) for n, row in enumerate(order)]

    return run


def meaning_engine(entries: Sequence[KnowledgeEntry]) -> Engine:
    """The sentence embeddings alone (bot/meaning.py, WordLlama): cosine similarity of the
    question with each title and question, best per entry; no lexical signal."""
    wordings = [text for e in entries for text in (e.title, *e.questions)]
    owners = np.array([n for n, e in enumerate(entries) for _ in (e.title, *e.questions)])
    vectors = meaning.embed(wordings)
    slugs = [e.slug for e in entries]

    def run(questions: Sequence[str]) -> tuple[list[list[str]], list[float]]:
        similarity = meaning.embed(list(questions)) @ vectors.T
        per_entry = np.full((len(questions), len(entries)), -1.0, dtype=np.float32)
        for column, owner in enumerate(owners):
            np.maximum(per_entry[:, owner], similarity[:, column], out=per_entry[:, owner])
        order = np.argsort(-per_entry, axis=1, kind="stable")[:, :RESULTS]
        ranked = [[slugs[i] for i in row] for row in order]
        return ranked, [float(per_entry[n, row[0]]) for n, row in enumerate(order)]

    return run


@dataclass(frozen=True)
class Case:
    name: str
    entries: list[KnowledgeEntry]
    queries: tuple[Query, ...]


def evaluate(engine: Engine, queries: Sequence[Query]) -> Ranking:
    ranked, best = engine([q.text for q in queries])
    return ranking_figures(ranked, best, queries)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def quality_table(console: Console, cases: Sequence[Case]) -> None:
    table = Table(title="Search quality (top-1, recall@3, MRR@10 over in-scope; OOS AUROC)")
    for column in ("data set", "engine", "top-1", "recall@3", "MRR@10", "OOS AUROC"):
        table.add_column(column, justify="left" if column in ("data set", "engine") else "right")
    for case in track(cases, description="Ranking…", console=console, transient=True):
        engines: dict[str, Engine] = {
            "BM25 (bm25s)": bm25_engine(case.entries),
            "token_set_ratio": fuzzy_engine(case.entries),
            "WordLlama alone": meaning_engine(case.entries),
            "Eddy (hybrid)": eddy_engine(KnowledgeIndex.from_entries(case.entries)),
        }
        for name, engine in engines.items():
            figures = evaluate(engine, case.queries)
            style = "bold" if name.startswith("Eddy") else None
            table.add_row(
                case.name if name.startswith("BM25") else "",
                name,
                percent(figures.top1),
                percent(figures.recall3),
                percent(figures.mrr10),
                percent(figures.auroc),
                style=style,
                end_section=name.startswith("Eddy"),
            )
    console.print(table)


def main(
    calibrate: bool = typer.Option(False, help="Derive the confident threshold and stop."),
    learning: bool = typer.Option(True, "--learning-curve/--no-learning-curve"),
) -> None:
    console = Console()
    clinc, stack = load_data_or_exit(console)
    if calibrate:
        calibrate_threshold(console, clinc)
        return
    titles, five = clinc_entries(clinc), clinc_entries(clinc, questions_per_intent=5)
    stack_entries = list(stack.entries)
    cases = [
        Case("CLINC150 titles", titles, clinc.test),
        Case("CLINC150 titles, typos", titles, typo_variant(clinc.test)),
        Case("CLINC150 +5 questions", five, clinc.test),
        Case("CLINC150 +5 questions, typos", five, typo_variant(clinc.test)),
        Case("StackFAQ", stack_entries, stack.test),
        Case("StackFAQ, typos", stack_entries, typo_variant(stack.test)),
    ]
    quality_table(console, cases)
    confidence_table(console, clinc)
    if learning:
        curve(console, clinc)


def confident_share(index: KnowledgeIndex, queries: Sequence[Query]) -> tuple[float, float, float]:
    """At the shipped threshold: share of in-scope questions answered confidently, share of
    out-of-scope ones (wrongly) answered confidently, and how often a confident answer is right."""
    confident_in = confident_out = right = 0
    for query in queries:
        hits = index.search(query.text, limit=1)
        if not hits or not hits[0].confident:
            continue
        if query.slug is None:
            confident_out += 1
        else:
            confident_in += 1
            right += hits[0].slug == query.slug
    inside = sum(q.slug is not None for q in queries)
    outside = len(queries) - inside
    answered = confident_in + confident_out
    return confident_in / inside, confident_out / outside, right / max(answered, 1)


def confidence_table(console: Console, clinc: Clinc150) -> None:
    table = Table(
        title=f"`confident` at CONFIDENT_SCORE = {knowledge.CONFIDENT_SCORE} (CLINC150 test)"
    )
    for column in ("index", "in-scope confident", "out-of-scope confident", "confident right"):
        table.add_column(column, justify="left" if column == "index" else "right")
    for name, entries in (
        ("titles", clinc_entries(clinc)),
        ("+5 questions", clinc_entries(clinc, questions_per_intent=5)),
    ):
        shares = confident_share(KnowledgeIndex.from_entries(entries), clinc.test)
        table.add_row(name, *(f"{share:.3f}" for share in shares))
    console.print(table)


def calibrate_threshold(console: Console, clinc: Clinc150) -> None:
    """Pool the validation questions of both CLINC150 indexes (titles only, +5 questions); the
    threshold is the lowest (two-decimal) `shared` score of the best hit that at most
    OUT_OF_SCOPE_ALLOWED of the out-of-scope questions reach. A sweep shows what other thresholds
    would trade."""
    scored_raw: list[tuple[float, bool]] = []
    asked: list[str | None] = []
    for entries in (clinc_entries(clinc), clinc_entries(clinc, questions_per_intent=5)):
        index = KnowledgeIndex.from_entries(entries)
        for query in track(
            clinc.validation, description="Scoring validation…", console=console, transient=True
        ):
            hits = index.search(query.text, limit=1)
            score = hits[0].shared if hits else 0.0
            right = bool(hits) and query.slug is not None and hits[0].slug == query.slug
            scored_raw.append((score, right))
            asked.append(query.slug)
    scored = sorted(scored_raw, key=lambda pair: -pair[0])
    out_of_scope = sorted(
        (score for (score, _), slug in zip(scored_raw, asked, strict=True) if slug is None),
        reverse=True,
    )
    allowed = int(OUT_OF_SCOPE_ALLOWED * len(out_of_scope))
    threshold = math.ceil(out_of_scope[allowed] * 100 + 1e-9) / 100
    table = Table(
        title="CONFIDENT_SCORE: calibration on CLINC150 validation (titles and +5 questions pooled)"
    )
    for column in ("threshold", "answered confidently", "of those right", "OOS answered"):
        table.add_column(column, justify="right")
    for candidate in CALIBRATION_SWEEP:
        chosen = [correct for score, correct in scored if score >= candidate]
        wrong_oos = sum(score >= candidate for score in out_of_scope)
        table.add_row(
            f"{candidate:.2f}",
            f"{len(chosen) / len(scored):.3f}",
            f"{sum(chosen) / max(len(chosen), 1):.3f}",
            f"{wrong_oos / max(len(out_of_scope), 1):.3f}",
        )
    console.print(table)
    console.print(
        f"CONFIDENT_SCORE = {threshold:.2f}  (the lowest two-decimal score that at most "
        f"{OUT_OF_SCOPE_ALLOWED:.0%} of the {len(out_of_scope)} out-of-scope validation questions "
        f"reach; shipped: {knowledge.CONFIDENT_SCORE})"
    )


def curve(console: Console, clinc: Clinc150) -> None:
    table = Table(title="Learning curve: CLINC150 titles only + Helpful clicks (test top-1)")
    table.add_column("learned per entry", justify="right")
    table.add_column("top-1", justify="right")
    table.add_column("recall@3", justify="right")
    table.add_column("OOS AUROC", justify="right")
    index = KnowledgeIndex.from_entries(clinc_entries(clinc))
    learned = 0
    for step in track(LEARNING_STEPS, description="Learning…", console=console, transient=True):
        for intent in clinc.intents:
            for wording in clinc.train[intent][learned:step]:
                index.learn(intent, wording)
        index.settle()
        learned = step
        figures = evaluate(eddy_engine(index), clinc.test)
        table.add_row(
            str(step), percent(figures.top1), percent(figures.recall3), percent(figures.auroc)
        )
    console.print(table)


if __name__ == "__main__":
    typer.run(main)
