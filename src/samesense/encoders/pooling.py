"""Pooling: the token outputs of an encoder become one sentence vector.

max (default): the largest value of each dimension over the sentence's tokens; it ranks better
here than the final state, which forgets the start of a long sentence (docs/benchmarks.md).
last: the encoder's final state (the article's choice; a recurrent encoder gives one).
mean: the average over the sentence's tokens. cls: the first token's output (BERT-style models).
"""

from __future__ import annotations

from ..components import register
from ..errors import SamesenseError
from .base import Features, TorchComponent

POOLINGS = ("max", "last", "mean", "cls")


@register
class Pooling(TorchComponent):
    role, type = "pooling", "pooling"
    bounds = {"mode": {"choices": lambda: list(POOLINGS)}}

    def __init__(self, mode: str = "max"):
        super().__init__()
        if mode not in POOLINGS:
            raise SamesenseError(f"pooling must be one of {', '.join(POOLINGS)}, got {mode!r}")
        self.mode = mode

    @classmethod
    def weight_shapes(cls, **_) -> dict[str, tuple[int, ...]]:
        return {}  # no tensors

    def forward(self, features: Features) -> Features:
        if self.mode == "last":
            if "final_state" not in features:
                raise SamesenseError("pooling 'last' needs an encoder with a final state (a recurrent one)")
            features["sentence_embedding"] = features["final_state"]
            return features
        tokens = features["token_embeddings"]  # (batch, longest, dim)
        if self.mode == "cls":
            features["sentence_embedding"] = tokens[:, 0]
            return features
        inside = features["attention_mask"][:, : tokens.shape[1], None].to(tokens.device)
        if self.mode == "max":
            features["sentence_embedding"] = tokens.masked_fill(~inside, float("-inf")).max(dim=1).values
        else:
            features["sentence_embedding"] = (tokens * inside).sum(1) / features["lengths"].to(tokens.device)[:, None]
        return features

    def config(self) -> dict:
        return {"mode": self.mode}
