"""The benchmark data sets, read the same way by every search benchmark.

CLINC150 and StackFAQ live in `/work/shared/data` (see its README); a user's clone has no such
folder, so `data_dir()` answers None and the scripts explain and exit 0. Besides the readers this
module holds what both benchmarks share: the typo generator (fixed seed, so every run and every
engine sees the same misspellings), ranking metrics and a rank-based AUROC (no scikit-learn).

    clinc = load_clinc150(folder / "clinc150")
    entries = clinc_entries(clinc, questions_per_intent=5)
    typo_queries = [with_typos(text, seed=n) for n, text in enumerate(texts)]
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.content.entries import KnowledgeEntry

#: The shared data sets beside the repository (never copied into it).
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DATA_DIR_VARIABLE = "EDDY_BENCH_DATA"
# About 10 % of words get one typo (README of the data folder): an adjacent swap or a dropped
# letter, half each.
TYPO_RATE = 0.10
TYPO_SEED = 20261122
OUT_OF_SCOPE = "oos"


@dataclass(frozen=True)
class Query:
    """One test question and the slug of the entry that answers it (None: out of scope)."""

    text: str
    slug: str | None


@dataclass(frozen=True)
class Clinc150:
    intents: tuple[str, ...]
    train: dict[str, tuple[str, ...]]  # intent -> its training queries, in file order
    test: tuple[Query, ...]  # in scope and out of scope
    validation: tuple[Query, ...]  # in scope and out of scope: for calibrating, never reported


@dataclass(frozen=True)
class StackFaq:
    entries: tuple[KnowledgeEntry, ...]
    test: tuple[Query, ...]


def load_data_or_exit(console: Any) -> tuple[Clinc150, StackFaq]:
    """Both data sets; without them (a user's clone), say so and exit with status 0."""
    folder = data_dir()
    if folder is None:
        console.print(
            f"No benchmark data here ({DEFAULT_DATA_DIR}, or ${DATA_DIR_VARIABLE} with clinc150/ "
            "and stackfaq/): nothing to measure. See bench/README.md."
        )
        raise SystemExit(0)
    return load_clinc150(folder / "clinc150"), load_stackfaq(folder / "stackfaq")


def data_dir() -> Path | None:
    """The benchmark data folder, or None when this checkout has none (a user's clone)."""
    folder = Path(os.environ.get(DATA_DIR_VARIABLE, DEFAULT_DATA_DIR))
    wanted = [
        folder / "clinc150" / "data_full.json",
        folder / "stackfaq" / "stackExchange-FAQ.json",
    ]
    return folder if all(path.is_file() for path in wanted) else None


def load_clinc150(folder: Path) -> Clinc150:
    raw = json.loads((folder / "data_full.json").read_text(encoding="utf-8"))
    train: dict[str, list[str]] = {}
    for text, intent in raw["train"]:
        train.setdefault(intent, []).append(text)

    def queries(*splits: str) -> tuple[Query, ...]:
        return tuple(
            Query(text, None if intent == OUT_OF_SCOPE else intent)
            for split in splits
            for text, intent in raw[split]
        )

    return Clinc150(
        intents=tuple(sorted(train)),
        train={intent: tuple(texts) for intent, texts in train.items()},
        test=queries("test", "oos_test"),
        validation=queries("val", "oos_val"),
    )


def clinc_entries(clinc: Clinc150, questions_per_intent: int = 0) -> list[KnowledgeEntry]:
    """One entry per intent: the title is the intent name with spaces (`pto_request` → "pto
    request"); no body (CLINC150 has no answer text); optionally the first training queries as
    the entry's `questions`, as a curator would write a few."""
    return [
        KnowledgeEntry(
            slug=intent,
            title=intent.replace("_", " "),
            body="",
            questions=clinc.train[intent][:questions_per_intent],
        )
        for intent in clinc.intents
    ]


def load_stackfaq(folder: Path) -> StackFaq:
    """One entry per thread (title = the question, body = the answers); the test queries are the
    human rephrasings (placeholders "*" and empty ones dropped: 1,249 remain)."""
    raw = json.loads((folder / "stackExchange-FAQ.json").read_text(encoding="utf-8"))
    entries: list[KnowledgeEntry] = []
    tests: list[Query] = []
    for number, pair in enumerate(raw["root"]["qapair"], start=1):
        slug = f"stackfaq-{number:03d}"
        answers = pair["answer"] if isinstance(pair["answer"], list) else [pair["answer"]]
        body = "\n\n".join(answer for answer in answers if answer)
        entries.append(KnowledgeEntry(slug=slug, title=pair["question"].strip(), body=body))
        for text in pair["rephr"]:
            if text and text.strip() and text.strip() != "*":
                tests.append(Query(text.strip(), slug))
    return StackFaq(entries=tuple(entries), test=tuple(tests))


def with_typos(text: str, seed: int, rate: float = TYPO_RATE) -> str:
    """`text` with about `rate` of its words misspelt: two adjacent letters swapped, or one
    letter dropped. Seeded per query, so a query's typos do not depend on which others ran."""
    rng = random.Random(TYPO_SEED * 1_000_003 + seed)
    words = text.split(" ")
    for position, word in enumerate(words):
        if len(word) < 2 or rng.random() >= rate:
            continue
        at = rng.randrange(len(word) - 1)
        if rng.random() < 0.5:
            words[position] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
        else:
            words[position] = word[:at] + word[at + 1 :]
    return " ".join(words)


def typo_variant(queries: Sequence[Query]) -> tuple[Query, ...]:
    return tuple(Query(with_typos(q.text, n), q.slug) for n, q in enumerate(queries))


@dataclass(frozen=True)
class Ranking:
    """Ranking figures over the in-scope queries, plus AUROC when there are out-of-scope ones."""

    top1: float
    recall3: float
    mrr10: float
    auroc: float | None


def ranking_figures(
    ranked: Sequence[Sequence[str]], best_scores: Sequence[float], queries: Sequence[Query]
) -> Ranking:
    """`ranked[i]` is the slugs returned for `queries[i]`, best first (at least ten when there
    are); `best_scores[i]` the best hit's score (0 when there is none)."""
    top1 = recall3 = mrr = 0.0
    in_scope: list[float] = []
    out_of_scope: list[float] = []
    for slugs, score, query in zip(ranked, best_scores, queries, strict=True):
        if query.slug is None:
            out_of_scope.append(score)
            continue
        in_scope.append(score)
        found = list(slugs[:10])
        if query.slug in found:
            rank = found.index(query.slug) + 1
            top1 += rank == 1
            recall3 += rank <= 3
            mrr += 1.0 / rank
    count = max(len(in_scope), 1)
    auroc = auroc_of(in_scope, out_of_scope) if out_of_scope else None
    return Ranking(top1 / count, recall3 / count, mrr / count, auroc)


def auroc_of(positives: Iterable[float], negatives: Iterable[float]) -> float:
    """Area under the ROC curve by the rank-sum (Mann–Whitney U) formula, ties counted half:
    the probability that a random positive scores above a random negative."""
    pos = np.asarray(list(positives), dtype=np.float64)
    neg = np.asarray(list(negatives), dtype=np.float64)
    both = np.concatenate([pos, neg])
    order = both.argsort(kind="mergesort")
    ranks = np.empty(len(both), dtype=np.float64)
    ranks[order] = np.arange(1, len(both) + 1)
    # Average the ranks of tied scores.
    values, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks, minlength=len(values))
    ranks = (sums / counts)[inverse]
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))
