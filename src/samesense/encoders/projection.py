"""An optional linear map of the sentence vector to another size: to match a teacher's vectors
when distilling, or to make a smaller index."""

from __future__ import annotations

from torch import nn

from ..components import register
from .base import Features, TorchComponent


@register
class Projection(TorchComponent):
    role, type = "projection", "linear"

    def __init__(self, in_dim: int, out_dim: int, bias: bool = False):
        super().__init__()
        self.in_dim, self.out_dim, self.bias = in_dim, out_dim, bias
        self.linear = nn.Linear(in_dim, out_dim, bias=bias)
        self.dim = out_dim

    def forward(self, features: Features) -> Features:
        features["sentence_embedding"] = self.linear(features["sentence_embedding"])
        return features

    def config(self) -> dict:
        return {"in_dim": self.in_dim, "out_dim": self.out_dim, "bias": self.bias}
