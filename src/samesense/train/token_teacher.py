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
from .teacher import cache_file, resolve_teacher, teacher_vectors

SIF = 1e-3
FIRST_TOKEN = 2  # ids 0 and 1 are <pad> and <unk>


def reduced(vectors: np.ndarray, dim: int) -> np.ndarray:
    """(n, dim): the vectors, centred, on their `dim` principal axes (zeros past the rank)."""
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
    if dim > teacher.dim:  # before the teacher's pass, which may take minutes
        raise SamesenseError(f"token vectors of {dim} dimensions: more than the teacher's {teacher.dim}")
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
    table, weights = token_start(resolve_teacher(cfg, cfg.model.init_from), data.tokenizer, data.row_texts,
                                 encoder.dim, cache_file(cfg, run), cfg.run.show_progress)
    encoder.start_from(table.to(encoder.embedding.weight), weights.to(encoder.token_weight))


def sentences_of(path: str) -> list[str]:
    """The sentences of a groups, pairs or plain text file (one sentence a line)."""
    from ..data import load_groups, read_sentences, sniff_format

    return load_groups([path], "pairs").sentences if sniff_format(path) == "pairs" else read_sentences(path)


def distil_static(teacher_spec: str, vocab_from: Sequence[str], out: Path, dim: int, tokenizer: dict,
                  cache_path: Path, threads: int | None = None, show_progress: bool | None = None):
    """A static model made from a teacher alone, no training (`samesense distil`): the tokenizer fitted
    on the files' sentences, each token's start as token_start makes it; saved to `out`."""
    from ..encoder_spec import resolve_encoder
    from ..encoders import Pooling, StaticEncoder
    from ..model import SentenceModel
    from ..tokenize import make_tokenizer

    texts = [sentence for path in vocab_from for sentence in sentences_of(path)]
    if not texts:
        raise SamesenseError(f"{', '.join(vocab_from)}: no sentences to take a vocabulary from")
    fitted = make_tokenizer(tokenizer).fit(texts)
    teacher = resolve_encoder(teacher_spec, threads=threads, need_vectors="a teacher")
    encoder = StaticEncoder(fitted.num_ids, dim)
    encoder.start_from(*token_start(teacher, fitted, texts, dim, cache_path, show_progress))
    model = SentenceModel(fitted, [encoder, Pooling("mean")],
                          {"distilled_from": teacher_spec, "teacher_fingerprint": teacher.fingerprint,
                           "vocab_from": list(vocab_from), "vocab_sentences": len(texts)})
    model.save(out)
    return model
