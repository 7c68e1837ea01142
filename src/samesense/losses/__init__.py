"""Losses by name: the margin-softmax family (with the cosine head) and the pair/triplet/
contrastive baselines (over batches of groups), plus regularisers and miners kept apart."""

from __future__ import annotations

import inspect

from ..errors import SamesenseError
from .base import Loss, LossTerm
from .distil import DistillationTerm
from .margin import (AAMSoftmaxLoss, AMSoftmaxLoss, ASoftmaxLoss, MarginSoftmaxLoss,
                     SimplerASoftmaxLoss, chebyshev)
from .pairwise import BatchHardTripletLoss, EmbeddingLoss, InBatchContrastiveLoss, PairClassificationLoss
from .regularizers import CenterLoss, OrthogonalPenalty, orthogonal_penalty

LOSSES = {cls.name: cls for cls in (MarginSoftmaxLoss, AMSoftmaxLoss, AAMSoftmaxLoss, ASoftmaxLoss,
                                    SimplerASoftmaxLoss, InBatchContrastiveLoss, BatchHardTripletLoss,
                                    PairClassificationLoss)}


def make_loss(name: str, dim: int | None = None, **settings):
    """A loss by name. Settings left as None take the loss's own defaults; `dim` (the sentence
    vector's size) goes to the losses whose constructor asks for it (those with layers of their own)."""
    if name not in LOSSES:
        raise SamesenseError(f"unknown loss {name!r}: choose from {', '.join(LOSSES)}")
    cls = LOSSES[name]
    settings = {k: v for k, v in settings.items() if v is not None}
    if "dim" in inspect.signature(cls).parameters:
        settings["dim"] = dim
    try:
        return cls(**settings)
    except (TypeError, ValueError) as err:
        raise SamesenseError(f"bad settings for loss {name!r}: {err}") from None


__all__ = ["LOSSES", "Loss", "LossTerm", "DistillationTerm", "OrthogonalPenalty", "make_loss", "MarginSoftmaxLoss", "AMSoftmaxLoss", "AAMSoftmaxLoss",
           "ASoftmaxLoss", "SimplerASoftmaxLoss", "InBatchContrastiveLoss", "BatchHardTripletLoss",
           "PairClassificationLoss", "EmbeddingLoss", "CenterLoss", "orthogonal_penalty", "chebyshev"]
