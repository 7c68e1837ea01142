"""A static encoder's start from a teacher, token by token (model2vec's distillation, `train
--encoder static --init-from TEACHER`): each token of the vocabulary encoded alone by the teacher,
the vectors reduced by PCA to the table's size, each token weighted by how rare it is in the training
text (SIF: a / (a + p(token)), a = 1e-3: frequent tokens, which say little, count less).

The teacher's vectors go through the run's teacher cache (teacher.py: keyed by teacher and text),
so a killed pass resumes and a token is never encoded twice. The rows the vocabulary does not name
(padding, <unk>, the unknown buckets) start at zero with weight 1: training fills the buckets.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from ..errors import SamesenseError
from ..tokenize import Tokenizer
from .teacher import CACHE_FILE, teacher_vectors

SIF = 1e-3
FIRST_TOKEN = 2  # ids 0 and 1 are <pad> and <unk>


def reduced(vectors: np.ndarray, dim: int) -> np.ndarray:
    """(n, dim): the vectors, centred, on their `dim` principal axes (zeros past the rank)."""
    if dim > vectors.shape[1]:
        raise SamesenseError(f"--embed-dim {dim}: more than the teacher's {vectors.shape[1]} dimensions")
    centred = vectors - vectors.mean(0, keepdims=True)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    out = np.zeros((len(vectors), dim), np.float32)
    keep = min(dim, len(axes))
    out[:, :keep] = centred @ axes[:keep].T
    return out


def sif_weights(tokenizer: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    """a / (a + p) for each vocabulary token, p its share of the tokens of `texts`."""
    counts = Counter(token for text in texts for token in tokenizer.tokens_of(text))
    total = max(sum(counts.values()), 1)
    shares = np.array([counts[token] / total for token in tokenizer.tokens[FIRST_TOKEN:]], dtype=np.float64)
    return (SIF / (SIF + shares)).astype(np.float32)


def token_start(teacher, tokenizer: Tokenizer, texts: Sequence[str], dim: int, cache_path: Path,
                show_progress: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(table, weights) to start a static encoder of `dim` from: one row and weight per id."""
    words = tokenizer.tokens[FIRST_TOKEN:]
    if not words:
        raise SamesenseError("--init-from: the vocabulary is empty (no token seen --min-count times)")
    vectors = teacher_vectors(teacher, words, cache_path, show_progress=show_progress)
    table = np.zeros((tokenizer.num_ids, dim), np.float32)
    weights = np.ones(tokenizer.num_ids, np.float32)
    table[FIRST_TOKEN: len(tokenizer.tokens)] = reduced(vectors, dim)
    weights[FIRST_TOKEN: len(tokenizer.tokens)] = sif_weights(tokenizer, texts)
    return torch.from_numpy(table), torch.from_numpy(weights)


def start_from_teacher(cfg, data, run: Path, encoder) -> None:
    """Start `encoder` (a StaticEncoder) from the teacher cfg.model.init_from names, its tokens'
    weights counted over the run's text (training and unlabeled sentences)."""
    from ..encoder_spec import resolve_encoder

    teacher = resolve_encoder(cfg.model.init_from, threads=cfg.run.threads, need_vectors="a teacher")
    folder = Path(cfg.distil.teacher_cache) if cfg.distil.teacher_cache else run
    table, weights = token_start(teacher, data.tokenizer, data.row_texts, encoder.dim, folder / CACHE_FILE,
                                 cfg.run.show_progress)
    encoder.start_from(table.to(encoder.embedding.weight), weights.to(encoder.token_weight))
