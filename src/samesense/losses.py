"""Classification heads and margin-softmax losses.

Training treats every group as a class. The head holds one centre per class and gives the cosine
between each sentence vector and every centre (unit-norm centres, no bias). A margin loss then
changes only the target class's logit, psi(theta_t), and scales all logits by s:

    loss = logsumexp_j(s * l_j) - s * psi(theta_t),   l_j = cos(theta_j) for j != t, l_t = psi(theta_t)

Labels stay integers: the target cosine is gathered and written back with scatter, so no one-hot
matrix of (batch, classes) is ever built, and logsumexp keeps it stable at s = 30.

Each loss is a small class that overrides `target_logit` and nothing else.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .data import SamesenseError


class CosineHead(nn.Module):
    """Class centres c_i (rows of `weight`); forward gives cos(theta_i) = <z, c_i / |c_i|>."""

    def __init__(self, num_classes: int, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, dim) / dim**0.5)

    def centres(self) -> torch.Tensor:
        return F.normalize(self.weight, dim=-1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.centres().t()


class MarginSoftmaxLoss(nn.Module):
    """Normalised softmax: psi(theta) = cos(theta), logits scaled by s. The base of the family."""

    name = "softmax"

    def __init__(self, scale: float = 30.0, margin: float = 0.0):
        super().__init__()
        self.scale, self.margin = scale, margin

    def target_logit(self, cos_t: torch.Tensor) -> torch.Tensor:
        """psi(theta_t), from the target cosine; the one thing a margin loss changes."""
        return cos_t

    def forward(self, cos: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """cos: (batch, classes) cosines from the head; labels: (batch,) integer class ids."""
        index = labels.view(-1, 1)
        psi = self.target_logit(cos.gather(1, index))
        logits = self.scale * cos.scatter(1, index, psi)
        return (torch.logsumexp(logits, dim=1) - self.scale * psi.squeeze(1)).mean()

    def extra_repr(self) -> str:
        return f"scale={self.scale}, margin={self.margin}"


class AMSoftmaxLoss(MarginSoftmaxLoss):
    """Additive margin (AM-Softmax, CosFace): psi(theta) = cos(theta) - m."""

    name = "am-softmax"

    def __init__(self, scale: float = 30.0, margin: float = 0.35):
        super().__init__(scale, margin)

    def target_logit(self, cos_t: torch.Tensor) -> torch.Tensor:
        return cos_t - self.margin


LOSSES: dict[str, type[MarginSoftmaxLoss]] = {cls.name: cls for cls in (MarginSoftmaxLoss, AMSoftmaxLoss)}


def make_loss(name: str, **settings) -> MarginSoftmaxLoss:
    """A loss by name; settings left as None take the loss's own defaults."""
    if name not in LOSSES:
        raise SamesenseError(f"unknown loss {name!r}: choose from {', '.join(LOSSES)}")
    return LOSSES[name](**{k: v for k, v in settings.items() if v is not None})
