"""One training step's batch: what every loss, head and loss term reads.

The loop fills the inputs (rows, features, labels and, when distilling, teacher vectors); the step
adds what the model makes of them (embeddings), and a head adds its logits. One object means one
call signature for every loss, `loss(batch) -> scalar`, and room for what a later loss needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class Batch:
    rows: np.ndarray  # the training rows in this batch
    features: dict[str, torch.Tensor]  # from the tokenizer: input_ids, attention_mask, lengths
    labels: torch.Tensor  # (batch,) group label of each row; hard negatives are < 0 (no group)
    teacher: torch.Tensor | None = None  # (batch, teacher dim) a teacher model's vectors, if any
    embeddings: torch.Tensor | None = None  # (batch, dim) unit vectors, set by the step
    logits: torch.Tensor | None = None  # (batch, classes) cosines from a head: all classes or a sample
    targets: torch.Tensor | None = None  # (batch,) each row's class column in `logits`
    sharded: bool = False  # logits are every process's rows against this process's classes (-1: elsewhere)
    hits: torch.Tensor | None = None  # (rows with a class,) whether the row's class scored highest: the loss's

    def __len__(self) -> int:
        return len(self.rows)
