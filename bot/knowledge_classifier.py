"""The part of Eddy's search that learns which words tell entries apart.

BM25 and the overlap measures in `bot.knowledge` judge each entry on its own: a question that
shares "card" with both "card declined" and "credit limit" cannot tell which matters. Once people
have asked in their own words (curated questions, Helpful clicks), those wordings are labelled
examples, and a linear classifier trained on them learns the weights that separate one entry from
the others — "declined" counts for one entry and against its neighbours. On CLINC150 this is what
lifts top-1 after 10 and 20 learned wordings per entry well past the lexical scores
(bench/search_quality.py; the figures are in bench/README.md).

The model is scikit-learn's LinearSVC (one-vs-rest) over TF-IDF features of the wordings: word
unigrams and bigrams of the stemmed words, and character 1–4-grams within words, which carry
morphology and survive typos; and each wording's sentence embedding (bot/meaning.py), which
lets it learn what an entry's wordings *mean* in common, not only which words they share. On
CLINC150 validation the embedding features lift the classifier alone from 0.700 to 0.733 top-1
with 5 questions per intent and from 0.786 to 0.811 with 10 (128 dimensions, MEANING_SCALE 1).
Its margins (≥ +1 means "this entry", ≤ -1 "not this one") are mapped to 0..1 and blended into
the search score.

Cost. Training is quadratic in entries (about 8 s for 1,000 entries with 3 wordings each) and
the dense weights grow with entries × features, so indexes above MAX_ENTRIES rank without it,
and each entry keeps only its KEPT_WEIGHTS largest weights (sparse; on CLINC150 this changes
top-1 by less than half a point). Neither a Helpful click nor a search ever waits for training:
`KnowledgeIndex` trains a corpus of TRAIN_IN_PROCESS_FROM wordings or more (bot/knowledge.py)
in a worker process (`train_in_worker`, through a single-worker process pool started with
`lower_priority`) and a smaller one in a background thread. Fitting TF-IDF is pure Python, so a
training thread holds the GIL for seconds and searches meanwhile queue behind it (search p99
34–49 ms, up to 107 ms on a loaded machine, at 1,000 entries while it trained); the worker gets
the wordings and their embeddings (the parent has the model loaded, so the worker never loads
WordLlama), trains at the lowest CPU priority (`lower_priority`), and sends back the trained
classifier, which pickles whole (vectorizers, analyzers and weights). Scoring a question stays
in the searching thread: the vectorizers' analyzers, then the question's rows of the sparse
weights gathered with NumPy (`margins`).

Imports. scikit-learn and the parts of SciPy it pulls in (about 70 MiB and seconds of start-up)
are imported when a classifier is trained or unpickled, not with this module: an index above
MAX_ENTRIES never trains one, so a large deployment never loads them; below it the parent
imports scikit-learn's text module when the first classifier arrives (scoring uses the fitted
vectorizers' own analyzers, not a copy of them).
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot import meaning
from bot.stemming import stem

if TYPE_CHECKING:  # imported where a classifier is trained: see "Imports" above
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

#: Above this many entries the index ranks with the lexical scores alone (see the module doc).
MAX_ENTRIES = 1_000
#: Per entry, the weights kept after training (largest magnitude first).
KEPT_WEIGHTS = 1_000
#: LinearSVC's regularisation; 0.5–3 score within half a point of each other on CLINC150.
REGULARISATION = 1.0
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (1, 4)
#: How much lower the training process's CPU priority is than the requests' where SCHED_IDLE
#: is not available (see `lower_priority`): nice 10 weighs about a tenth of nice 0.
WORKER_NICENESS = 10
#: The sentence-embedding features are the unit vector times this: it sets how much meaning
#: weighs beside the two L2-normalised TF-IDF parts (1 and 2 score alike on CLINC150).
MEANING_SCALE = 1.0
# "More classes than half the samples" is expected when most entries have one wording (their
# title); scikit-learn suspects a regression problem, and it is not one. A process-wide filter,
# set once: `warnings.catch_warnings` is not thread-safe and training runs in its own thread.
warnings.filterwarnings(
    "ignore", message="The number of unique classes is greater than 50%", category=UserWarning
)
TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


def classifier_text(text: str) -> str:
    """Lowercase stemmed words, stopwords kept: "how", "why" and "not" tell intents apart."""
    return " ".join(stem(word) for word in TOKEN.findall(text.lower().replace("’", "'")))


@dataclass(frozen=True)
class WordingClassifier:
    """A trained classifier: `margins(question)` scores every entry it was trained on."""

    slugs: tuple[str, ...]
    examples: np.ndarray  # per entry, how many wordings it was trained on
    words: TfidfVectorizer
    chars: TfidfVectorizer
    weights: sparse.csr_matrix  # features × entries, float32, pruned: a question's few
    # features select a few rows
    meaning_weights: np.ndarray  # embedding dimensions × entries, float32 (dense, small)
    bias: np.ndarray
    analyzers: tuple[Callable[[str], list[str]], ...]  # the vectorizers' text → terms

    @classmethod
    def train(
        cls,
        wordings: Mapping[str, Sequence[str]],
        vectors: Mapping[str, np.ndarray] | None = None,
    ) -> WordingClassifier | None:
        """A classifier over entries' wordings (slug → its wordings), or None when there is
        nothing to tell apart (fewer than two entries) or too much to train (MAX_ENTRIES).
        `vectors` holds the wordings' sentence embeddings where already known (text → unit
        vector, as the index keeps them); the others are embedded here."""
        slugs = tuple(slug for slug, texts in wordings.items() if texts)
        if not 2 <= len(slugs) <= MAX_ENTRIES:
            return None
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        originals = [text for slug in slugs for text in wordings[slug]]
        texts = [classifier_text(text) for text in originals]
        labels = [number for number, slug in enumerate(slugs) for _ in wordings[slug]]
        words = TfidfVectorizer(sublinear_tf=True, ngram_range=WORD_NGRAMS, token_pattern=r"\S+")
        chars = TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=CHAR_NGRAMS)
        embedded = _embeddings(originals, vectors or {})
        features = sparse.hstack(
            [
                words.fit_transform(texts),
                chars.fit_transform(texts),
                sparse.csr_matrix(MEANING_SCALE * embedded),
            ]
        )
        model = LinearSVC(C=REGULARISATION).fit(features.tocsr(), labels)
        coefficients = np.asarray(model.coef_, dtype=np.float32)
        if len(slugs) == 2:  # binary: one weight vector for the second class
            coefficients = np.vstack([-coefficients, coefficients])
            bias = np.array([-model.intercept_[0], model.intercept_[0]], dtype=np.float32)
        else:
            bias = np.asarray(model.intercept_, dtype=np.float32)
        examples = np.array([len(wordings[slug]) for slug in slugs])
        lexical = len(words.vocabulary_) + len(chars.vocabulary_)
        return cls(
            slugs,
            examples,
            words,
            chars,
            _pruned(coefficients[:, :lexical]).T.tocsr(),
            np.ascontiguousarray(MEANING_SCALE * coefficients[:, lexical:].T),
            bias,
            (words.build_analyzer(), chars.build_analyzer()),
        )

    def margins(self, question: str, vector: np.ndarray | None = None) -> np.ndarray:
        """The margin of each entry (in `slugs` order) for a question; `vector` is its
        sentence embedding when the caller already has it (a search does)."""
        if vector is None:
            vector = meaning.embed([question])[0]
        margins = self.bias.astype(np.float64) + vector @ self.meaning_weights
        ids, values = self.features(question)
        if len(ids) == 0:
            return margins
        # weights[ids].T @ values, as SciPy computes it (float64, feature by feature, each
        # row's entries in order) but without its indexing and validation, which cost more
        # than the product: the question's rows are gathered as one run of the CSR arrays.
        weights = self.weights
        starts, ends = weights.indptr[ids], weights.indptr[ids + 1]
        lengths = ends - starts
        at = np.repeat(ends - np.cumsum(lengths), lengths) + np.arange(lengths.sum())
        products = weights.data[at].astype(np.float64) * np.repeat(values, lengths)
        return margins + np.bincount(weights.indices[at], products, minlength=len(self.slugs))

    def features(self, question: str) -> tuple[np.ndarray, np.ndarray]:
        """The question's nonzero features (column ids, values), exactly what the two fitted
        vectorizers' `transform` gives side by side: sublinear TF × IDF, each part L2-normalised.

        Computed here from the fitted analyzers, vocabularies and IDFs because this runs in
        every search, on the ack path, for one short text: `transform` spends three times the
        arithmetic on scikit-learn's input validation (a test checks that both agree)."""
        text = classifier_text(question)
        ids: list[np.ndarray] = []
        values: list[np.ndarray] = []
        offset = 0
        for vectorizer, analyse in zip((self.words, self.chars), self.analyzers, strict=True):
            vocabulary: dict[str, int] = vectorizer.vocabulary_
            counts = Counter(vocabulary[term] for term in analyse(text) if term in vocabulary)
            if counts:
                columns = np.fromiter(counts, dtype=np.int64, count=len(counts))
                weight = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))
                weight *= vectorizer.idf_[columns]
                ids.append(columns + offset)
                values.append(weight / np.linalg.norm(weight))
            offset += len(vocabulary)
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(ids), np.concatenate(values)


def lower_priority() -> None:
    """The training process's initializer: run at the lowest CPU priority there is, Linux's
    SCHED_IDLE (the scheduler hands the core to a request as soon as one is ready, rather than
    weighing the two as a nice level does), and nice +WORKER_NICENESS where that policy is not
    available. On an idle machine the training still gets a whole core."""
    with contextlib.suppress(OSError, AttributeError):  # no nice() here: normal priority
        os.nice(WORKER_NICENESS)
    with contextlib.suppress(OSError, AttributeError):  # no SCHED_IDLE here: the nice level
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def train_in_worker(
    wordings: Mapping[str, Sequence[str]], texts: Sequence[str], vectors: np.ndarray
) -> WordingClassifier | None:
    """What the training process runs: `WordingClassifier.train` with every wording's embedding
    given (row n of `vectors` is texts[n]'s, so the worker never loads the sentence model).
    One matrix, not an array per wording: the parent pickles it while holding the interpreter,
    and searches wait meanwhile (4,000 wordings: 1 ms as one matrix, 15 ms as 4,000 arrays).
    Module-level, so that it pickles by name, and in this module, so that the worker imports
    only what training needs."""
    return WordingClassifier.train(wordings, dict(zip(texts, vectors, strict=True)))


def _embeddings(texts: Sequence[str], known: Mapping[str, np.ndarray]) -> np.ndarray:
    """The texts' sentence embeddings, one row each: the known ones reused, the rest embedded
    in one batch."""
    missing = list(dict.fromkeys(text for text in texts if text not in known))
    fresh = dict(zip(missing, meaning.embed(missing), strict=True))
    rows = [known[text] if text in known else fresh[text] for text in texts]
    return np.array(rows, dtype=np.float32).reshape(len(texts), meaning.DIMENSIONS)


def _pruned(coefficients: np.ndarray) -> sparse.csr_matrix:
    """The KEPT_WEIGHTS largest-magnitude weights of each row, as a sparse matrix."""
    from scipy import sparse

    if coefficients.shape[1] <= KEPT_WEIGHTS:
        return sparse.csr_matrix(coefficients)
    kept = np.argpartition(-np.abs(coefficients), KEPT_WEIGHTS - 1, axis=1)[:, :KEPT_WEIGHTS]
    rows = np.repeat(np.arange(coefficients.shape[0]), KEPT_WEIGHTS)
    columns = kept.ravel()
    return sparse.csr_matrix(
        (coefficients[rows, columns], (rows, columns)), shape=coefficients.shape
    )
