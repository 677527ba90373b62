"""How well Eddy's knowledge search ranks, knows when it does not know, and learns.

Builds indexes from CLINC150 (one entry per intent, titles only or with 5 curated questions)
and StackFAQ (one entry per thread: title = the question, body = the answers), asks every test
question clean and with typos, and prints, side by side with two baselines computed in the same
run — BM25 alone (bm25s), rapidfuzz token_set_ratio and the sentence embeddings alone
(bot/meaning.py) — top-1, recall@3, MRR@10 and CLINC150's
out-of-scope AUROC (the best hit's score as the "in scope" score). Then the learning curve:
CLINC150 titles only, replaying training questions as Helpful clicks (`index.learn`), test
top-1 after 0, 1, 5, 10 and 20 learned wordings per entry. `--calibrate` fits the
`confident` decision (bot/knowledge_confidence.json) on CLINC150's validation split.

    uv run python bench/search_quality.py [--calibrate] [--no-learning-curve]
"""

from __future__ import annotations

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
from sklearn.linear_model import LogisticRegression

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
from bot import meaning  # noqa: E402
from bot.content.entries import KnowledgeEntry  # noqa: E402
from bot.knowledge import KnowledgeIndex  # noqa: E402
from bot.knowledge_confidence import (  # noqa: E402
    CALIBRATION_FILE,
    SHARED_FLOOR,
    SIGNALS,
    Calibration,
)

LEARNING_STEPS = (0, 1, 5, 10, 20)
STEMMER = Stemmer.Stemmer("english")
# Calibration: the lowest threshold at which at most this share of out-of-scope questions get
# a confident answer (they should go to the experts instead).
OUT_OF_SCOPE_ALLOWED = 0.05
PRECISION_WANTED = 0.9
CALIBRATION_SWEEP = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
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
        return best_wording_ranking(similarity, owners, slugs)

    return run


def best_wording_ranking(
    similarity: np.ndarray, owners: np.ndarray, slugs: Sequence[str]
) -> tuple[list[list[str]], list[float]]:
    """Questions × wordings similarities → per question the entries ranked by their best
    wording (`owners`: the entry number of each wording column), and the best score."""
    per_entry = np.full((len(similarity), len(slugs)), -1.0, dtype=np.float32)
    for column, owner in enumerate(owners):
        np.maximum(per_entry[:, owner], similarity[:, column], out=per_entry[:, owner])
    order = np.argsort(-per_entry, axis=1, kind="stable")[:, :RESULTS]
    ranked = [[slugs[i] for i in row] for row in order]
    return ranked, [float(per_entry[n, row[0]]) for n, row in enumerate(order)]


def meaning_engine(entries: Sequence[KnowledgeEntry]) -> Engine:
    """The sentence embeddings alone (bot/meaning.py, WordLlama): cosine similarity of the
    question with each title and question, best per entry; no lexical signal."""
    wordings = [text for e in entries for text in (e.title, *e.questions)]
    owners = np.array([n for n, e in enumerate(entries) for _ in (e.title, *e.questions)])
    vectors = meaning.embed(wordings)
    slugs = [e.slug for e in entries]

    def run(questions: Sequence[str]) -> tuple[list[list[str]], list[float]]:
        similarity = meaning.embed(list(questions)) @ vectors.T
        return best_wording_ranking(similarity, owners, slugs)

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
    calibrate: bool = typer.Option(False, help="Fit the confident decision and stop."),
    learning: bool = typer.Option(True, "--learning-curve/--no-learning-curve"),
) -> None:
    console = Console()
    clinc, stack = load_data_or_exit(console)
    if calibrate:
        calibrate_decision(console, clinc)
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
    table = Table(title="`confident` by the calibrated decision (CLINC150 test)")
    for column in ("index", "in-scope confident", "out-of-scope confident", "confident right"):
        table.add_column(column, justify="left" if column == "index" else "right")
    for name, entries in (
        ("titles", clinc_entries(clinc)),
        ("+5 questions", clinc_entries(clinc, questions_per_intent=5)),
    ):
        shares = confident_share(KnowledgeIndex.from_entries(entries), clinc.test)
        table.add_row(name, *(f"{share:.3f}" for share in shares))
    console.print(table)


def top_signals(index: KnowledgeIndex, question: str) -> tuple[tuple[float, ...], str | None]:
    """The best hit's signals for the confidence decision, and its slug (None: no hit)."""
    hits = index.search(question, limit=2)
    if not hits:
        return (0.0, 0.0, 0.5, 0.0), None
    return hits[0].signals(hits[1].score if len(hits) > 1 else 0.0), hits[0].slug


def calibrate_decision(console: Console, clinc: Clinc150) -> None:
    """Fit the confidence decision (bot/knowledge_confidence.py) on CLINC150's validation
    questions asked of both indexes (titles only, +5 questions), pooled: a logistic regression
    of "the best hit is right" on its signals; then, with the lexical guard (SHARED_FLOOR) in
    place, the lowest probability threshold at which at
    most OUT_OF_SCOPE_ALLOWED of the out-of-scope questions pass and at least PRECISION_WANTED
    of the confident answers are right. Writes knowledge_confidence.json; a sweep shows the
    trade-off."""
    rows: list[tuple[float, ...]] = []
    right: list[bool] = []
    outside: list[bool] = []
    for entries in (clinc_entries(clinc), clinc_entries(clinc, questions_per_intent=5)):
        index = KnowledgeIndex.from_entries(entries)
        for query in track(
            clinc.validation, description="Scoring validation…", console=console, transient=True
        ):
            signals, slug = top_signals(index, query.text)
            rows.append(signals)
            right.append(slug is not None and slug == query.slug)
            outside.append(query.slug is None)
    x, y, oos = np.array(rows), np.array(right), np.array(outside)
    model = LogisticRegression(C=10.0, max_iter=1000).fit(x, y)
    probability = model.predict_proba(x)[:, 1]

    guarded = x[:, 0] >= SHARED_FLOOR

    def shares(threshold: float) -> tuple[float, float, float]:
        chosen = (probability >= threshold) & guarded
        return (
            float(chosen[~oos].mean()),
            float(y[chosen].mean()) if chosen.any() else 1.0,
            float(chosen[oos].mean()),
        )

    candidates = np.unique(np.round(probability, 3))
    threshold = next(
        float(t)
        for t in candidates
        if shares(float(t))[2] <= OUT_OF_SCOPE_ALLOWED and shares(float(t))[1] >= PRECISION_WANTED
    )
    table = Table(title="Confidence: calibration on CLINC150 validation (titles, +5 pooled)")
    for column in ("threshold", "in-scope confident", "confident right", "OOS confident"):
        table.add_column(column, justify="right")
    for candidate in sorted({*CALIBRATION_SWEEP, round(threshold, 3)}):
        table.add_row(f"{candidate:.3f}", *(f"{v:.3f}" for v in shares(candidate)))
    console.print(table)
    calibration = Calibration(
        tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), threshold
    )
    CALIBRATION_FILE.write_text(calibration.to_json() + "\n")
    console.print(
        f"Wrote {CALIBRATION_FILE.name}: weights "
        f"{dict(zip(SIGNALS, calibration.weights, strict=True))}, "
        f"intercept {calibration.intercept:.3f}, threshold {threshold:.3f}"
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
