"""When Eddy answers on its own: one calibrated decision over all of a hit's signals.

A single threshold on the lexical score (`shared`) says how much of the question an entry
explains, but not whether the entry *means* the same, whether the classifier singles it out, or
whether a second entry is just as good. A logistic regression over those signals gives the
probability that the best hit is the right answer; a hit is `confident` when that probability
reaches the calibrated threshold.

The signals of a hit (each roughly 0..1): `shared` (lexical coverage), `meaning` (sentence-
embedding similarity), `vote` (the classifier's vote; 0.5 when there is no classifier), and
`gap` (its score minus the best other hit's: positive only for the first hit).

One guard is not fitted: the best hit must also share at least SHARED_FLOOR with the question
lexically — the old single threshold — so the decision only ever takes confidence away from
what that threshold allowed. The gap, the vote and even `shared` (its BM25 part is relative to
the best hit) are inflated in a small index: in the 34 shipped entries "where do I park the
zorblax thing" shares one rare word with "how do I get into the zorblax lab" and stands far
ahead of the next hit, and a guard of 0.5 let it be answered (tests/test_text.py); CLINC150's
150 entries with close neighbours do not show this.

Fitted on CLINC150's validation splits only (titles only and +5 questions per intent, pooled);
the coefficients and the threshold live in knowledge_confidence.json beside this module.
Re-derive them after changing the ranking:
    uv run python bench/search_quality.py --calibrate
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

CALIBRATION_FILE = Path(__file__).with_name("knowledge_confidence.json")
SIGNALS = ("shared", "meaning", "vote", "gap")
#: The lexical guard (see above); `--calibrate` fits the threshold with it in place.
SHARED_FLOOR = 0.62


@dataclass(frozen=True)
class Calibration:
    """A fitted decision: weights per signal (in SIGNALS order), intercept, and the lowest
    probability that counts as confident."""

    weights: tuple[float, ...]
    intercept: float
    threshold: float

    def probability(self, signals: tuple[float, ...]) -> float:
        z = self.intercept + sum(w * x for w, x in zip(self.weights, signals, strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def confident(self, signals: tuple[float, ...]) -> bool:
        return signals[0] >= SHARED_FLOOR and self.probability(signals) >= self.threshold

    def to_json(self) -> str:
        return json.dumps(
            {
                "signals": list(SIGNALS),
                "weights": [round(w, 6) for w in self.weights],
                "intercept": round(self.intercept, 6),
                "threshold": round(self.threshold, 6),
            },
            indent=2,
        )

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        data = json.loads(path.read_text())
        if tuple(data["signals"]) != SIGNALS:
            raise ValueError(f"{path} was fitted on other signals: {data['signals']}")
        return cls(tuple(data["weights"]), float(data["intercept"]), float(data["threshold"]))
