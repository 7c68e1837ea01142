"""The article's encoder: token embeddings and a GRU, read over each sentence's own tokens.

Gives every token's output (`token_embeddings`, zero past a sentence's end) and the last layer's
final state (`final_state`); a pooling component makes one vector of them. The sequence is packed,
so the GRU stops at each sentence's own end: padding never reaches a vector, and a sentence
encodes the same alone or beside longer ones.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..components import MAX_VOCAB, register, training_bounds
from .base import Features, TorchComponent


@register
class GRUEncoder(TorchComponent):
    role, type = "encoder", "gru"
    bounds = {**training_bounds("embed_dim", "hidden_dim", "num_layers", "dropout"),
              "vocab_size": {"at_least": 1, "at_most": MAX_VOCAB}}

    def __init__(self, vocab_size: int, embed_dim: int = 128, hidden_dim: int = 128,
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0):
        super().__init__()
        self.vocab_size, self.embed_dim, self.hidden_dim = vocab_size, embed_dim, hidden_dim
        self.num_layers, self.bidirectional, self.dropout_p = num_layers, bidirectional, dropout
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)  # on token embeddings, in training only
        self.gru = nn.GRU(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                          bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.dim = hidden_dim * (2 if bidirectional else 1)

    @classmethod
    def weight_shapes(cls, vocab_size: int, embed_dim: int, hidden_dim: int, num_layers: int, bidirectional: bool,
                      **_) -> dict[str, tuple[int, ...]]:
        """nn.Embedding's and nn.GRU's tensors, named as in their state_dict."""
        shapes = {"embedding.weight": (vocab_size, embed_dim)}
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            inputs = embed_dim if layer == 0 else hidden_dim * directions  # a layer reads the one below
            for suffix in ("", "_reverse")[:directions]:
                shapes[f"gru.weight_ih_l{layer}{suffix}"] = (3 * hidden_dim, inputs)  # 3 gates
                shapes[f"gru.weight_hh_l{layer}{suffix}"] = (3 * hidden_dim, hidden_dim)
                shapes[f"gru.bias_ih_l{layer}{suffix}"] = (3 * hidden_dim,)
                shapes[f"gru.bias_hh_l{layer}{suffix}"] = (3 * hidden_dim,)
        return shapes

    def forward(self, features: Features) -> Features:
        lengths = features["lengths"].cpu()
        packed = pack_padded_sequence(self.dropout(self.embedding(features["input_ids"])), lengths,
                                      batch_first=True, enforce_sorted=False)
        outputs, hidden = self.gru(packed)  # hidden: (layers * directions, batch, hidden)
        directions = 2 if self.bidirectional else 1
        features["final_state"] = torch.cat(list(hidden[-directions:]), dim=-1)
        features["token_embeddings"], _ = pad_packed_sequence(outputs, batch_first=True)
        return features

    def config(self) -> dict:
        return {"vocab_size": self.vocab_size, "embed_dim": self.embed_dim, "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers, "bidirectional": self.bidirectional, "dropout": self.dropout_p}
