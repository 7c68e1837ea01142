"""An optional linear map of the sentence vector to another size: to match a teacher's vectors
when distilling, or to make a smaller index."""

from __future__ import annotations

from torch import nn

from ..bounds import DIM, WIDE_DIM
from ..components import register
from .base import Features, TorchComponent


@register
class Projection(TorchComponent):
    role, type = "projection", "linear"
    # in_dim: the vector before it, up to a bidirectional encoder's (twice the largest hidden size)
    bounds = {"in_dim": WIDE_DIM, "out_dim": DIM}

    def __init__(self, in_dim: int, out_dim: int, bias: bool = False):
        super().__init__()
        self.in_dim, self.out_dim, self.bias = in_dim, out_dim, bias
        self.linear = nn.Linear(in_dim, out_dim, bias=bias)
        self.dim = out_dim

    @classmethod
    def weight_shapes(cls, in_dim: int, out_dim: int, bias: bool) -> dict[str, tuple[int, ...]]:
        return {"linear.weight": (out_dim, in_dim), **({"linear.bias": (out_dim,)} if bias else {})}

    def forward(self, features: Features) -> Features:
        features["sentence_embedding"] = self.linear(features["sentence_embedding"])
        return features

    def config(self) -> dict:
        return {"in_dim": self.in_dim, "out_dim": self.out_dim, "bias": self.bias}
