"""Miners: which rows of a batch a pair or triplet loss compares.

A batch holds a few sentences of each of several groups (see samplers.group_batches); rows with
a negative label are hard negatives, which belong to no group and are never anyone's positive.
"""

from __future__ import annotations

import torch


def anchor_positive_pairs(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The first and second row of every group in the batch: (anchor rows, positive rows)."""
    first: dict[int, int] = {}
    anchors, positives = [], []
    for row, label in enumerate(labels.tolist()):
        if label < 0:
            continue
        if label not in first:
            first[label] = row
        elif first[label] >= 0:
            anchors.append(first[label])
            positives.append(row)
            first[label] = -1  # paired; later rows of the group are left to the candidates
    return torch.tensor(anchors, dtype=torch.long), torch.tensor(positives, dtype=torch.long)


def batch_hard(distances: torch.Tensor, labels: torch.Tensor):
    """For every row: its farthest same-group row and its nearest other-group row (Hermans et
    al., 2017). Returns (hardest positive distance, hardest negative distance, valid rows): valid
    rows belong to a group and have both a positive and a negative in the batch."""
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    positive = same & ~eye
    negative = ~same
    hardest_positive = distances.masked_fill(~positive, float("-inf")).max(dim=1).values
    hardest_negative = distances.masked_fill(~negative, float("inf")).min(dim=1).values
    valid = (labels >= 0) & positive.any(1) & negative.any(1)
    return hardest_positive, hardest_negative, valid


def random_negatives(labels: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """One random row of another group for each of `rows` (uses the global torch RNG, which the
    checkpoint saves, so a resumed run draws the same)."""
    other = labels[rows][:, None] != labels[None, :]
    weights = other.float()
    return torch.multinomial(weights, 1).squeeze(1)
