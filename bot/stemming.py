"""English stemming for search: Snowball's stemmer (PyStemmer), one instance per thread.

A PyStemmer `Stemmer` keeps working state and its documentation asks for one instance per
thread; searches run in several listener threads and the classifier trains in its own. The
results are cached process-wide (`lru_cache` is thread-safe): the same words come back often.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import Stemmer

_local = threading.local()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The word's stem ("changed" → "chang", "reservations" → "reserv"), applied alike to
    entries and questions, so only consistency matters."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return str(stemmer.stemWord(word))
