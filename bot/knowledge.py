"""Eddy's knowledge search: a hybrid of BM25 and fuzzy matching, typo-tolerant, that learns.

    index = KnowledgeIndex.from_dir(Path("content"))   # the folder that holds knowledge/
    for hit in index.search("how do i resset my vpn pasword"):
        print(hit.slug, hit.title, f"{hit.score:.2f}", hit.confident)
    index.learn("vpn-password", "vpn keeps rejecting my login")   # a Helpful click

Why a hybrid. BM25 (bm25s) over an entry's title, questions, tags and body is the best cheap
ranker when the question shares words with the entry, but its raw score is not comparable
between questions, it misses "translation" ~ "translate", and it says nothing about how well
the question is *explained*. People also ask the way someone else once did, so Eddy keeps every
wording it knows for an entry — the title, the curated questions, and the wordings people
marked Helpful ("learned") — and matches the question against each one:

- `words`: IDF-weighted Dice overlap of the question's terms with one wording's terms,
- `chars`: the same over character 3- and 4-grams of the words, which catches morphology and
  typos that survive correction ("resset", "pasword" still share most grams),
- `fuzzy`: rapidfuzz's token_set_ratio with the entry's wordings (the candidates only),
- `bm25`: the entry's BM25 score relative to the question's best (ranking only).

The score is a weighted mean of these four (each in 0..1), so it is in 0..1 and the absolute
parts make it comparable across questions: one calibrated threshold decides `confident`. The
weights were chosen on the benchmark (bench/search_quality.py); the Dice parts carry the most
weight because they also say how much of the question an entry explains, which is what tells
"I don't know" apart (a question about an unknown thing has words and grams no wording has).

Learning what tells entries apart. The measures above judge each entry on its own. A linear
classifier trained on all wordings, their words and their meaning (bot/knowledge_classifier.py),
adds a vote per entry, blended into the score; it is what makes Helpful clicks pay off
(CLINC150 top-1 0.58 with titles only, 0.79 after 10 learned wordings per entry, 0.85 after
20). It reorders; it never makes Eddy confident on its own (see CALIBRATION). Indexes above
its MAX_ENTRIES, and an index before its first training, rank on the lexical score alone.

Meaning. Words in common miss a question put in other words, so every wording also has a
sentence embedding (bot/meaning.py: WordLlama, shipped inside its wheel, no download), computed
when the wording arrives — at build, `upsert` or `learn`, never per question; a rebuild reuses
the ones it has. The question is embedded once per search (about 45 µs); the wordings closest
to it in meaning bring their entries into the candidates (found in two passes, see
FIRST_PASS_DIMENSIONS), and its cosine similarity with the candidates' wordings, aggregated per
entry like the overlaps, is blended into the score last (WEIGHT_MEANING). The classifier
trains on the same vectors, and Knowledge gaps group questions by them (bot/gaps.py).

Confidence. Whether a hit is `confident` is one calibrated decision over its signals (lexical
coverage, meaning, the classifier's vote, the gap to the next hit): bot/knowledge_confidence.py.

Typos. Words of the question that the index has never seen are corrected against the index's
vocabulary with rapidfuzz (optimal-string-alignment distance, so an adjacent swap or a dropped
letter costs one edit; a long shared prefix also counts). The corrected words feed BM25 and
the word overlap; the character grams tolerate what correction missed. A word is compared only
with the known words that can be that close (lengths within the edits allowed, and letters: an
edit changes a word's set of letters by at most two; for a prefix, the same first three
letters), worked out for the whole vocabulary when the index is built.

Updates. A builder thread builds BM25 and the wordings off the request path and swaps each
build in whole; `search()` never builds: it answers from the last complete build and raises
IndexStartingError before the first. BM25 is rebuilt from cached tokens, and only when an
entry's BM25 text (title, questions, tags, body) changed: `upsert`/`remove` mark the index
dirty and the builder rebuilds once for the whole batch (`batch()`). Learned wordings never
touch BM25: they are appended to the wording postings (append-only arrays), so a Helpful click
costs microseconds and the next search sees it; only the small BM25 over learned wordings is
rebuilt. The classifier retrains after any change of wordings (one run per batch) and is
swapped in whole: in a worker process once the corpus has TRAIN_IN_PROCESS_FROM wordings (a
training thread would hold the GIL for seconds, and searches would queue behind it), in a
thread below that; `settle()` waits for builds and trainings, `refresh()` for builds, and
`close()` stops the worker. The builder and the trainer give way to searches in flight
(`_Searches`; the content refresh too, through `giving_way()`): without that, each time a
search let go of the interpreter a background thread kept it for Python's 5 ms switch
interval. Mutations hold an RLock; searches read an immutable BM25 snapshot, the current
classifier and a consistent prefix of the append-only arrays, so many run at once without
locking.

Speed. A search at 10,000 entries (30,000 wordings) costs about 2.3 ms of CPU on this 2-core
machine, p99 3.3–4 ms when the machine is quiet; what grows with the index is the comparison of
the question's vector with every wording's (done in two passes: the leading 64 dimensions of
all, then the whole vector of the closest FIRST_PASS_KEPT), the Dice postings and the
per-entry arrays. Per search nothing loops in Python over more than the question's features
and the candidates (about 60 entries): each build seals the postings into one compressed-row
array (and the builder seals learned wordings in too, once there are enough), candidates are
scored as arrays, typo candidates are narrowed by length and letters in one NumPy comparison,
Hits are made for the best few only. BLAS runs on one thread (see `threadpool_limits` below): a
product split over both cores waits for the other core whenever it is busy.
bench/search_latency.py prints the figures per run.

Memory. An index holds per wording its vector (512 bytes), text twice (as written, and its
meaningful words for rapidfuzz) and about 100 character-gram postings (4 bytes each, twice:
feature → wordings for searches, wording → features to refresh IDF masses); per entry its BM25
postings and cached BM25 tokens (8 bytes a token). Measured: about 5.7 MiB per 1,000 entries
(three wordings each, 1,200-character bodies), 0.83 GiB for the process at 100,000; a rebuild
holds the old build until the new one is swapped in (peak 1.5 GiB at 100,000), and hands what
it freed back to the system (`_return_freed_memory`). bench/README.md has the figures and
what a 100,000-entry deployment needs.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import re
import string
import sys
import threading
import time
import weakref
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, CancelledError, ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import cast

import bm25s
import numpy as np
from bm25s.tokenization import STOPWORDS_EN_PLUS
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Prefix
from threadpoolctl import threadpool_limits

from bot import meaning
from bot.content.entries import KnowledgeEntry, load_knowledge
from bot.knowledge_classifier import (
    MAX_ENTRIES,
    WordingClassifier,
    lower_priority,
    train_in_worker,
)
from bot.knowledge_confidence import Calibration
from bot.stemming import stem

log = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG, so every build (the learned wordings' after each Helpful
# click) would print "Building index from tokens" wherever logging is configured.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# One BLAS thread for the whole process. A search multiplies the question's vector with every
# wording's (30,000 × 128 at 10,000 entries); OpenBLAS splits a product that size over both
# cores, and when the other core is busy (another request, the builder, the machine's other
# work) the call waits for it: 15 ms instead of 0.4 ms, and p99 30–50 ms on this 2-core machine.
# Eddy's parallelism is its requests, each on its own thread, not one product over many cores.
threadpool_limits(1, user_api="blas")

# Whether a hit is `confident`: a logistic regression over its signals (lexical coverage,
# meaning, the classifier's vote, the gap to the next hit), fitted on CLINC150's validation
# splits only (never the test split) so that about one in twenty questions Eddy cannot answer
# still gets a confident answer; bot/knowledge_confidence.py says why, and the shares on the test
# split are printed by bench/search_quality.py. Re-derive after changing the ranking:
#     uv run python bench/search_quality.py --calibrate
CALIBRATION = Calibration.load()

# Weights of the four parts of a score (they sum to 1, so a score is in 0..1); chosen by a grid
# search over CLINC150 (titles, +5 questions) and StackFAQ with bench/search_quality.py.
WEIGHT_BM25 = 0.25
WEIGHT_WORDS = 0.17
WEIGHT_CHARS = 0.42
WEIGHT_FUZZY = 0.16
# Once the classifier (bot/knowledge_classifier.py) is trained, its vote and the lexical score
# above are blended with this weight. An entry known by its title alone gave the classifier one
# example, so its vote counts for less there. Then meaning (bot/meaning.py: the cosine
# similarity of the question's sentence embedding with the entry's wordings', best wording plus
# agreement as for the overlaps) is blended in last, with more weight where the entry has a
# single wording (its title: little for a classifier to go on). Chosen by a grid search on
# CLINC150's validation split (titles only, +5 questions, titles + 10 learned wordings;
# bench/search_quality.py prints the test split): top-1 on validation 0.594, 0.736 and 0.813 at
# these values, against 0.591, 0.725 and 0.794 with one meaning weight of 0.6 and votes at
# 0.6/0.3. A single-wording weight of 0.8 scores 0.3 points higher on CLINC150 titles and 1.7
# lower on StackFAQ, whose entries' bodies give words much to go on.
WEIGHT_CLASSIFIER = 0.9
WEIGHT_CLASSIFIER_ONE_EXAMPLE = 0.6
WEIGHT_MEANING = 0.4
WEIGHT_MEANING_ONE_WORDING = 0.6
# An entry's overlap is mostly its best wording's, partly the mean of its best few wordings that
# share anything with the question: several close wordings agreeing is evidence too (kNN
# voting). Over the best few, not all: an entry with many learned wordings is not diluted by the
# ones about other aspects. An entry with fewer wordings averages over all of them, so titles-only
# and curated-questions scores keep their scale.
AGREEING_WORDINGS = 5
AGREEMENT_SHARE = 0.3
# Learned wordings' BM25 (a small second index over them, one document per entry) is added to
# the entry's BM25 with this weight before the per-question normalisation.
LEARNED_BM25_WEIGHT = 1.0
# Character n-gram sizes (words padded with spaces, so "vpn" gives " vp", "vpn", "pn ", …).
GRAM_SIZES = (3, 4)

# How often the title counts in the BM25 text: titles are the curator's best summary.
TITLE_REPEAT = 2
# Candidates re-scored with rapidfuzz per search: the best by each of BM25, words and chars.
CANDIDATES = 20
# Closeness in meaning is found in two passes: every wording is compared with the question on
# the embeddings' leading dimensions only (WordLlama's vectors are Matryoshka: a prefix is an
# embedding too), and the FIRST_PASS_KEPT closest get their exact similarity. Reading half the
# vectors halves the largest memory read of a search (30,000 × 128 float32 at 10,000 entries:
# 0.5–1.2 ms, memory-bound). The first pass is approximate: at 10,000 entries the hit lists of
# 5 % of the bench's questions changed (1 % of the first hits, none of `confident`), and
# bench/search_quality.py prints the same figures as with one exact pass.
FIRST_PASS_DIMENSIONS = 64
FIRST_PASS_KEPT = 5 * CANDIDATES
# Grams or terms in more than this share of all wordings are too common to be worth their
# postings at search time (their IDF is near the floor); they still count in the question's mass.
MAX_POSTINGS_SHARE = 0.05
MIN_POSTINGS_SKIPPED = 2_000
# Wordings appended since a build (Helpful clicks) are sealed into a second compressed layer of
# postings by the builder once this share of all wordings, and at least this many, are not in
# it: each search gathers the appended ones a Python array per feature (at 10,000 entries 1,000
# learned wordings took p50 from 2.3 to 2.7 ms). The layer sorts only the wordings appended
# since the build; sorting all 30,000 again held the interpreter long enough to delay searches.
RESEAL_AFTER_SHARE = 0.01
RESEAL_AFTER_AT_LEAST = 200
# Typo correction: words this short are never corrected (too many neighbours), words this long
# may be two edits off, and a word expands to at most this many known words.
MIN_CORRECTABLE = 5
TWO_EDITS_FROM = 8
MAX_CORRECTIONS = 3
# A shared prefix this long, covering this share of the longer word, also counts as a
# correction ("translation" ~ "translate", "cancellation" ~ "cancel").
MIN_SHARED_PREFIX = 5
MIN_PREFIX_SHARE = 0.6
# The letters every prefix correction shares with the word: MIN_PREFIX_SHARE of a word of at
# least MIN_SHARED_PREFIX letters (or of a longer known word) is at least this many.
PREFIX_GROUP = 3

# The classifier trains in a worker process once its corpus has this many wordings: fitting it
# in a thread holds the GIL for as long as it runs, and searches queue behind it (p99 34–49 ms
# at 1,000 entries). Below this a training takes a fifth of a second or less (on this 2-core
# machine, loaded: 0.08 s for 150 wordings, 0.19 s for 300, 0.42 s for 500, 1.2 s for 900),
# less than starting the worker (a fresh interpreter importing scikit-learn: seconds), which
# then holds about 130 MiB for as long as the index lives; so small indexes (the shipped
# content's 204 wordings, every test's) train in a thread.
TRAIN_IN_PROCESS_FROM = 300

# While a search runs, a background thread giving way (`_Searches.giving_way`) sleeps this
# long, then runs this long, and so on: the search gets the interpreter back within a run's
# length instead of Python's switch interval (5 ms), and the thread still gets a sixth of it
# under searches that never stop.
GIVE_WAY_SECONDS = 0.001
GIVE_WAY_RUN_SECONDS = 0.0002

# Words that carry the asking, not the topic ("can you tell me…", "i want to…").
EXTRA_STOPWORDS = frozenset(
    {
        "please",
        "would",
        "could",
        "also",
        "im",
        "ive",
        "id",
        "whats",
        "tell",
        "want",
        "need",
        "like",
        "know",
        "let",
        "wondering",
        "wonder",
        "hey",
    }
)
STOPWORDS = frozenset(STOPWORDS_EN_PLUS) | EXTRA_STOPWORDS
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
PUNCTUATION = string.punctuation + "“”‘’¿¡…"


@dataclass(frozen=True)
class Hit:
    """One search result. `score` is in 0..1 (higher is better) and comparable across
    questions; `confident` means good enough to answer without a human; `matched` is the
    wording (title, question or learned wording) that matched best; `shared` is the lexical part
    of the score (0..1), how much the question and the entry have in common whatever the
    classifier thinks: what tells a related entry from an unrelated one."""

    slug: str
    title: str
    score: float
    confident: bool
    matched: str = ""
    shared: float = 0.0
    meaning: float = 0.0  # the sentence-embedding similarity (0..1)
    vote: float = 0.5  # the classifier's vote (0..1); 0.5 without one

    def signals(self, next_score: float) -> tuple[float, ...]:
        """What the confidence decision weighs (bot.knowledge_confidence.SIGNALS), given the
        score of the best other hit (0 when there is none)."""
        return (self.shared, self.meaning, self.vote, self.score - next_score)


def normalise_wording(text: str) -> str:
    """Lowercase, whitespace collapsed, punctuation stripped at the ends: how learned wordings
    are stored and compared ("  VPN keeps failing?! " → "vpn keeps failing")."""
    return " ".join(text.lower().split()).strip(PUNCTUATION + " ")


def words_of(text: str) -> list[str]:
    """The meaningful words of a text, lowercase, without stopwords (surface forms)."""
    return [w for w in WORD.findall(text.lower().replace("’", "'")) if w not in STOPWORDS]


def terms_of(text: str) -> list[str]:
    """The index terms of a text: its meaningful words, stemmed."""
    return [stem(w) for w in words_of(text)]


def grams_of(words: Iterable[str]) -> set[str]:
    """Character n-grams of words padded with a space at each end."""
    grams: set[str] = set()
    for word in words:
        padded = f" {word} "
        for size in GRAM_SIZES:
            grams.update(padded[i : i + size] for i in range(max(1, len(padded) - size + 1)))
    return grams


def bm25_text(entry: KnowledgeEntry) -> tuple[str, ...]:
    """What BM25 indexes of an entry; learned wordings are deliberately not part of it."""
    return (*[entry.title] * TITLE_REPEAT, *entry.questions, *entry.tags, entry.body)


def wordings_of(entry: KnowledgeEntry) -> list[str]:
    """An entry's wordings (title, questions, learned), each once (case and end punctuation
    ignored)."""
    seen: set[str] = set()
    unique: list[str] = []
    for text in (entry.title, *entry.questions, *entry.learned):
        key = normalise_wording(text)
        if key and key not in seen:
            seen.add(key)
            unique.append(text)
    return unique


def _grown(values: np.ndarray, size: int) -> np.ndarray:
    """`values` itself if it has room for `size` items, else a copy twice as large. Never
    resized in place, so a search holding the old array keeps reading valid values."""
    if size <= len(values):
        return values
    bigger = np.zeros(max(size, 2 * len(values), 64), dtype=values.dtype)
    bigger[: len(values)] = values
    return bigger


def letters_of(word: str) -> int:
    """Which letters a word has, as bits (a–z one each; other characters share the top six).
    One edit changes this set by at most two (a substitution: one out, one in), so two words
    whose sets differ in more than twice the edits allowed cannot be that close."""
    bits = 0
    for character in word:
        position = ord(character) - 97
        bits |= 1 << (position if 0 <= position < 26 else 26 + ord(character) % 6)
    return bits


@dataclass(frozen=True)
class _Lexicon:
    """Built with BM25: term → BM25 id, and the surface vocabulary for typo correction.

    A word is corrected against the surfaces that can be close to it, not all of them: those
    whose length is within the edits allowed and whose letters differ from its own by at most
    twice that (`lengths`, `letters`: one comparison for the whole vocabulary at once, in
    NumPy), or, for a shared prefix, those starting with the same three letters (`by_start`:
    a prefix of at least 60 % of a word of five letters or more is at least three letters).
    Both keep the vocabulary's order, so that ties break as they would over all of it."""

    term_ids: dict[str, int]
    surfaces: tuple[str, ...]
    frequency: dict[str, int]  # surface word -> entries using it, to prefer common fixes
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    letters: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))
    by_start: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, term_ids: dict[str, int], frequency: dict[str, int]) -> _Lexicon:
        """The lexicon of a build: `frequency` holds its surface words in first-seen order."""
        surfaces = tuple(frequency)
        starts: dict[str, list[str]] = {}
        for surface in surfaces:
            starts.setdefault(surface[:PREFIX_GROUP], []).append(surface)
        return cls(
            term_ids,
            surfaces,
            frequency,
            np.array([len(surface) for surface in surfaces], dtype=np.int32),
            np.array([letters_of(surface) for surface in surfaces], dtype=np.uint32),
            {start: tuple(words) for start, words in starts.items()},
        )


@dataclass(frozen=True)
class _Snapshot:
    """The BM25 side, immutable once built; replaced whole when entries' text changes. Row n
    of BM25 is entry number n of the wordings built with it."""

    slugs: tuple[str, ...]
    bm25: bm25s.BM25 | None
    lexicon: _Lexicon


@dataclass(frozen=True)
class _LearnedBm25:
    """BM25 over the learned wordings only (one document per entry that has any: its learned
    wordings together), small and rebuilt on the next search after a Helpful click. Row n is
    entry number rows[n] of the wordings it was built with."""

    rows: np.ndarray
    bm25: bm25s.BM25 | None
    term_ids: dict[str, int]


NO_LEARNED = _LearnedBm25(np.zeros(0, dtype=np.int64), None, {})


class _Postings:
    """One kind of wording feature (terms, or character grams): feature → wordings having it,
    document frequencies, and each wording's IDF mass. Append-only; a search reads the first
    `count` wordings, which later appends never change.

    The postings of a build are sealed into one compressed-row array (`seal()`: a feature's
    wordings are a slice of one array), so that a search gathers them with a slice per feature
    instead of copying a Python array each; wordings appended later (learned, or an entry's
    new wordings) go to small per-feature arrays (`appended`) until the builder seals them into
    a second, small compressed-row layer (`sealed_up_to()` off the request path, then
    `reseal()`: only the wordings appended since the build are sorted, so the builder never
    holds the interpreter for long while searches run), or the next build."""

    def __init__(self, *, bulk: bool = False) -> None:
        """`bulk`: a build's postings, sealed before anyone searches them; until then only the
        wording → features side is kept (`seal()` turns it around), not an array per feature."""
        self.bulk = bulk
        self.ids: dict[str, int] = {}
        self.frequency = np.zeros(0, dtype=np.int64)
        self.flat = array("i")  # every wording's feature ids, one after the other
        self.offsets = array("q", [0])  # wording n's ids are flat[offsets[n]:offsets[n + 1]]
        self.mass = np.zeros(0, dtype=np.float64)
        self.mass_fresh_until = 0  # masses use IDFs from when this many wordings existed
        # Feature f's wordings: sealed[starts[f]:starts[f + 1]] of each layer (starts, sealed)
        # whose features f is below, then appended.get(f), as view = (layers, appended):
        # replaced whole, so a search reads one consistent view. The first layer is the
        # build's, the second (if any) the wordings appended since, sealed by the builder.
        self.view: tuple[tuple[tuple[np.ndarray, np.ndarray], ...], dict[int, array[int]]] = (
            (),
            {},
        )
        self.built_count = 0  # the wordings in the build's layer
        self.sealed_count = 0  # the wordings in all layers

    def idf(self, frequency: np.ndarray | int, count: int) -> np.ndarray:
        """Smoothed IDF over wordings; an unseen feature weighs the most."""
        return np.log((count + 1) / (np.asarray(frequency, dtype=np.float64) + 1)) + 1.0

    def add(self, number: int, features: set[str]) -> None:
        ids = array("i")
        for feature in features:
            known = self.ids.get(feature)
            if known is None:
                known = self.ids[feature] = len(self.ids)
            if not self.bulk:
                appended = self.view[1]
                posting = appended.get(known)
                if posting is None:
                    posting = appended[known] = array("i")
                posting.append(number)
            ids.append(known)
        self.frequency = _grown(self.frequency, len(self.ids))
        self.frequency[ids] += 1
        self.flat.extend(ids)
        self.offsets.append(len(self.flat))
        count = number + 1
        self.mass = _grown(self.mass, count)
        if count > 1.1 * self.mass_fresh_until + 32:
            self.refresh_mass(count)
        else:
            self.mass[number] = self.idf(self.frequency[ids], count).sum()

    def seal(self, count: int) -> None:
        """Turn the postings of the first `count` wordings (all there are: the builder calls
        this before anyone else sees the postings) into one compressed-row array."""
        self.view = ((self._layer(0, count),), {})
        self.built_count = self.sealed_count = count
        self.bulk = False

    def sealed_up_to(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The second layer: the postings of the wordings appended since the build, up to
        `count`. Reads only what appends never change, so the builder runs it unlocked while
        Helpful clicks append."""
        return self._layer(self.built_count, count)

    def _layer(self, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """The compressed-row postings (starts, wordings) of wordings first..last-1. The order
        of each feature's wordings is kept (ascending), so searches add the same numbers in the
        same order as from the appended arrays."""
        features = len(self.ids)
        offsets = np.array(self.offsets[first : last + 1], dtype=np.int64)
        flat = np.array(self.flat[offsets[0] : offsets[-1]], dtype=np.int32)
        wording = np.repeat(np.arange(first, last, dtype=np.int32), np.diff(offsets))
        starts = np.zeros(features + 1, dtype=np.int64)
        np.cumsum(np.bincount(flat, minlength=features), out=starts[1:])
        return starts, wording[np.argsort(flat, kind="stable")]

    def reseal(self, layer: tuple[np.ndarray, np.ndarray], count: int) -> None:
        """Swap in the second layer, sealed up to `count` wordings (lock held): the wordings
        appended since stay in appended arrays, rebuilt from their features (a few, learned
        meanwhile)."""
        later: dict[int, array[int]] = {}
        flat, offsets = self.flat, self.offsets
        for number in range(count, len(offsets) - 1):
            for feature in flat[offsets[number] : offsets[number + 1]]:
                later.setdefault(feature, array("i")).append(number)
        self.view = ((*self.view[0][:1], layer), later)
        self.sealed_count = count

    def refresh_mass(self, count: int) -> None:
        """Recompute every wording's mass with today's IDFs (amortised: after 10 % growth)."""
        idf = self.idf(self.frequency, count)
        offsets = np.frombuffer(self.offsets, dtype=np.int64)[: count + 1]
        flat = np.frombuffer(self.flat, dtype=np.int32)[: offsets[-1]]
        running = np.concatenate([[0.0], np.cumsum(idf[flat])])
        mass = np.zeros(len(self.mass), dtype=np.float64)
        mass[:count] = running[offsets[1:]] - running[offsets[:-1]]
        self.mass = mass
        self.mass_fresh_until = count

    def dice(self, features: set[str], count: int) -> tuple[np.ndarray, np.ndarray]:
        """IDF-weighted Dice overlap of a question's features with every wording sharing one:
        (wording numbers, overlaps). Cost grows with the postings touched, not the index."""
        seen = self.frequency  # appends may replace it: read it once
        known = [n for f in features if (n := self.ids.get(f)) is not None and n < len(seen)]
        frequency = seen[known]
        weights = self.idf(frequency, count)
        question_mass = float(weights.sum()) + (len(features) - len(known)) * float(
            self.idf(0, count)
        )
        too_common = max(MIN_POSTINGS_SKIPPED, MAX_POSTINGS_SHARE * count)
        layers, appended = self.view
        useful = frequency <= too_common
        ids, weights = np.asarray(known, dtype=np.int64)[useful], weights[useful]
        # A wording is in one layer or in the appended arrays, and gets its features' weights
        # added in the question's feature order wherever it is: the same sums as feature by
        # feature.
        parts: list[np.ndarray] = []
        spread: list[np.ndarray] = []
        for starts, sealed in layers:
            inside = ids < len(starts) - 1
            firsts, lasts = starts[ids[inside]], starts[ids[inside] + 1]
            parts.append(sealed[_spans(firsts, lasts)])
            spread.append(np.repeat(weights[inside], lasts - firsts))
        if appended:
            extra_weights: list[float] = []
            extra_lengths: list[int] = []
            for feature_id, weight in zip(ids.tolist(), weights.tolist(), strict=True):
                if more := appended.get(feature_id):
                    # A copy (not frombuffer): an exported buffer would block `learn` from
                    # appending.
                    parts.append(np.array(more, dtype=np.int32))
                    extra_weights.append(weight)
                    extra_lengths.append(len(more))
            spread.append(np.repeat(extra_weights, extra_lengths))
        numbers = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        if len(numbers) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        keep = numbers < count
        shared = np.bincount(numbers[keep], weights=np.concatenate(spread)[keep], minlength=count)
        touched = np.flatnonzero(shared > 0)  # every weight is positive; a mask is faster
        overlap = 2 * shared[touched] / (question_mass + self.mass[touched])
        return touched, np.minimum(overlap, 1.0)


def _spans(firsts: np.ndarray, lasts: np.ndarray) -> np.ndarray:
    """The positions firsts[0]..lasts[0]-1, then firsts[1]..lasts[1]-1, … as one array: the
    slices of several ranges of an array, gathered at once."""
    lengths = lasts - firsts
    ends = np.cumsum(lengths)
    return np.arange(int(ends[-1]) if len(ends) else 0) + np.repeat(
        firsts - ends + lengths, lengths
    )


@dataclass
class _Wordings:
    """Every wording of every entry, append-only between rebuilds, so that `learn` is cheap and
    a search reads a consistent prefix of length `count` without a lock. A replaced entry's
    wordings are marked dead and dropped at the next rebuild."""

    slugs: tuple[str, ...]  # entry number -> slug (same numbering as the BM25 snapshot's rows)
    numbers: dict[str, int]  # slug -> entry number
    texts: list[str] = field(default_factory=list)  # for rapidfuzz: meaningful words, lowercase
    originals: list[str] = field(default_factory=list)
    owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))
    of_entry: dict[int, list[int]] = field(default_factory=dict)
    sizes: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64)
    )  # live, per entry
    terms: _Postings = field(default_factory=_Postings)
    grams: _Postings = field(default_factory=_Postings)
    # Wording n's sentence embedding (unit vector) is row n of `head` (its leading
    # FIRST_PASS_DIMENSIONS) beside row n of `tail` (the rest): computed when the wording
    # arrives, never per question. Two arrays so that a search's first pass reads only the
    # leading dimensions, contiguous. Grown by copying, like the other arrays.
    head: np.ndarray = field(
        default_factory=lambda: np.zeros((0, FIRST_PASS_DIMENSIONS), dtype=np.float32)
    )
    tail: np.ndarray = field(
        default_factory=lambda: np.zeros(
            (0, meaning.DIMENSIONS - FIRST_PASS_DIMENSIONS), dtype=np.float32
        )
    )
    count: int = 0

    def append(
        self,
        slug: str,
        original: str,
        vector: np.ndarray | None = None,
        *,
        copied_from: tuple[_Wordings, int] | None = None,
    ) -> None:
        """Add a wording of an entry; its embedding is `vector`, or wording n of other
        wordings' (`copied_from`: a rebuild reuses the previous build's), else embedded now."""
        entry = self.numbers[slug]
        number = self.count
        if number >= len(self.head):
            self._make_room(max(2 * len(self.head), 64))
        if copied_from is not None:
            other, row = copied_from
            self.head[number] = other.head[row]
            self.tail[number] = other.tail[row]
        else:
            if vector is None:
                vector = meaning.embed([original])[0]
            self.head[number] = vector[:FIRST_PASS_DIMENSIONS]
            self.tail[number] = vector[FIRST_PASS_DIMENSIONS:]
        words = words_of(original)
        self.texts.append(" ".join(words))
        self.originals.append(original)
        self.owner = _grown(self.owner, number + 1)
        self.owner[number] = entry
        self.alive = _grown(self.alive, number + 1)
        self.alive[number] = True
        self.terms.add(number, {stem(word) for word in words})
        self.grams.add(number, grams_of(words))
        self.of_entry.setdefault(entry, []).append(number)
        self.sizes = _grown(self.sizes, len(self.slugs))
        self.sizes[entry] += 1
        self.count = number + 1  # last: readers never see a half-appended wording

    def owes_sealing(self) -> bool:
        """Whether enough wordings were appended since the postings were sealed that sealing
        them in pays (searches gather appended postings one Python array per feature)."""
        unsealed = self.count - self.terms.sealed_count
        return unsealed >= max(RESEAL_AFTER_AT_LEAST, RESEAL_AFTER_SHARE * self.count)

    def reserve(self, count: int) -> None:
        """Room for `count` wordings' vectors and a quarter more (the wordings learned until the
        next build), allocated once: growing by doubling, a build would copy them a dozen times
        and for a moment hold them twice. np.zeros maps its pages lazily: room not written to
        yet takes no memory."""
        if count > len(self.head):
            self._make_room(count + count // 4 + 64)

    def _make_room(self, rows: int) -> None:
        """Copies of the vectors with room for `rows` wordings; the old arrays stay valid for
        searches still reading them."""
        for name in ("head", "tail"):
            old = getattr(self, name)
            room = np.zeros((rows, old.shape[1]), dtype=np.float32)
            room[: len(old)] = old
            setattr(self, name, room)

    def vectors(self, numbers: np.ndarray | list[int]) -> np.ndarray:
        """The whole embeddings of wordings `numbers`, one row each."""
        return np.concatenate((self.head[numbers], self.tail[numbers]), axis=1)

    def similarity(self, numbers: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """Cosine similarity (float32) of a unit vector with wordings `numbers`."""
        head = self.head[numbers] @ vector[:FIRST_PASS_DIMENSIONS]
        return head + self.tail[numbers] @ vector[FIRST_PASS_DIMENSIONS:]

    def embedded(self, count: int) -> dict[str, np.ndarray]:
        """The embeddings of the first `count` wordings that are live, by text (what the
        classifier trains on)."""
        numbers = np.flatnonzero(self.alive[:count])
        texts = [self.originals[n] for n in numbers.tolist()]
        return dict(zip(texts, self.vectors(numbers), strict=True))

    def kill(self, slug: str) -> None:
        for number in self.of_entry.pop(self.numbers[slug], []):
            self.alive[number] = False
        self.sizes[self.numbers[slug]] = 0

    def per_entry(self, touched: np.ndarray, overlap: np.ndarray) -> np.ndarray:
        """Overlaps of wordings → per entry: the best wording's, plus a share of the mean of the
        entry's best few (several close wordings agreeing is evidence too: kNN voting); an entry
        with fewer wordings than that averages over all of them."""
        entries = len(self.slugs)
        best = np.zeros(entries)
        live = self.alive[touched]
        owners = self.owner[touched][live]
        values = overlap[live]
        np.maximum.at(best, owners, values)
        if AGREEING_WORDINGS <= 1 or len(values) == 0:
            return best
        sizes = self.sizes[:entries]
        # Entries with at most AGREEING_WORDINGS wordings sum them all; only the others' wordings
        # (learned-heavy entries, few) are sorted to pick their best few.
        crowded = sizes[owners] > AGREEING_WORDINGS
        top = np.bincount(owners[~crowded], weights=values[~crowded], minlength=entries)
        if crowded.any():
            owners, values = owners[crowded], values[crowded]
            order = np.lexsort((-values, owners))
            owners, values = owners[order], values[order]
            starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
            rank = np.arange(len(owners)) - np.repeat(starts, np.diff(np.r_[starts, len(owners)]))
            keep = rank < AGREEING_WORDINGS
            top = top + np.bincount(owners[keep], weights=values[keep], minlength=entries)
        # Only where an entry has a value (best is 0 where top is): a few entries, not all.
        scored = np.flatnonzero(best > 0)
        many = np.maximum(np.minimum(sizes[scored], AGREEING_WORDINGS), 1)
        result = np.zeros(entries)
        result[scored] = (1 - AGREEMENT_SHARE) * best[scored] + AGREEMENT_SHARE * top[scored] / many
        return result


@dataclass(frozen=True)
class _Question:
    """A question made ready for matching: per word, the BM25 terms it stands for (itself or
    its typo corrections); the words after correction (terms, rapidfuzz); the words as typed
    (character grams: they tolerate typos themselves, and a wrong correction would mislead
    them)."""

    groups: tuple[tuple[str, ...], ...]
    words: tuple[str, ...]
    text: str
    typed: tuple[str, ...]  # the words as typed


def _build(
    entries: dict[str, KnowledgeEntry], terms: dict[str, list[str]], previous: _Wordings
) -> tuple[_Snapshot, _Wordings]:
    """BM25 and the wordings of `entries` (`terms`: each one's BM25 terms), numbered alike;
    the embeddings `previous` has are reused, so a rebuild after one entry changed embeds only
    that entry's new wordings. Runs unlocked in the builder thread: it only reads `previous`,
    whose arrays are append-only."""
    slugs = tuple(entries)
    frequency: Counter[str] = Counter()
    for entry in entries.values():
        frequency.update(
            {w for text in (*bm25_text(entry), *entry.learned) for w in words_of(text)}
        )
    model: bm25s.BM25 | None = None
    term_ids: dict[str, int] = {}
    if slugs:
        model = bm25s.BM25()
        model.index([terms[slug] for slug in slugs], show_progress=False)
        term_ids = dict(model.vocab_dict)
    wordings = _Wordings(
        slugs,
        {slug: number for number, slug in enumerate(slugs)},
        terms=_Postings(bulk=True),
        grams=_Postings(bulk=True),
    )
    texts = [text for e in entries.values() for text in wordings_of(e)]
    known, vectors = _vectors_of(previous, texts)
    wordings.reserve(len(texts))
    for slug, entry in entries.items():
        for text in wordings_of(entry):
            if text in known:  # its embedding, copied row for row
                wordings.append(slug, text, copied_from=(previous, known[text]))
            else:
                wordings.append(slug, text, vectors[text])
    for postings in (wordings.terms, wordings.grams):
        postings.refresh_mass(wordings.count)
        postings.seal(wordings.count)
    lexicon = _Lexicon.of(term_ids, dict(frequency))
    return _Snapshot(slugs, model, lexicon), wordings


def _return_freed_memory() -> None:
    """Hand the memory a build freed back to the system (glibc's malloc_trim; elsewhere
    nothing). A build allocates and frees a lot from its own thread's malloc arena, and glibc
    keeps what was freed there: without this the process holds on to about 45 MiB more after a
    build at 10,000 entries and 100 MiB more at 100,000. ctypes releases the GIL for the call."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def _libc_malloc_trim() -> Callable[[int], int] | None:
    try:
        return cast(Callable[[int], int], ctypes.CDLL(None).malloc_trim)
    except (AttributeError, OSError):  # not glibc (musl, macOS, Windows)
        return None


_malloc_trim = _libc_malloc_trim()


def _vectors_of(
    previous: _Wordings, texts: list[str]
) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Where the embeddings of wordings are: the number of the wording in `previous` that has
    it, by text; the rest embedded now, in one batch."""
    count = previous.count  # a consistent prefix
    numbers = {previous.originals[n]: n for n in range(count)}
    known = {text: numbers[text] for text in texts if text in numbers}
    missing = list(dict.fromkeys(text for text in texts if text not in known))
    return known, dict(zip(missing, meaning.embed(missing), strict=True)) if missing else {}


def _learned_bm25(entries: dict[str, KnowledgeEntry], numbers: dict[str, int]) -> _LearnedBm25:
    """The learned wordings' BM25, rows numbered as the wordings they go with."""
    rows: list[int] = []
    documents: list[list[str]] = []
    for slug, entry in entries.items():
        if entry.learned and slug in numbers:
            rows.append(numbers[slug])
            documents.append([t for text in entry.learned for t in terms_of(text)])
    if not rows:
        return NO_LEARNED
    model = bm25s.BM25()
    model.index(documents, show_progress=False)
    return _LearnedBm25(np.array(rows, dtype=np.int64), model, dict(model.vocab_dict))


class _Searches:
    """The searches in flight, which the index's background threads give way to.

    A thread running Python holds the interpreter lock; a thread that wants it back waits for
    Python's switch interval, 5 ms. A search lets go of it many times (NumPy, rapidfuzz and
    BLAS calls), and each time a busy background thread took it, the search waited up to 5 ms:
    rebuilding the learned wordings' BM25 after 200 Helpful clicks (10-25 ms of bm25s in
    Python) took search p99 from 2 to 9-15 ms at 1,000 entries, and a full rebuild at 10,000
    entries to 40-190 ms. Python threads have no priorities, so a background thread runs its
    work `giving_way()`: at each function call it makes it checks whether a search is in
    flight and, if so, sleeps GIVE_WAY_SECONDS (handing the lock straight back), then runs for
    GIVE_WAY_RUN_SECONDS before it sleeps again."""

    def __init__(
        self,
        lock: threading.RLock | None = None,
        pause: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """`lock`: the index's, which searches take; a background thread holding it never
        pauses (the search would wait for it). `pause` and `clock`: how a background thread
        sleeps and tells how long it ran (a test records the pauses and moves the clock)."""
        # RLock._is_owned is how threading.Condition asks the same (CPython's RLock has had it
        # since 3.2); without it a thread would pause under the lock too, and searches wait.
        self._holding: Callable[[], bool] = getattr(lock, "_is_owned", lambda: False)
        self.pause = pause
        self.clock = clock
        self.threads: set[int] = set()  # the searching threads' idents (set.add is atomic)

    @contextmanager
    def running(self) -> Iterator[None]:
        """Around a search."""
        ident = threading.get_ident()
        self.threads.add(ident)
        try:
            yield
        finally:
            self.threads.discard(ident)

    @contextmanager
    def giving_way(self) -> Iterator[None]:
        """Run the block in this (background) thread giving way to searches, through a profile
        hook of this thread only, removed after the block. It sleeps and runs in turns rather
        than waiting for the searches to end, so that it keeps moving (at a sixth of its pace
        under searches that never stop), and a search that waits for a lock this thread holds
        (an import, a log handler) waits a bounded time. It never pauses while it holds the
        index's lock."""
        running_until = 0.0

        def give_way(frame: FrameType, event: str, argument: object) -> None:
            nonlocal running_until
            if not self.threads or self._holding() or self.clock() < running_until:
                return
            self.pause(GIVE_WAY_SECONDS)
            running_until = self.clock() + GIVE_WAY_RUN_SECONDS

        previous = sys.getprofile()
        sys.setprofile(give_way)
        try:
            yield
        finally:
            sys.setprofile(previous)


def _worker_pool() -> ProcessPoolExecutor:
    """A single-worker process pool for training. "spawn": a fresh interpreter, never a fork of
    this threaded process (a fork copies locks other threads hold, and can deadlock on them).
    The process itself starts with the first training sent to it."""
    return ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=lower_priority
    )


def _no_worker(error: BaseException) -> None:
    """Say why an index trains in a thread after all (once per index: it does not try again)."""
    log.warning(
        "The knowledge classifier cannot train in a worker process here (%r); training in a "
        "thread instead, so searches may slow down while it trains",
        error,
    )


def _stop_worker(worker: ProcessPoolExecutor) -> None:
    """Shut a training pool down without waiting: queued trainings are dropped and a running
    one finishes in the worker, which then exits."""
    worker.shutdown(wait=False, cancel_futures=True)


class IndexStartingError(Exception):
    """Searched before the first build is in (Eddy is starting up): say so, never "no
    answer", which would not be true."""


class KnowledgeIndex:
    """The searchable knowledge: entries by slug, a BM25 snapshot, and the wording postings.

    >>> index = KnowledgeIndex.from_entries([KnowledgeEntry("vpn", "Reset your VPN password", "")])
    >>> index.search("vpn pasword reset")[0].slug
    'vpn'
    """

    def __init__(self, *, train_in_process_from: int | None = TRAIN_IN_PROCESS_FROM) -> None:
        """`train_in_process_from`: train the classifier in a worker process once the corpus has
        this many wordings (None: always in a thread); see TRAIN_IN_PROCESS_FROM."""
        self._lock = threading.RLock()
        self._entries: dict[str, KnowledgeEntry] = {}
        #: How many times the index was rebuilt (once per batch of changes, never per search
        #: or learned wording): an operational figure, and what the tests check.
        self.rebuilds = 0
        self._terms: dict[str, list[str]] = {}  # slug -> BM25 terms, cached across rebuilds
        # The built side, replaced whole by the builder thread; searches read it meanwhile.
        self._snapshot = _Snapshot((), None, _Lexicon({}, (), {}))
        self._wordings = _Wordings((), {})
        self._learned = NO_LEARNED
        self._built = threading.Event()  # set once the first build is in: searches answer
        # What the builder owes: a full rebuild (entries or their BM25 text changed) and/or
        # the learned wordings' BM25. `_building` is true while a build runs unlocked; the
        # slugs learned meanwhile are replayed into what it built (`_learned_while_building`).
        self._dirty = True
        self._learned_dirty = False
        self._building = False
        self._learned_while_building: set[str] = set()
        self._builder: threading.Thread | None = None
        self._held = 0  # batches open (`batch()`): the builder waits for them to close
        # The searches in flight: the builder and the trainer give way to them.
        self._searches = _Searches(self._lock)
        # The classifier: retrained in a background thread after every change of wordings
        # (`_changes` counts them); searches use the latest trained one meanwhile.
        self._classifier: WordingClassifier | None = None
        # (classifier, wordings, their entry numbers, which are known, vote weights): `_votes`.
        self._vote_rows: (
            tuple[WordingClassifier, _Wordings, np.ndarray, np.ndarray, np.ndarray] | None
        ) = None
        self._changes = 0
        self._trained_changes = 0
        self._trainer: threading.Thread | None = None
        self._trained = threading.Condition(self._lock)
        # The training process: a single-worker pool, started on the first training that wants
        # it and kept for the later ones; shut down by `close()` or when the index is garbage.
        self._train_in_process_from = train_in_process_from
        self._worker: ProcessPoolExecutor | None = None
        #: How many classifiers arrived from the worker process (an operational figure, and
        #: what the tests check).
        self.trained_in_worker = 0

    # Building

    @classmethod
    def from_entries(
        cls,
        entries: Iterable[KnowledgeEntry],
        *,
        train_in_process_from: int | None = TRAIN_IN_PROCESS_FROM,
    ) -> KnowledgeIndex:
        """An index of `entries`, built and its classifier trained."""
        index = cls(train_in_process_from=train_in_process_from)
        with index.batch():
            for entry in entries:
                index.upsert(entry)
        index.refresh()
        index.settle()
        return index

    @classmethod
    def from_dir(cls, path: Path) -> KnowledgeIndex:
        """The index of a content folder's knowledge entries; files with problems are left out
        (`app.py content check` reports them)."""
        return cls.from_entries(load_knowledge(path).entries)

    @property
    def ready(self) -> bool:
        """Whether a build has completed, so that searches answer (from the last complete
        build, also while a later one runs)."""
        return self._built.is_set()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Make many changes, then build once: the builder starts when the batch closes."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
                self._start_builder()

    def refresh(self, timeout: float | None = None) -> bool:
        """Build now what the changes so far owe, in the builder thread, and wait for it (True
        when done, False after `timeout` seconds). Searches never call this: they read the
        last complete build."""
        with self._lock:
            self._start_builder()
            return self._trained.wait_for(self._built_up_to_date, timeout)

    def _built_up_to_date(self) -> bool:
        return not (self._dirty or self._learned_dirty or self._building)

    def _start_builder(self) -> None:
        """Start the builder thread if there is work and none runs (lock held)."""
        if self._builder is not None or self._held or self._built_up_to_date():
            return
        self._builder = threading.Thread(
            target=self._build_until_current, name="eddy-index-builder", daemon=True
        )
        self._builder.start()

    def _build_until_current(self) -> None:
        """The builder thread: build what is owed, unlocked, and swap it in whole; again while
        changes arrived meanwhile. Rebuilding 10,000 entries takes seconds, and no question
        may wait for it (Slack wants an answer to `/ask` within 3 s)."""
        while True:
            with self._lock:
                if self._built_up_to_date() or self._held:
                    self._builder = None
                    self._trained.notify_all()
                    return
                full = self._dirty
                entries = dict(self._entries)
                terms = {slug: self._terms[slug] for slug in entries} if full else {}
                previous = self._wordings
                sealing_up_to = previous.count if not full and previous.owes_sealing() else 0
                self._dirty = self._learned_dirty = False
                self._learned_while_building = set()
                self._building = True
            # Until the first build is in no search runs (they say "starting up"), so that
            # build skips what giving way to searches costs: a rebuild takes half as long again.
            politely = self.giving_way() if self._built.is_set() else nullcontext()
            try:
                with politely:
                    if full:
                        snapshot, wordings = _build(entries, terms, previous)
                    else:
                        snapshot, wordings = self._snapshot, previous
                    layers = (wordings.terms, wordings.grams) if sealing_up_to else ()
                    sealed = [
                        (postings, postings.sealed_up_to(sealing_up_to)) for postings in layers
                    ]
                    learned = _learned_bm25(entries, wordings.numbers)
            except Exception:  # searches keep the last build; the next change retries
                log.exception("Building the knowledge index failed")
                with self._lock:
                    self._building = False
                    self._builder = None
                    self._trained.notify_all()
                return
            with self._lock:
                if full:
                    self._replay_learned(entries, wordings)
                    self._snapshot, self._wordings = snapshot, wordings
                    self.rebuilds += 1
                elif self._wordings is wordings:
                    for postings, layer in sealed:
                        postings.reseal(layer, sealing_up_to)
                self._learned = learned
                self._learned_dirty |= bool(self._learned_while_building)
                self._building = False
                self._built.set()
                self._trained.notify_all()
            if full:  # the previous build is garbage once the searches reading it are done
                del previous, snapshot, wordings
                _return_freed_memory()

    def _replay_learned(self, built: dict[str, KnowledgeEntry], wordings: _Wordings) -> None:
        """Wordings learned while a build ran went to the old wordings (searches saw them at
        once); add them to the new ones too (lock held)."""
        for slug in self._learned_while_building:
            current, before = self._entries.get(slug), built.get(slug)
            if current is None or before is None or slug not in wordings.numbers:
                continue
            known = {normalise_wording(text) for text in wordings_of(before)}
            for text in wordings_of(current):
                if normalise_wording(text) not in known:
                    wordings.append(slug, text)

    # Changing

    def upsert(self, entry: KnowledgeEntry) -> None:
        """Add or replace an entry. The builder rebuilds BM25 and the wordings once per batch
        of changes, and only if an entry is new or its BM25 text changed; a change of learned
        wordings alone is appended. Searches answer from the last build until then."""
        old = self._entries.get(entry.slug)
        retext = old is None or bm25_text(old) != bm25_text(entry)
        terms = [t for text in bm25_text(entry) for t in terms_of(text)] if retext else []
        with self._lock:
            old = self._entries.get(entry.slug)
            self._entries[entry.slug] = entry
            if old is None or bm25_text(old) != bm25_text(entry):
                self._terms[entry.slug] = terms or [
                    t for text in bm25_text(entry) for t in terms_of(text)
                ]
                self._dirty = True  # the rebuild redoes the wordings too
            elif wordings_of(old) != wordings_of(entry):
                if self._dirty or self._building:
                    self._dirty = True  # a build in flight would miss the change: build again
                else:
                    self._wordings.kill(entry.slug)
                    for text in wordings_of(entry):
                        self._wordings.append(entry.slug, text)
                    self._learned_dirty = True
            if old is None or wordings_of(old) != wordings_of(entry):
                self._retrain()
            self._start_builder()

    def remove(self, slug: str) -> bool:
        """Forget an entry; True if there was one. Searches skip it at once."""
        with self._lock:
            if self._entries.pop(slug, None) is None:
                return False
            self._terms.pop(slug, None)
            self._dirty = True
            self._retrain()
            self._start_builder()
            return True

    def learn(self, slug: str, wording: str) -> bool:
        """Attach an asker's wording to an entry (a Helpful click): normalised, de-duplicated;
        True if it was new. Cheap: no BM25 rebuild, yet the next search uses it.
        Raises KeyError for an unknown slug."""
        text = normalise_wording(wording)
        with self._lock:
            entry = self._entries[slug]
            known = {normalise_wording(w) for w in (entry.title, *entry.questions, *entry.learned)}
            if not text or text in known:
                return False
            self._entries[slug] = replace(entry, learned=(*entry.learned, text))
            if slug in self._wordings.numbers:
                self._wordings.append(slug, text)
            if self._building:
                self._learned_while_building.add(slug)
            self._learned_dirty = True
            self._retrain()
            self._start_builder()
            return True

    # The classifier

    def _retrain(self) -> None:
        """Note a change of wordings; the trainer thread (started if idle) picks it up."""
        self._changes += 1
        if self._trainer is None:
            self._trainer = threading.Thread(
                target=self._train_until_current, name="eddy-knowledge-trainer", daemon=True
            )
            self._trainer.start()

    def _train_until_current(self) -> None:
        while True:
            with self._lock:
                if self._trained_changes == self._changes:
                    self._trainer = None
                    self._trained.notify_all()
                    return
                changes = self._changes
                # Too many entries to train on: lexical scores alone.
                entries = dict(self._entries) if len(self._entries) <= MAX_ENTRIES else {}
                wordings, count = self._wordings, self._wordings.count
            # The corpus is put together unlocked (searches take the lock for a moment and
            # must not wait for this), from a copy of the entries and a prefix of the wordings.
            try:
                with self.giving_way():
                    corpus = {slug: wordings_of(entry) for slug, entry in entries.items()}
                    vectors = wordings.embedded(count) if corpus else {}
                classifier = self._train(corpus, vectors)
            except Exception:  # the lexical scores still rank; the next change retries
                log.exception("Training the knowledge classifier failed")
                classifier = None
            with self._lock:
                self._classifier = classifier
                self._trained_changes = changes
                self._trained.notify_all()

    def _train(
        self, corpus: dict[str, list[str]], vectors: dict[str, np.ndarray]
    ) -> WordingClassifier | None:
        """A classifier for `corpus` (trainer thread, unlocked): from the worker process when
        the corpus is large enough to want one and a worker can run here, else trained in this
        thread. The wordings not embedded yet (entries not built yet) are embedded here first,
        so the worker never loads the sentence model."""
        if not 2 <= sum(1 for texts in corpus.values() if texts) <= MAX_ENTRIES:
            return None  # nothing to train (WordingClassifier.train would say the same)
        with self.giving_way():
            texts = [text for wordings in corpus.values() for text in wordings]
            missing = list(dict.fromkeys(text for text in texts if text not in vectors))
            vectors.update(zip(missing, meaning.embed(missing), strict=True))
        threshold = self._train_in_process_from
        worker = self._start_worker() if threshold is not None and len(texts) >= threshold else None
        if worker is not None:
            with self.giving_way():
                embedded = list(vectors)
                matrix = np.stack([vectors[text] for text in embedded])
            try:
                future = worker.submit(train_in_worker, corpus, embedded, matrix)
            except BrokenExecutor as error:  # the worker died, or could not start
                self._worker_broke(worker, error)
            except RuntimeError:  # shut down: the index was closed, or Python is exiting
                with self._lock:
                    self._worker, self._train_in_process_from = None, None
            except Exception as error:  # e.g. no process can be started here
                self._worker_broke(worker, error)
            else:
                try:  # a failure of the training itself is raised here as in a thread
                    classifier = future.result()
                except CancelledError:  # the index was closed meanwhile
                    pass
                except BrokenExecutor as error:  # the worker died or could not start
                    self._worker_broke(worker, error)
                else:
                    with self._lock:
                        self.trained_in_worker += 1
                    return classifier
        with self.giving_way():
            return WordingClassifier.train(corpus, vectors)

    def _worker_broke(self, worker: ProcessPoolExecutor, error: Exception) -> None:
        """The worker could not start or died: train in threads from now on (unless the index
        was closed meanwhile, which is no failure)."""
        with self._lock:
            closed = self._worker is not worker
            self._worker = None
            self._train_in_process_from = None
        if not closed:
            _no_worker(error)
            _stop_worker(worker)

    def _start_worker(self) -> ProcessPoolExecutor | None:
        """The training process pool, started on first use; None where none can run."""
        with self._lock:
            if self._worker is None and self._train_in_process_from is not None:
                try:
                    self._worker = _worker_pool()
                except Exception as error:  # e.g. no semaphores in a sandbox
                    self._train_in_process_from = None
                    _no_worker(error)
                else:  # stopped with the index, whoever drops it last
                    weakref.finalize(self, _stop_worker, self._worker)
            return self._worker

    def giving_way(self) -> AbstractContextManager[None]:
        """Run the block in this thread giving way to this index's searches: for work in the
        serving process that runs Python for long and needs no answer at once (the content
        refresh reads and compares every entry each minute). See `_Searches`."""
        return self._searches.giving_way()

    def close(self) -> None:
        """Stop the training worker process, if one runs (a training in flight finishes in it
        first, without waiting here). The index still answers; a later training runs in a
        thread. The worker also stops when the index is garbage-collected or at exit."""
        with self._lock:
            worker, self._worker = self._worker, None
            self._train_in_process_from = None
        if worker is not None:
            _stop_worker(worker)

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until the index is built and the classifier has learned every change so far
        (True), or `timeout` seconds passed (False). Searches never wait: callers that change
        the index off the request path (a Helpful click after its ack, the content refresh
        job) do, so that the next question sees the index at full strength."""
        with self._lock:
            self._start_builder()
            return self._trained.wait_for(
                lambda: self._trained_changes == self._changes and self._built_up_to_date(),
                timeout,
            )

    # Reading

    def get(self, slug: str) -> KnowledgeEntry | None:
        return self._entries.get(slug)

    def closeness(self, slug: str, vectors: np.ndarray) -> np.ndarray:
        """How close in meaning each of `vectors` (sentence embeddings, bot/meaning.py) is to an
        entry: the best cosine similarity with any of its live wordings; zeros for an entry the
        index does not hold (yet)."""
        with self._lock:
            wordings = self._wordings
            number = wordings.numbers.get(slug, -1)
            rows = [n for n in wordings.of_entry.get(number, ()) if n < wordings.count]
            known = wordings.vectors(rows)
        if not rows:
            return np.zeros(len(vectors))
        return np.asarray((vectors @ known.T).max(axis=1), dtype=np.float64)

    @property
    def entries(self) -> list[KnowledgeEntry]:
        with self._lock:
            return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def search(self, question: str, limit: int = 5) -> list[Hit]:
        """The best entries for a question, best first; `confident` on those the calibrated
        decision (CALIBRATION) accepts. Answers from the last complete build, never waiting
        for one; raises IndexStartingError before the first."""
        if not self._built.is_set():
            raise IndexStartingError("the knowledge index is still being built")
        with self._searches.running():
            return self._search(question, limit)

    def _search(self, question: str, limit: int) -> list[Hit]:
        with self._lock:  # a consistent view; the work below runs unlocked
            snapshot, wordings, learned = self._snapshot, self._wordings, self._learned
            classifier, count = self._classifier, wordings.count
        parsed = self._parse(question, snapshot.lexicon, wordings)
        if not parsed.words or count == 0:
            return []
        bm25 = self._bm25(snapshot, learned, parsed)
        term_at, term_overlap = wordings.terms.dice({stem(w) for w in parsed.words}, count)
        gram_at, gram_overlap = wordings.grams.dice(grams_of(parsed.typed), count)
        words = wordings.per_entry(term_at, term_overlap)
        chars = wordings.per_entry(gram_at, gram_overlap)
        vector = meaning.embed([question])[0]
        votes, voting_weight = self._votes(classifier, wordings, question, vector)
        parts = [bm25, words, chars]
        if classifier is not None:  # its best CANDIDATES too, even without a word in common
            parts.append(np.nan_to_num(votes, nan=0.0))
        chosen = [self._best(part) for part in parts]
        # The entries of the wordings closest in meaning too: first pass, then exact.
        rough = wordings.head[:count] @ vector[:FIRST_PASS_DIMENSIONS]
        kept = min(FIRST_PASS_KEPT, count)
        shortlist = np.argpartition(-rough, kept - 1)[:kept]
        close = wordings.similarity(shortlist, vector)
        top = min(CANDIDATES, kept)
        closest = np.argpartition(-close, top - 1)[:top]
        chosen.append(wordings.owner[shortlist[closest[close[closest] > 0]]])
        candidates = np.unique(np.concatenate(chosen))
        # The candidates' wordings (live ones: a replaced entry's are dropped from of_entry).
        of_entry = wordings.of_entry
        numbers = np.array(
            [n for entry in candidates.tolist() for n in of_entry.get(entry, ()) if n < count],
            dtype=np.int64,
        )
        numbers = numbers[wordings.alive[numbers]]
        meant = self._meaning(wordings, vector, numbers)
        fuzzy, matched = self._fuzzy(wordings, parsed.text, numbers)
        # The score of every candidate at once; the same arithmetic, in the same order, as one
        # candidate at a time, so the same floats.
        shared = (
            WEIGHT_BM25 * bm25[candidates]
            + WEIGHT_WORDS * words[candidates]
            + WEIGHT_CHARS * chars[candidates]
            + WEIGHT_FUZZY * fuzzy[candidates]
        )
        score, vote = shared, np.full(len(candidates), 0.5)
        if classifier is not None:
            voted = votes[candidates]
            trained = ~np.isnan(voted)
            weight = voting_weight[candidates]
            score = np.where(trained, (1 - weight) * shared + weight * voted, shared)
            vote = np.where(trained, voted, 0.5)
        weight = np.where(
            wordings.sizes[candidates] > 1, WEIGHT_MEANING, WEIGHT_MEANING_ONE_WORDING
        )
        closeness = meant[candidates]
        score = (1 - weight) * score + weight * closeness
        hits: list[Hit] = []
        for slug, at in self._ranked(wordings, candidates, score, max(limit, 2)):
            entry = self._entries.get(slug)
            if entry is None:  # removed this instant
                continue
            hits.append(
                Hit(
                    slug,
                    entry.title,
                    round(float(score[at]), 6),
                    False,
                    matched.get(int(candidates[at]), ""),
                    round(float(shared[at]), 6),
                    round(float(closeness[at]), 6),
                    round(float(vote[at]), 6),
                )
            )
        scores = [hit.score for hit in hits[:2]] + [0.0, 0.0]
        return [
            # Each hit's gap is to the best other hit: the second for the first, else the first.
            replace(hit, confident=CALIBRATION.confident(hit.signals(scores[1 if n == 0 else 0])))
            for n, hit in enumerate(hits[:limit])
        ]

    def _ranked(
        self, wordings: _Wordings, candidates: np.ndarray, score: np.ndarray, wanted: int
    ) -> list[tuple[str, int]]:
        """The `wanted` best candidates as (slug, position in `candidates`): by score rounded
        to 6 decimals, then by slug; entries removed since the build left out. Only those
        within rounding of the `wanted`-th best score are sorted (a few, not every candidate)
        unless one of them has been removed."""
        contenders = np.arange(len(candidates))
        if len(candidates) > wanted:
            floor = -np.partition(-score, wanted - 1)[wanted - 1]
            near = np.flatnonzero(score >= floor - 2e-6)  # round() moves a value by ≤ 5e-7
            if all(wordings.slugs[n] in self._entries for n in candidates[near].tolist()):
                contenders = near
        ranked: list[tuple[float, str, int]] = []
        for at in contenders.tolist():
            slug = wordings.slugs[int(candidates[at])]
            if slug in self._entries:  # else removed since the build
                ranked.append((-round(float(score[at]), 6), slug, at))
        ranked.sort()  # best first, then by slug
        return [(slug, at) for _, slug, at in ranked[:wanted]]

    @staticmethod
    def _best(part: np.ndarray) -> np.ndarray:
        """The CANDIDATES entries with the highest positive values of one part of the score
        (all with a positive value if fewer): among the few that have one, not all entries."""
        scored = np.flatnonzero(part > 0)
        if len(scored) <= CANDIDATES:
            return scored
        return scored[np.argpartition(-part[scored], CANDIDATES - 1)[:CANDIDATES]]

    @staticmethod
    def _meaning(wordings: _Wordings, vector: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """Per entry number (the candidates only, whose wordings are `numbers`; others 0): how
        close the question's meaning (`vector`) is to the entry's wordings' (cosine similarity,
        negative counted as 0), aggregated like the overlaps. Only the candidates: aggregating
        every wording costs more than the rest of a search at 10,000 entries."""
        if len(numbers) == 0:
            return np.zeros(len(wordings.slugs))
        similarity = np.clip(wordings.similarity(numbers, vector), 0.0, 1.0)
        return wordings.per_entry(numbers, similarity)

    def _votes(
        self,
        classifier: WordingClassifier | None,
        wordings: _Wordings,
        question: str,
        vector: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per entry number: the classifier's vote in 0..1 (margin -1 → 0, +1 → 1), NaN for
        entries it has not been trained on yet (they are scored on the lexical parts alone); and
        the weight of that vote in the score. Empty without a classifier."""
        if classifier is None:
            return np.zeros(0), np.zeros(0)
        rows = self._vote_rows
        if rows is None or rows[0] is not classifier or rows[1] is not wordings:
            # Which entry number each of the classifier's entries is, and its vote's weight:
            # the same until either is replaced, so worked out once, not per search.
            numbers = np.array([wordings.numbers.get(slug, -1) for slug in classifier.slugs])
            known = numbers >= 0
            weights = np.zeros(len(wordings.slugs))
            weights[numbers[known]] = np.where(
                classifier.examples[known] > 1, WEIGHT_CLASSIFIER, WEIGHT_CLASSIFIER_ONE_EXAMPLE
            )
            rows = self._vote_rows = (classifier, wordings, numbers[known], known, weights)
        _, _, numbers, known, weights = rows
        votes = np.full(len(wordings.slugs), np.nan)
        margins = classifier.margins(question, vector)[known]
        votes[numbers] = np.clip((margins + 1) / 2, 0.0, 1.0)
        return votes, weights

    def _parse(self, question: str, lexicon: _Lexicon, wordings: _Wordings) -> _Question:
        """Split a question into words and correct the ones the index has never seen."""
        groups: list[tuple[str, ...]] = []
        words: list[str] = []
        for word in dict.fromkeys(words_of(question)):
            term = stem(word)
            if (
                term in lexicon.term_ids
                or term in wordings.terms.ids
                or len(word) < MIN_CORRECTABLE
            ):
                groups.append((term,))
                words.append(word)
                continue
            fixes = self._corrections(word, lexicon)
            groups.append(tuple(dict.fromkeys(stem(fix) for fix in fixes)))
            words.append(fixes[0] if fixes else word)
        typed = tuple(dict.fromkeys(words_of(question)))
        return _Question(tuple(groups), tuple(words), " ".join(words), typed)

    def _corrections(self, word: str, lexicon: _Lexicon) -> list[str]:
        """Known words one edit away (two for long words), else sharing a long prefix; the most
        used first."""
        if not lexicon.surfaces:
            return []
        edits = 2 if len(word) >= TWO_EDITS_FROM else 1
        reachable = np.flatnonzero(
            (np.abs(lexicon.lengths - len(word)) <= edits)
            & (np.bitwise_count(lexicon.letters ^ np.uint32(letters_of(word))) <= 2 * edits)
        )
        if len(reachable):
            choices = [lexicon.surfaces[n] for n in reachable.tolist()]
            distances = process.cdist(
                [word], choices, scorer=OSA.distance, score_cutoff=edits, workers=1
            )[0]
            within = np.flatnonzero(distances <= edits)
            if len(within):
                # The closest, then the earliest in the vocabulary; of those at the best
                # distance, the most used.
                close = within[np.argsort(distances[within], kind="stable")]
                close = close[: MAX_CORRECTIONS * 3]
                best = distances[close[0]]
                nearest = [choices[n] for n in close.tolist() if distances[n] == best]
                nearest.sort(key=lambda w: -lexicon.frequency.get(w, 0))
                return nearest[:MAX_CORRECTIONS]
        if len(word) < MIN_SHARED_PREFIX:
            return []
        prefixed = process.extract(
            word,
            lexicon.by_start.get(word[:PREFIX_GROUP], ()),
            scorer=Prefix.normalized_similarity,
            score_cutoff=MIN_PREFIX_SHARE,
            limit=MAX_CORRECTIONS,
        )
        return [
            choice
            for choice, _, _ in prefixed
            if Prefix.similarity(word, choice) >= MIN_SHARED_PREFIX
        ]

    def _bm25(self, snapshot: _Snapshot, learned: _LearnedBm25, question: _Question) -> np.ndarray:
        """BM25 per entry relative to the best entry: per question word its best candidate
        term's scores (a corrected word counts once), summed; plus, weighted, the same over the
        entries' learned wordings."""
        total = self._bm25_of(snapshot.bm25, snapshot.lexicon.term_ids, question)
        if len(total) == 0:
            return total
        if learned.bm25 is not None and LEARNED_BM25_WEIGHT > 0:
            extra = self._bm25_of(learned.bm25, learned.term_ids, question)
            rows = learned.rows[learned.rows < len(total)]
            total[rows] += LEARNED_BM25_WEIGHT * extra[: len(rows)]
        top = float(total.max(initial=0.0))
        return total / top if top > 0 else total

    @staticmethod
    def _bm25_of(
        model: bm25s.BM25 | None, term_ids: dict[str, int], question: _Question
    ) -> np.ndarray:
        """Per document, the sum over the question's words of their BM25 scores (a corrected
        word: its best candidate term's). Gathered from bm25s's score matrix (a column per term,
        one value per document having it) and summed once, in the words' order: the same sums
        as adding one dense array per word, without making one."""
        if model is None:
            return np.zeros(0)
        matrix = model.scores
        data, documents, columns = matrix["data"], matrix["indices"], matrix["indptr"]
        having: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for group in question.groups:
            ids = [term_ids[t] for t in group if t in term_ids]
            if len(ids) == 1:
                first, last = columns[ids[0]], columns[ids[0] + 1]
                having.append(documents[first:last])
                values.append(data[first:last])
            elif ids:
                best = np.max([model.get_scores([i]) for i in ids], axis=0)
                scored = np.flatnonzero(best)
                having.append(scored)
                values.append(best[scored])
        if not having:
            return np.zeros(matrix["num_docs"])
        return np.bincount(
            np.concatenate(having),
            weights=np.concatenate(values).astype(np.float64),
            minlength=matrix["num_docs"],
        )

    @staticmethod
    def _fuzzy(
        wordings: _Wordings, text: str, numbers: np.ndarray
    ) -> tuple[np.ndarray, dict[int, str]]:
        """rapidfuzz token_set_ratio of the corrected question with the candidates' wordings
        (`numbers`), per entry number the best (0..1; 0 for the others), and that best wording
        (the first of the entry's wordings that scores it)."""
        best = np.zeros(len(wordings.slugs))
        if len(numbers) == 0:
            return best, {}
        texts = wordings.texts
        similarity = process.cdist(
            [text], [texts[n] for n in numbers.tolist()], scorer=fuzz.token_set_ratio, workers=1
        )[0]
        values = similarity.astype(np.float64) / 100
        owners = wordings.owner[numbers]
        # Per entry its best value, the earliest wording on a tie: sort by entry, value
        # descending, position; the first of each entry's run.
        order = np.lexsort((np.arange(len(numbers)), -values, owners))
        first = order[np.r_[True, owners[order][1:] != owners[order][:-1]]]
        best[owners[first]] = values[first]
        originals = wordings.originals
        matched = dict(
            zip(
                owners[first].tolist(), [originals[n] for n in numbers[first].tolist()], strict=True
            )
        )
        return best, matched
