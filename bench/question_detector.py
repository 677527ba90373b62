"""How well the help-channel question detector (bot/question_detector.py) tells questions from
everything else people post in a help channel, on the labelled set in
bench/data/help_channel_messages.yml: precision, recall and F1 on the whole set, on the `dev`
split (the entries that guided the rules) and on the `holdout` split (the entries that did not),
the confusion counts per kind of message, and every message it gets wrong with the rule that
decided. The detector is rules only, nothing is learned from the set, so these are not figures
on training data; the holdout split is the honest one.

    uv run python bench/question_detector.py [--data bench/data/help_channel_messages.yml]

Targets: precision >= 0.95 and recall >= 0.80 on the whole set and on the holdout split; the
script exits 1 when one is missed.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.question_detector import Verdict, as_plain, classify  # noqa: E402

DATA = ROOT / "bench" / "data" / "help_channel_messages.yml"
PRECISION_TARGET = 0.95
RECALL_TARGET = 0.80
SPLITS = ("dev", "holdout")


@dataclass(frozen=True)
class Labelled:
    text: str
    question: bool
    kind: str
    split: str


@dataclass(frozen=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


def load(path: Path) -> list[Labelled]:
    return [Labelled(**entry) for entry in yaml.safe_load(path.read_text(encoding="utf-8"))]


def count(pairs: list[tuple[Labelled, Verdict]]) -> Counts:
    tally = Counter((m.question, v.question) for m, v in pairs)
    return Counts(tally[True, True], tally[False, True], tally[True, False], tally[False, False])


def main(
    data: Annotated[Path, typer.Option(help="The labelled set (YAML).")] = DATA,
) -> None:
    console = Console(width=140, emoji=False, highlight=False)
    messages = load(data)
    pairs = [(m, classify(m.text)) for m in messages]

    figures = Table(title=f"Question detector on {data.name}")
    for column in ("set", "messages", "questions", "TP", "FP", "FN", "TN"):
        figures.add_column(column, justify="right" if column != "set" else "left")
    for column in ("precision", "recall", "F1"):
        figures.add_column(column, justify="right")
    groups = {"all": pairs, **{s: [p for p in pairs if p[0].split == s] for s in SPLITS}}
    without_mark = [p for p in pairs if p[0].question and "?" not in as_plain(p[0].text)[0]]
    results = {name: count(group) for name, group in groups.items()}
    for name, c in results.items():
        figures.add_row(
            name,
            str(c.total),
            str(c.tp + c.fn),
            str(c.tp),
            str(c.fp),
            str(c.fn),
            str(c.tn),
            f"{c.precision:.3f}",
            f"{c.recall:.3f}",
            f"{c.f1:.3f}",
        )
    c = count(without_mark)
    figures.add_row(
        "questions without '?'",
        str(c.total),
        str(c.total),
        str(c.tp),
        "",
        str(c.fn),
        "",
        "",
        f"{c.recall:.3f}",
        "",
    )
    console.print(figures)

    kinds = Table(
        title="Per kind, both splits (TP, FN: questions found, missed; "
        "FP, TN: others answered, left)"
    )
    for column in ("kind", "label", "messages", "TP", "FN", "FP", "TN"):
        kinds.add_column(column, justify="left" if column in ("kind", "label") else "right")
    for kind in sorted({m.kind for m in messages}, key=lambda k: (not _label(messages, k), k)):
        c = count([p for p in pairs if p[0].kind == kind])
        kinds.add_row(
            kind, _label(messages, kind), str(c.total), *(str(n) for n in (c.tp, c.fn, c.fp, c.tn))
        )
    console.print(kinds)

    wrong = [(m, v) for m, v in pairs if m.question != v.question]
    console.print(f"\nMisclassified: {len(wrong)} of {len(pairs)}")
    for m, v in wrong:
        what = "missed question" if m.question else "false question"
        console.print(
            f"- [{m.split}] {what} ({m.kind}), score {v.score:.2f}, {v.reason}: {m.text!r}",
            markup=False,
        )

    missed = []
    for name in ("all", "holdout"):
        c = results[name]
        for figure, value, target in (
            ("precision", c.precision, PRECISION_TARGET),
            ("recall", c.recall, RECALL_TARGET),
        ):
            met = value >= target
            console.print(
                f"{name} {figure} {value:.3f} (target >= {target:.2f}) {'✓' if met else '✗'}"
            )
            if not met:
                missed.append(f"{name} {figure}")
    if missed:
        raise typer.Exit(1)


def _label(messages: list[Labelled], kind: str) -> str:
    labels = {m.question for m in messages if m.kind == kind}
    return "mixed" if len(labels) > 1 else ("question" if labels == {True} else "not")


if __name__ == "__main__":
    typer.run(main)
