"""The text -> vector contract, with no torch in it.

Everything that turns sentences into vectors fills it: a samesense model, the baselines (BM25,
MiniLM, e5-small), and what later encoders bring (a fine-tuned transformer, an exported runtime
model). The FAQ bank, the evaluation and the benchmark ask for nothing more, so any of them can be
stored, scored or served.
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class TextEncoder(Protocol):
    dim: int  # the vectors' size
    fingerprint: str  # sha256 naming the exact encoder: equal fingerprints, equal vectors

    def encode(self, texts: Sequence[str], batch_size: int = 256,
               show_progress: bool | None = False) -> np.ndarray:
        """Unit vectors, float32, shape (len(texts), dim), in the order of `texts`."""
        ...

    def unknown_fraction(self, texts: Sequence[str]) -> list[float]:
        """For each text, the share of the tokens the encoder reads that its vocabulary does not
        hold (1.0 for a text with no tokens). Near 1 the vector says little about the text, so
        the FAQ bank abstains rather than trust its cosine. An encoder that cannot tell which of
        its tokens are unknown gives 0.0 for each text (it never abstains on these grounds)."""
        ...
