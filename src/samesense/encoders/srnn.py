"""Sliced recurrent encoder (Yu & Liu, "Sliced Recurrent Neural Networks", COLING 2018).

A sentence of up to max_len tokens is cut into `slices` equal parts, each part again, `levels`
times over: slices**levels minimal subsequences of slice_len = ceil(max_len / slices**levels)
tokens. The level-0 GRU reads every minimal subsequence of every sentence at once, as one batch;
its final states, `slices` at a time, are the sequences the level-1 GRU reads, and so on up to one
vector a sentence (`final_state`; pooling "last", the default for this encoder). A plain GRU takes
max_len steps one after another; this takes slice_len + slices * levels, each over a wider batch.

The cut is fixed by max_len, not by the longest sentence of a batch, and every level reads each
sequence within its own length (packed; a slice past a sentence's end is empty and never read, and
an upper sequence holds only its non-empty children, which come first), so padding never reaches a
vector: a sentence encodes the same alone or beside longer ones.

`token_embeddings` are the level-0 outputs (each slice read from a zero state), for max or mean
pooling if asked; they see only their own slice.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..bounds import DIM, SHARE, SLICE_LEVELS, SLICES, TOKENS, VOCAB
from ..components import register
from ..errors import SamesenseError
from .base import Encoder, Features
from .glyph import GLYPH_SIZE_BOUNDS, GlyphEmbedding, check_glyph_settings, embed_tokens, glyph_settings, glyph_shapes


@register
class SlicedGRUEncoder(Encoder):
    type = "srnn"
    default_pooling = "last"  # the top level's one vector a sentence
    bounds = {"embed_dim": DIM, "hidden_dim": DIM, "dropout": SHARE, "max_len": TOKENS, "slices": SLICES,
              "slice_levels": SLICE_LEVELS, "vocab_size": VOCAB, "glyph_size": GLYPH_SIZE_BOUNDS}

    def __init__(self, vocab_size: int, max_len: int = 32, embed_dim: int = 128, hidden_dim: int = 128,
                 slices: int = 4, slice_levels: int = 2, dropout: float = 0.0,
                 glyph_size: int = 0):
        super().__init__()
        if slices ** slice_levels > max_len:  # minimal subsequences of less than a token: some always empty
            raise SamesenseError(f"slices**slice_levels ({slices}**{slice_levels}) must be at most max_len ({max_len})")
        self.vocab_size, self.max_len, self.embed_dim, self.hidden_dim = vocab_size, max_len, embed_dim, hidden_dim
        self.slices, self.slice_levels, self.dropout_p = slices, slice_levels, dropout
        self.pieces = slices ** slice_levels
        self.slice_len = math.ceil(max_len / self.pieces)
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.glyph_size = glyph_size  # 0: no glyphs
        self.glyphs = GlyphEmbedding(glyph_size, embed_dim) if glyph_size else None
        self.dropout = nn.Dropout(dropout)
        self.grus = nn.ModuleList([nn.GRU(embed_dim if level == 0 else hidden_dim, hidden_dim, batch_first=True)
                                   for level in range(slice_levels + 1)])
        self.dim = hidden_dim

    @classmethod
    def weight_shapes(cls, vocab_size: int, embed_dim: int, hidden_dim: int, slice_levels: int, glyph_size: int,
                      **_) -> dict:
        shapes = {"embedding.weight": (vocab_size, embed_dim), **(glyph_shapes(glyph_size, embed_dim) if glyph_size else {})}
        for level in range(slice_levels + 1):
            inputs = embed_dim if level == 0 else hidden_dim
            shapes[f"grus.{level}.weight_ih_l0"] = (3 * hidden_dim, inputs)
            shapes[f"grus.{level}.weight_hh_l0"] = (3 * hidden_dim, hidden_dim)
            shapes[f"grus.{level}.bias_ih_l0"] = (3 * hidden_dim,)
            shapes[f"grus.{level}.bias_hh_l0"] = (3 * hidden_dim,)
        return shapes

    @classmethod
    def settings_from(cls, model) -> dict:
        return {"max_len": model.max_len, "embed_dim": model.embed_dim, "hidden_dim": model.hidden_dim,
                "slices": model.slices, "slice_levels": model.slice_levels, "dropout": model.dropout,
                **glyph_settings(model)}

    @classmethod
    def check_settings(cls, model) -> None:
        if model.bidirectional or model.num_layers > 1:
            raise SamesenseError("the srnn encoder is one direction, one GRU a level: leave out --bidirectional "
                                 "and --layers")
        if model.slices ** model.slice_levels > model.max_len:
            raise SamesenseError(f"--slices {model.slices} --slice-levels {model.slice_levels} make "
                                 f"{model.slices ** model.slice_levels} minimal subsequences, more than --max-len "
                                 f"{model.max_len} tokens")
        check_glyph_settings(model)

    def forward(self, features: Features) -> Features:
        if torch.onnx.is_in_onnx_export():
            raise SamesenseError("an srnn encoder does not export to ONNX yet (its packed levels do not trace)")
        ids, lengths = features["input_ids"], features["lengths"].cpu()
        batch, width = ids.shape
        if width > self.pieces * self.slice_len:
            raise SamesenseError(f"the srnn encoder reads at most {self.max_len} tokens, got {width}")
        vectors = self.dropout(embed_tokens(self, features))
        tokens = vectors.new_zeros(batch, self.pieces * self.slice_len, self.embed_dim)
        tokens[:, :width] = vectors
        tokens = tokens.view(batch * self.pieces, self.slice_len, -1)
        # each minimal subsequence's own length: the sentence's tokens that fall in it
        starts = torch.arange(self.pieces) * self.slice_len
        sizes = (lengths[:, None] - starts[None, :]).clamp(0, self.slice_len).reshape(-1)
        outputs, states = self.read(self.grus[0], tokens, sizes)
        features["token_embeddings"] = outputs.view(batch, -1, self.hidden_dim)[:, :width]
        for level in range(1, self.slice_levels + 1):
            sizes = (sizes.view(-1, self.slices) > 0).sum(1)  # non-empty children: a prefix of them
            _, states = self.read(self.grus[level], states.view(-1, self.slices, self.hidden_dim), sizes)
        features["final_state"] = states.view(batch, self.hidden_dim)
        return features

    def read(self, gru: nn.GRU, sequences: torch.Tensor, sizes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """gru over each sequence's first `size` steps (all at once, packed): (outputs zero past
        each end, final states), zero for an empty sequence."""
        outputs = sequences.new_zeros(*sequences.shape[:2], self.hidden_dim)
        states = sequences.new_zeros(len(sequences), self.hidden_dim)
        read = torch.nonzero(sizes > 0).squeeze(1)
        if len(read):
            packed = pack_padded_sequence(sequences[read.to(sequences.device)], sizes[read], batch_first=True,
                                          enforce_sorted=False)
            out, hidden = gru(packed)
            unpacked, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=sequences.shape[1])
            index = read.to(sequences.device)
            outputs = outputs.index_copy(0, index, unpacked)
            states = states.index_copy(0, index, hidden[-1])
        return outputs, states

    def config(self) -> dict:
        return {"vocab_size": self.vocab_size, "max_len": self.max_len, "embed_dim": self.embed_dim,
                "hidden_dim": self.hidden_dim, "slices": self.slices, "slice_levels": self.slice_levels,
                "dropout": self.dropout_p, **({"glyph_size": self.glyph_size} if self.glyph_size else {})}
