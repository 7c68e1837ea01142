"""A static encoder: a table of token vectors and a weight per token, no network over the sentence.

A sentence's vector is the mean of its tokens' weighted vectors (then L2-normalised, as every
model's): model2vec's static embeddings, so encoding is a lookup and a sum. The table can start
from a teacher, each token's vector being the teacher's vector of that token alone, reduced by PCA,
and its weight from the token's frequency (train/token_teacher.py: `--init-from TEACHER`); training
with the margin losses then moves the rows of the tokens the training text holds, and the others
keep what the teacher gave them.

    token_embeddings[i, t] = table[id] * weight[id]      (pooling "mean" makes the sentence vector)
"""

from __future__ import annotations

import torch
from torch import nn

from ..components import register
from ..errors import SamesenseError
from ..runtime.saved_static import SavedStatic
from ..runtime.static_table import StaticTable
from ..runtime.teacher_tokenizer import TeacherTokenizer  # registered: a static model may read the teacher's tokens
from .base import Encoder, Features


@register
class StaticEncoder(Encoder):
    type = "static"
    default_pooling = "mean"
    starts_from_teacher = True
    bounds = StaticTable.bounds  # the numpy loader (runtime/static_model.py) checks a folder against the same
    # A table's rows are words (and for Chinese jieba's words beside their characters: the characters alone
    # cannot tell 银行 from 行银). From random rows it moves slowly at 1e-3 (banking77 dev, 6 epochs: 1e-3
    # 0.712, 3e-3 0.784, 1e-2 0.823); a teacher's start keeps 1e-3, which the English figures were measured with.
    default_tokenizer = "jieba"

    @classmethod
    def default_lr(cls, model) -> float:
        return 1e-3 if model.init_from or model.start_from else 1e-2

    def __init__(self, vocab_size: int, dim: int = 256, dropout: float = 0.0):
        super().__init__()
        self.vocab_size, self.dim, self.dropout_p = vocab_size, dim, dropout
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.token_weight = nn.Parameter(torch.ones(vocab_size))
        self.dropout = nn.Dropout(dropout)  # on the token vectors, in training only (as the GRU's)

    @classmethod
    def settings_from(cls, model) -> dict:
        dim = SavedStatic(model.start_from).table.dim if model.start_from else model.embed_dim
        return {"dim": dim, "dropout": model.dropout}

    @classmethod
    def check_settings(cls, model) -> None:
        if model.glyphs:
            raise SamesenseError("--glyphs is for the gru and srnn encoders (--encoder gru), not static")
        if model.start_from and (model.init_from or model.tokenizer):
            raise SamesenseError("--start-from keeps the saved model's tokenizer and table: leave out "
                                 + ("--init-from" if model.init_from else "--tokenizer"))
        if model.start_from:
            SavedStatic(model.start_from)  # a folder that is no static model: refused before the data are read
        if model.tokenizer_kind == TeacherTokenizer.type and not model.init_from:
            raise SamesenseError("--tokenizer teacher reads the vocabulary of the teacher --init-from names: give "
                                 "--init-from TEACHER")

    @classmethod
    def tokenizer_settings(cls, model, train_sentences: int) -> dict:
        """With --start-from, the saved model's (its vocabulary: train_vocabulary); with --tokenizer
        teacher, the --init-from teacher's own (its normaliser, not ours); else ours, fitted on the
        training text."""
        if model.start_from:
            tokenizer = SavedStatic(model.start_from).tokenizer
            own_file = {"file": str(tokenizer.path)} if isinstance(tokenizer, TeacherTokenizer) else {}
            return {"type": tokenizer.type, **tokenizer.config(), **own_file}
        if model.tokenizer_kind == TeacherTokenizer.type:
            return {"type": TeacherTokenizer.type, "source": model.init_from, "max_len": model.max_len,
                    "normalize": False}
        return super().tokenizer_settings(model, train_sentences)

    @classmethod
    def train_vocabulary(cls, model) -> list[str] | None:
        """The vocabulary a run keeps as it is rather than fitting one: the --start-from model's."""
        return SavedStatic(model.start_from).tokenizer.tokens if model.start_from else None

    @classmethod
    def weight_shapes(cls, vocab_size: int, dim: int, **_) -> dict[str, tuple[int, ...]]:
        return {"embedding.weight": (vocab_size, dim), "token_weight": (vocab_size,)}

    @torch.no_grad()
    def start_from(self, table: torch.Tensor, weights: torch.Tensor) -> None:
        """Rows and weights to start from (a teacher's, per token); the padding row stays zero."""
        if table.shape != self.embedding.weight.shape or weights.shape != self.token_weight.shape:
            raise SamesenseError(f"a start of {tuple(table.shape)} rows for a static table of "
                                 f"{tuple(self.embedding.weight.shape)}")
        self.embedding.weight.copy_(table)
        self.embedding.weight[0] = 0.0
        self.token_weight.copy_(weights)

    def start_from_saved(self, path: str) -> None:
        """Start from a saved static model's rows and weights (`--start-from`: its tokenizer is the
        run's already)."""
        saved = SavedStatic(path)
        if saved.table.dim != self.dim or saved.table.vocab_size != self.vocab_size:
            raise SamesenseError(f"{path}: a table of {saved.table.vocab_size} x {saved.table.dim}, not the run's "
                                 f"{self.vocab_size} x {self.dim}")
        rows, weights = saved.table_parts()
        self.start_from(torch.from_numpy(rows).to(self.embedding.weight), torch.from_numpy(weights).to(self.token_weight))

    def forward(self, features: Features) -> Features:
        ids = features["input_ids"]
        vectors = self.embedding(ids) * self.token_weight[ids].unsqueeze(-1)
        features["token_embeddings"] = self.dropout(vectors)
        return features

    def config(self) -> dict:
        return {"vocab_size": self.vocab_size, "dim": self.dim, "dropout": self.dropout_p}


def started_from(saved: SavedStatic) -> dict:
    """What a model trained --start-from keeps of its start: its folder and fingerprint (`faq learn`
    fine-tunes that start again, not its own last model)."""
    return {"started_from": str(saved.folder.resolve()), "started_from_fingerprint": saved.fingerprint}
