"""Terms added to a loss: center loss and BigGAN's off-diagonal orthogonal regularisation.

Each is a LossTerm, called on the step's Batch like a loss; the step adds every term in its list."""

from __future__ import annotations

import torch
from torch import nn

from ..train.batch import Batch
from .base import LossTerm


class CenterLoss(LossTerm):
    """Center loss (Wen et al., 2016), an auxiliary term: weight * 1/2 |z - c_y|^2, pulling every
    sentence towards a learned centre of its group. Its centres are its own, learned with the rest
    by the optimizer; rows with a negative label (hard negatives) belong to no group and are skipped."""

    name = "center"

    def __init__(self, num_classes: int, dim: int, weight: float = 0.01):
        super().__init__()
        self.weight = weight
        self.centres = nn.Parameter(torch.zeros(num_classes, dim))

    def forward(self, batch: Batch) -> torch.Tensor:
        z, labels = batch.embeddings, batch.labels
        keep = labels >= 0
        if not keep.any():
            return z.sum() * 0.0
        diff = z[keep] - self.centres[labels[keep]]
        return self.weight * 0.5 * (diff * diff).sum(1).mean()


def orthogonal_penalty(centres: torch.Tensor, beta: float) -> torch.Tensor:
    """BigGAN's off-diagonal orthogonal regularisation, beta * ||W W^T * (1 - I)||_F^2, of the
    unit-norm class centres (their lengths play no part in the logits, so only directions are
    regularised).

    W W^T is classes x classes (25,000^2 floats for the benchmark), so it is never built:
    ||W W^T||_F^2 = ||W^T W||_F^2, a dim x dim matrix, and the diagonal part is sum_i |w_i|^4.
    """
    gram = centres.t() @ centres
    diagonal = (centres * centres).sum(1)
    return beta * ((gram * gram).sum() - (diagonal * diagonal).sum())


class OrthogonalPenalty(LossTerm):
    """orthogonal_penalty on a head's class centres, as a term of the loss."""

    name = "orthogonal"

    def __init__(self, head: nn.Module, beta: float):
        super().__init__()
        self.head_centres = head.centres  # a bound method: the head stays a module of its own
        self.beta = beta

    def forward(self, batch: Batch) -> torch.Tensor:
        return orthogonal_penalty(self.head_centres(), self.beta)
