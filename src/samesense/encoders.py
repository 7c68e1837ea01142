"""Sentence encoders: padded token ids and lengths in, one vector per sentence out.

An encoder does not normalise; the model around it does, so every encoder gives unit vectors.
Encoders are chosen by name from a config (`ENCODERS`), and `config()` gives back the keyword
arguments that rebuild the same shape, which is what a saved model stores.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .data import SamesenseError


class Encoder(nn.Module):
    name = ""
    dim: int

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids: (batch, time) int64, padded with 0; lengths: (batch,) int64 on the CPU."""
        raise NotImplementedError

    def config(self) -> dict:
        raise NotImplementedError


class GRUEncoder(Encoder):
    """Embedding + GRU; the sentence vector is the max of the last layer's outputs over the
    sentence's tokens (default), its final hidden state (the article's choice), or their mean.
    Max pooling ranks better here: the final state forgets the start of a long sentence.

    The sequence is packed, so the GRU stops at each sentence's own end: padding never reaches
    the vector, and a sentence encodes the same alone or beside longer ones.
    """

    name = "gru"
    POOLINGS = ("max", "last", "mean")

    def __init__(self, vocab_size: int, embed_dim: int = 128, hidden_dim: int = 128,
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
                 pooling: str = "max"):
        super().__init__()
        if pooling not in self.POOLINGS:
            raise SamesenseError(f"pooling must be one of {', '.join(self.POOLINGS)}, got {pooling!r}")
        self.vocab_size, self.embed_dim, self.hidden_dim = vocab_size, embed_dim, hidden_dim
        self.num_layers, self.bidirectional, self.dropout_p = num_layers, bidirectional, dropout
        self.pooling = pooling
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                          bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.dim = hidden_dim * (2 if bidirectional else 1)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(self.dropout(self.embedding(ids)), lengths.cpu(),
                                      batch_first=True, enforce_sorted=False)
        outputs, hidden = self.gru(packed)  # hidden: (layers * directions, batch, hidden)
        if self.pooling == "last":
            directions = 2 if self.bidirectional else 1
            return torch.cat(list(hidden[-directions:]), dim=-1)
        padded, _ = pad_packed_sequence(outputs, batch_first=True)  # (batch, longest, dim)
        inside = (torch.arange(padded.shape[1])[None, :] < lengths.cpu()[:, None]).to(padded.device)
        if self.pooling == "max":
            return padded.masked_fill(~inside[..., None], float("-inf")).max(dim=1).values
        return (padded * inside[..., None]).sum(1) / lengths.to(padded.device)[:, None]

    def config(self) -> dict:
        return {"type": self.name, "embed_dim": self.embed_dim, "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers, "bidirectional": self.bidirectional,
                "dropout": self.dropout_p, "pooling": self.pooling}


ENCODERS: dict[str, type[Encoder]] = {cls.name: cls for cls in (GRUEncoder,)}


def make_encoder(config: dict, vocab_size: int) -> Encoder:
    config = dict(config)
    kind = config.pop("type")
    if kind not in ENCODERS:
        raise SamesenseError(f"unknown encoder {kind!r}: choose from {', '.join(ENCODERS)}")
    try:
        return ENCODERS[kind](vocab_size, **config)
    except TypeError as err:
        raise SamesenseError(f"bad settings for encoder {kind!r}: {err}") from None
