"""Which sentences make each training batch, as a list of row indices per epoch.

Orders come from (seed, epoch) alone, so a resumed run sees the same batches as an uninterrupted
one, and `step_in_epoch` in a checkpoint says where in the list to pick up.
"""

from __future__ import annotations

import numpy as np


def sentence_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Shuffled sentences, batch_size at a time: what classification over all groups needs."""
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i: i + batch_size] for i in range(0, n, batch_size)]


def group_batches(labels: np.ndarray, batch_size: int, per_group: int, seed: int, epoch: int,
                  hard_negatives: dict[int, np.ndarray] | None = None) -> list[np.ndarray]:
    """Batches of whole groups: `per_group` sentences from each of several groups (groups of one
    sentence are left out: they have no positive), plus one hard negative row per group that has
    some. An epoch passes over every group once. What pair, triplet and contrastive losses need.

    `hard_negatives` maps a group label to the rows of sentences judged not equivalent to it.
    """
    rng = np.random.default_rng([seed, epoch])
    members = np.split(np.argsort(labels, kind="stable"), np.cumsum(np.bincount(labels))[:-1])
    groups = [g for g in range(len(members)) if len(members[g]) >= 2]
    rows_per_group = per_group + (1 if hard_negatives else 0)
    per_batch = max(2, batch_size // rows_per_group)
    order = rng.permutation(groups)
    chunks = [order[i: i + per_batch] for i in range(0, len(order), per_batch)]
    if len(chunks) > 1 and len(chunks[-1]) < 2:  # a lone group has no negatives: join the previous batch
        last = chunks.pop()
        chunks[-1] = np.concatenate([chunks[-1], last])
    batches = []
    for chunk in chunks:
        rows = []
        for group in chunk:
            sentences = members[group]
            rows.extend(rng.choice(sentences, size=min(per_group, len(sentences)), replace=False))
            negatives = hard_negatives.get(int(group)) if hard_negatives else None
            if negatives is not None and len(negatives):
                rows.append(rng.choice(negatives))
        batches.append(np.asarray(rows, dtype=np.int64))
    return batches
