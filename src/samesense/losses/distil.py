"""Distillation: the student learns a teacher's geometry, a term added to the margin loss.

Two ways to learn it, one term (`objective`):
  cosine      the student's vector through a learned linear map to the teacher's size, pulled
              towards the teacher's vector: weight * mean(1 - cos(P z, t)). The map is the term's
              own (trained, checkpointed, thrown away with the head): the student keeps its size.
  similarity  the batch's similarity matrices made alike: weight * mean((z z^T - t t^T)^2) over the
              pairs of different rows. No map: only the teacher's relations between sentences
              are taught, which is what ranking reads.
Rows of every kind take part: labelled sentences, and the unlabeled ones (--unlabeled) for which
this is the only signal. The teacher is never needed after training.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..train.batch import Batch
from .base import LossTerm

OBJECTIVES = ("cosine", "similarity")


class DistillationTerm(LossTerm):
    name = "distil"

    def __init__(self, dim: int, teacher_dim: int, weight: float = 1.0, objective: str = "cosine"):
        super().__init__()
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
        self.weight, self.objective = weight, objective
        self.projection = nn.Linear(dim, teacher_dim, bias=False) if objective == "cosine" else None

    def forward(self, batch: Batch) -> torch.Tensor:
        z, teacher = batch.embeddings, batch.teacher
        if self.projection is not None:
            return self.weight * (1.0 - F.cosine_similarity(self.projection(z), teacher, dim=1)).mean()
        off_diagonal = ~torch.eye(len(z), dtype=torch.bool, device=z.device)
        difference = (z @ z.t() - teacher @ teacher.t())[off_diagonal]
        return self.weight * (difference * difference).mean()

    def extra_repr(self) -> str:
        return f"objective={self.objective}, weight={self.weight}"
