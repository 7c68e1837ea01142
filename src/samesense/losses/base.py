"""What every loss and every added term is: a module called on the step's Batch.

    loss(batch) -> scalar

A loss declares what it needs rather than the loop guessing: `needs_head` (it reads the head's
`logits` and `targets`), `batching` (any shuffled sentences, or batches of whole groups), and
`log_values()` for anything worth logging each epoch (A-Softmax's annealing lambda). A loss with
layers of its own that depend on the vector size takes `dim` in its constructor.
"""

from __future__ import annotations

import torch
from torch import nn

from ..train.batch import Batch


class Loss(nn.Module):
    name = ""
    needs_head = False  # reads batch.logits / batch.targets from a classification head
    batching = "sentences"  # "sentences": any shuffled rows; "groups": a few rows of each of several groups
    per_group = 2  # rows of a group in a batch, when batching by groups
    scale: float | None = None
    margin: float | None = None

    def forward(self, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def log_values(self) -> dict:
        """Values to log with each epoch's record."""
        return {}


class LossTerm(nn.Module):
    """A term added to the loss (center loss, orthogonal penalty): same call, weighted inside."""

    name = ""

    def forward(self, batch: Batch) -> torch.Tensor:
        raise NotImplementedError
