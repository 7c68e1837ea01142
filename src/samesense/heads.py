"""The classification head used in training: one unit-norm centre per group, no bias.

forward(z, labels) gives (logits, targets): cos(theta_i) = <z, c_i/|c_i|> for every class i, and
each row's column in them. A head that scores only a sample of the classes (millions of groups)
returns that sample's cosines and each row's column among them; a margin loss reads `targets`
and never needs to know which. Only the encoder is kept after training; the head is thrown away (its
centres are still checkpointed, so training can resume).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CosineHead(nn.Module):
    def __init__(self, num_classes: int, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, dim) / dim**0.5)

    def centres(self) -> torch.Tensor:
        return F.normalize(self.weight, dim=-1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # (W z^T)^T scaled by 1/|w_i| equals z @ centres().t(), without normalising every centre
        # and differentiating through that (a pass over classes x dim each way): ~15% faster.
        inverse_norm = self.weight.norm(dim=1).clamp_min(1e-12).reciprocal()
        return (self.weight @ z.t()).t() * inverse_norm, labels
