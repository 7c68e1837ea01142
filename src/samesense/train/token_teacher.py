"""A static encoder's start from a teacher, token by token (model2vec's distillation, `train
--encoder static --init-from TEACHER`): each token of the vocabulary encoded alone by the teacher,
the vectors reduced by PCA to the table's size, each token weighted by how rare it is (SIF:
a / (a + p(token)): frequent tokens, which say little, count less): p from the training text with our
tokenizers (a = 1e-3), from the token's rank in the teacher's vocabulary with the teacher's own
(a = 1e-4; token_pass.py: how each token goes through the teacher).

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
from ..runtime.teacher_tokenizer import TeacherTokenizer
from ..tokenize import Tokenizer
from .teacher import cache_file, resolve_teacher, teacher_vectors
from .token_pass import UNUSED, TokenTeacher

SIF = 1e-3
# With the teacher's tokenizer, the shares come from the rank in its vocabulary (zipf_shares), not from
# the text: on qqp, clinc150 and banking77 dev, 1e-4 over Zipf shares gave mean top-1 0.842 against 0.834
# for 1e-3 over qqp train's token counts (clinc150's own counts fell to 0.79 there: a small set's
# frequent words are its topic words); 3e-4 gave 0.829, no weights 0.783. model2vec weights this way too.
ZIPF_SIF = 1e-4
FIRST_TOKEN = 2  # ids 0 and 1 are <pad> and <unk>


def reduced(vectors: np.ndarray, dim: int) -> np.ndarray:
    """(n, dim): the vectors, centred, on their `dim` principal axes (zeros past the rank). The axes
    from the (features x features) covariance when the rows outnumber the features: a teacher's
    30,000 tokens of 384 values take a second that way, half a minute by an SVD of the rows."""
    centred = (vectors - vectors.mean(0, keepdims=True)).astype(np.float64)
    out = np.zeros((len(vectors), dim), np.float32)
    if len(vectors) > vectors.shape[1]:
        variances, axes = np.linalg.eigh(centred.T @ centred)
        keep = min(dim, int((variances > variances.max() * 1e-10).sum()))
        out[:, :keep] = centred @ axes[:, ::-1][:, :keep]
        return out
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    keep = min(dim, len(axes))
    out[:, :keep] = centred @ axes[:keep].T
    return out


def sif_weights(tokenizer: Tokenizer, texts: Sequence[str]) -> np.ndarray:
    """a / (a + p) for each vocabulary token, p its share of the tokens of `texts`."""
    counts = Counter(token for text in texts for token in tokenizer.tokens_of(text))
    total = max(sum(counts.values()), 1)
    return sif(np.array([counts[token] / total for token in tokenizer.tokens[FIRST_TOKEN:]], dtype=np.float64))


def sif(shares: np.ndarray, coefficient: float = SIF) -> np.ndarray:
    return (coefficient / (coefficient + shares)).astype(np.float32)


def zipf_shares(count: int) -> np.ndarray:
    """Each token's share of text by Zipf's law from its rank, the teacher's vocabulary being listed
    about most frequent first (BERT's WordPiece, SentencePiece's): 1/(rank + 1), normalised."""
    inverse = 1.0 / np.arange(2, count + 2, dtype=np.float64)
    return inverse / inverse.sum()


def token_start(teacher, tokenizer: Tokenizer, texts: Sequence[str], dim: int, cache_path: Path,
                show_progress: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(table, weights) to start a static encoder of `dim` from: one row and weight per id. With the
    teacher's own tokenizer every token of its vocabulary gets a row (its [unused] ones aside); with
    ours, the vocabulary fitted on the text."""
    if dim > teacher.dim:  # before the teacher's pass, which may take minutes
        raise SamesenseError(f"token vectors of {dim} dimensions: more than the teacher's {teacher.dim}")
    table = np.zeros((tokenizer.num_ids, dim), np.float32)
    weights = np.ones(tokenizer.num_ids, np.float32)
    if isinstance(tokenizer, TeacherTokenizer):
        rows = np.array([i for i, token in enumerate(tokenizer.tokens) if i != tokenizer.pad_id
                         and not UNUSED.fullmatch(token)], dtype=np.int64)
        weights[rows] = sif(zipf_shares(len(rows)), ZIPF_SIF)
        teacher = TokenTeacher(teacher, tokenizer)
    else:
        rows = np.arange(FIRST_TOKEN, len(tokenizer.tokens))
        weights[rows] = sif_weights(tokenizer, texts)
    words = [tokenizer.tokens[i] for i in rows]
    if not words:
        raise SamesenseError("--init-from: the vocabulary is empty (no token seen --min-count times)")
    table[rows] = reduced(teacher_vectors(teacher, words, cache_path, show_progress=show_progress), dim)
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
    if not texts and tokenizer["type"] != "teacher":
        raise SamesenseError(f"{', '.join(vocab_from) or '--vocab-from'}: no sentences to take a vocabulary from")
    fitted = make_tokenizer(tokenizer).fit(texts)
    teacher = resolve_encoder(teacher_spec, threads=threads, need_vectors="a teacher")
    encoder = StaticEncoder(fitted.num_ids, dim)
    encoder.start_from(*token_start(teacher, fitted, texts, dim, cache_path, show_progress))
    model = SentenceModel(fitted, [encoder, Pooling("mean")],
                          {"distilled_from": teacher_spec, "teacher_fingerprint": teacher.fingerprint,
                           "vocab_from": list(vocab_from), "vocab_sentences": len(texts)})
    model.save(out)
    return model
