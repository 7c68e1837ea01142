"""A stand-in model for FAQ tests: words hashed into buckets, L2-normalised. Exact and fast, so the
tests can say which stored question is nearest without training anything. Its vocabulary is ASCII:
a word in another script is an unknown token."""

from __future__ import annotations

import hashlib
import re

import numpy as np


class WordModel:
    def __init__(self, dim: int = 256, fingerprint: str = "fake-model-1"):
        self.dim, self.fingerprint = dim, fingerprint
        self.encoded = 0  # how many texts were encoded (to check what gets re-encoded)

    def bucket(self, word: str) -> int:
        digest = hashlib.blake2b(f"{self.fingerprint}:{word}".encode(), digest_size=4).digest()
        return int.from_bytes(digest, "big") % self.dim

    def encode(self, texts, batch_size: int = 256, show_progress=False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, self.bucket(word)] += 1.0
            if not out[row].any():
                out[row, 0] = 1.0
        self.encoded += len(texts)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def unknown_fraction(self, texts) -> list[float]:
        """Its vocabulary is ASCII: each text's share of words and marks that are not (1.0 for none)."""
        shares = []
        for tokens in (re.findall(r"\w+|[^\w\s]", text.lower()) for text in texts):
            shares.append(sum(not token.isascii() for token in tokens) / len(tokens) if tokens else 1.0)
        return shares
