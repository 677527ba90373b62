"""What a wording means, as a vector: sentence embeddings that work offline.

Words in common (BM25, the overlaps in `bot.knowledge`) miss a question put in other words —
"my card got eaten by the machine" shares nothing with "ATM kept my card". Sentence embeddings
put both close together. Eddy must run on a fresh machine with no network and no model hub, so
the model is WordLlama's (`wordllama` on PyPI, MIT, numpy only): its 256-dimension token
embeddings and tokenizer ship inside the wheel, and a wording is embedded by average-pooling its
tokens' vectors (about 45 µs).

Offline. wordllama 0.4.0's loader looks for the bundled tokenizer in `wordllama/tokenizer/`
while the wheel has it in `wordllama/tokenizers/`, then tries to download it from Hugging Face.
Pointing `cache_dir` at the package's own folder finds both files where the wheel put them, and
`disable_download` turns any remaining miss into an error instead of a network call
(tests/test_meaning.py loads it with the network unreachable).

The model is loaded once per process, on first use, and shared by every index.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

#: Which of WordLlama's bundled models and its width (the wheel holds only this one), and how
#: many of its leading dimensions Eddy keeps: the model is trained so that a prefix of its vectors
#: is an embedding too (Matryoshka), and a search multiplies the question with every wording's.
CONFIG = "l2_supercat"
MODEL_DIMENSIONS = 256
#: On CLINC150 validation the embeddings alone rank within a point of all 256 at 128 (top-1
#: 0.593 vs 0.601 titles only, 0.676 vs 0.679 with 5 questions) and lose three at 64 (0.566,
#: 0.650), at half the memory and multiplication of 256.
DIMENSIONS = 128


class _Model(Protocol):
    def embed(self, texts: str | list[str], norm: bool = False) -> np.ndarray: ...


_model: _Model | None = None
_loading = threading.Lock()


def load_model() -> _Model:
    """The bundled WordLlama model, read from the installed package; never downloads."""
    import wordllama

    package = Path(wordllama.__file__).resolve().parent
    model: _Model = wordllama.WordLlama.load(
        config=CONFIG,
        dim=MODEL_DIMENSIONS,
        trunc_dim=DIMENSIONS if DIMENSIONS < MODEL_DIMENSIONS else None,
        cache_dir=package,
        disable_download=True,
    )
    return model


def model() -> _Model:
    """The process's model, loaded on first use (about 0.2 s, plus the import)."""
    global _model
    if _model is None:
        with _loading:
            if _model is None:
                _model = load_model()
    return _model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors (float32, one row per text); a text with no known token gets zeros, so it
    is similar to nothing."""
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    vectors = np.asarray(model().embed(list(texts), norm=False), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
