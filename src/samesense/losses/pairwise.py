"""The approaches the article argues against, trained on the same data as baselines: losses over
the sentence vectors of a batch of groups, with no classification head.

Batches hold `per_group` sentences of each of several groups (plus hard negatives, labelled < 0,
when a hard-negatives file is given), so every batch has positives to compare.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..train.batch import Batch
from .base import Loss
from .miners import anchor_positive_pairs, batch_hard, random_negatives


class EmbeddingLoss(Loss):
    """A loss over the batch's unit vectors and group labels; batches hold whole groups."""

    batching = "groups"

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.compute(batch.embeddings, batch.labels)

    def compute(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class InBatchContrastiveLoss(EmbeddingLoss):
    """InfoNCE with in-batch negatives (multiple-negatives ranking), symmetric.

    Each group gives an anchor and its positive; the anchor must pick its positive out of every
    other row of the batch (other groups' sentences and hard negatives), at temperature 1/s; the
    symmetric term makes each positive pick its anchor among the anchors too.
    """

    name = "contrastive"

    def __init__(self, scale: float = 20.0, symmetric: bool = True):
        super().__init__()
        self.scale, self.symmetric = scale, symmetric

    def compute(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        anchors, positives = anchor_positive_pairs(labels)
        is_anchor = torch.zeros(len(labels), dtype=torch.bool)
        is_anchor[anchors] = True
        candidates = torch.nonzero(~is_anchor).squeeze(1)  # positives, extra group rows, hard negatives
        logits = self.scale * z[anchors] @ z[candidates].t()
        target = (candidates[None, :] == positives[:, None]).float().argmax(1)
        # another row of the anchor's own group is not a negative: leave it out
        same_group = labels[anchors][:, None] == labels[candidates][None, :]
        same_group[torch.arange(len(anchors)), target] = False
        loss = F.cross_entropy(logits.masked_fill(same_group, float("-inf")), target)
        if self.symmetric:
            back = self.scale * z[positives] @ z[anchors].t()
            loss = (loss + F.cross_entropy(back, torch.arange(len(anchors)))) / 2
        return loss

    def extra_repr(self) -> str:
        return f"scale={self.scale}, symmetric={self.symmetric}"


class BatchHardTripletLoss(EmbeddingLoss):
    """Batch-hard triplet loss: for every sentence, its farthest same-group sentence must be
    closer than its nearest other-group sentence by a margin (cosine distance)."""

    name = "triplet"
    per_group = 4

    def __init__(self, margin: float = 0.3):
        super().__init__()
        self.margin = margin

    def compute(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        distances = 1.0 - z @ z.t()
        hardest_positive, hardest_negative, valid = batch_hard(distances, labels)
        if not valid.any():  # a batch of one group has no triplet; nothing to learn from it
            return z.sum() * 0.0
        return F.relu(hardest_positive - hardest_negative + self.margin)[valid].mean()

    def extra_repr(self) -> str:
        return f"margin={self.margin}"


class PairClassificationLoss(EmbeddingLoss):
    """Siamese pair classification: is (u, v) a paraphrase? A logistic layer on the symmetric
    features (|u - v|, u * v) of each group's anchor/positive pair and of a random other-group
    pair per anchor. Only the encoder is kept; it is used by cosine like every other model."""

    name = "pair"

    def __init__(self, dim: int):
        super().__init__()
        self.classifier = nn.Linear(2 * dim, 1)

    def logits(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.cat([(u - v).abs(), u * v], dim=-1)).squeeze(-1)

    def compute(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        anchors, positives = anchor_positive_pairs(labels)
        negatives = random_negatives(labels, anchors)
        logits = torch.cat([self.logits(z[anchors], z[positives]), self.logits(z[anchors], z[negatives])])
        targets = torch.cat([torch.ones(len(anchors)), torch.zeros(len(anchors))]).to(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, targets)
