"""The classification head used in training: one unit-norm centre per group, no bias.

forward(z, labels) gives (logits, targets): cos(theta_i) = <z, c_i/|c_i|> for every class i, and
each row's column in them. A head that scores only a sample of the classes (millions of groups)
returns that sample's cosines and each row's column among them; a margin loss reads `targets`
and never needs to know which. Only the encoder is kept after training; the head is thrown away (its
centres are still checkpointed, so training can resume).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable

from .distributed import gather_rows, shard_range
from .memory import in_cache
from .optim import RowAdam, RowwiseRMSprop


PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}  # None: the weights' own type (float64 in tests)
CENTRES_OPTIMIZERS = {"rowwise": RowwiseRMSprop, "adam": RowAdam}  # for a sampled head's sparse gradients


def lowered(tensor: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    return tensor if dtype is None else tensor.to(dtype)


class CosineHead(nn.Module):
    """`precision` bfloat16: the (batch x classes) products, forward and backward, are taken in
    bfloat16 (the sampled heads hand their cosines on in it, and the margin loss keeps its
    exponentials and their gradient in it); the centres, their norms and the optimizer stay
    float32. Partial FC's half-precision logits: on CPUs with AMX or AVX512-BF16 those products
    run several times faster, at about 3 significant digits a cosine."""

    sparse = False  # its weight's gradient is dense (a plain optimizer)
    sharded = False  # holds every class (ShardedCosineHead: this process's share)

    def __init__(self, num_classes: int, dim: int, precision: str = "float32"):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_classes, dim) / dim**0.5)
        self.precision = precision
        self.dtype = PRECISIONS[precision]

    def centres(self) -> torch.Tensor:
        return F.normalize(self.weight, dim=-1)

    def param_groups(self, lr: float) -> list[dict]:
        """Its groups for Adam beside the encoder, at the centres' rate; none when its gradient is
        sparse (sparse_optimizer)."""
        return [] if self.sparse else [{"params": list(self.parameters()), "lr": lr, "base_lr": lr}]

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # (W z^T)^T scaled by 1/|w_i| equals z @ centres().t(), without normalising every centre
        # and differentiating through that (a pass over classes x dim each way): ~15% faster.
        inverse_norm = self.weight.norm(dim=1).clamp_min(1e-12).reciprocal()
        products = (lowered(self.weight, self.dtype) @ lowered(z, self.dtype).t()).t()
        return products * inverse_norm, labels  # float32 again: the norms are

    def extra_repr(self) -> str:
        precision = "" if self.precision == "float32" else f", precision={self.precision}"
        return f"classes={self.weight.shape[0]}{precision}"


def uniform_sample(classes: int, keep: int, positives: np.ndarray) -> np.ndarray:
    """`keep` sorted class indices: every one of `positives` (sorted, unique) and the rest drawn
    uniformly without replacement from the other classes.

    numpy's choice draws the others (a set-based draw, ~2 ms for 100,000 of a million, where
    torch's topk over a million random priorities took ~20 ms), from a seed taken from torch's
    global generator, so a checkpoint's RNG state still decides the sample. It draws from
    0..classes-P-1, and each draw x is moved past the positives at or below it: x + #{j : p_j - j <= x}.
    """
    seed = int(torch.randint(2**62, ()))
    draws = np.random.default_rng(seed).choice(classes - len(positives), keep - len(positives), replace=False)
    draws.sort()
    others = draws + np.searchsorted(positives - np.arange(len(positives)), draws, side="right")
    return np.insert(others, np.searchsorted(others, positives), positives)


# centres taken through a chain of row-wise passes at a time (memory.in_cache): 512 KB of float32 rows;
# at 100,000 sampled centres ~10 ms less a chain, each way, than whole passes
CENTRES_IN_CACHE = 1024


class SampledCosines(torch.autograd.Function):
    """cos[i, j] = <z_i, w_k / |w_k|> for k = index[j] (sorted, unique), from `rows` = weight[index]
    (a copy the caller read, and may read again: left as it is), with the gradient of the weight
    written by hand as a sparse tensor of those rows only, already coalesced.

    What autograd would do instead: a sparse embedding lookup, then F.normalize and its backward,
    about ten passes over the (sampled classes, dim) rows, and a coalesce that sorts indices
    that are sorted already; at a million classes sampled at 0.1 that was a fifth of the step.
    The gradient of c = w / |w| is (g - <g, c> c) / |w| for each row (F.normalize's, away from
    |w| = 0, where both clamp the norm at 1e-12), taken as g' - <g', w> w / |w|^2 with g' = g / |w|,
    so that neither way needs the centres in float32; both ways run a slice of rows at a time
    (in_cache). With `dtype` bfloat16 the three products (the cosines, and the gradients of z and of
    the centres) are taken in it; the rest stays float32.
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor, weight: torch.Tensor, index: torch.Tensor, rows: torch.Tensor,
                dtype: torch.dtype | None = None) -> torch.Tensor:
        inverse_norm = rows.new_empty(len(rows), 1)
        centres = torch.empty_like(rows, dtype=dtype or rows.dtype)
        for part in in_cache(len(rows), CENTRES_IN_CACHE):
            norm = torch.linalg.vector_norm(rows[part], dim=1, keepdim=True, out=inverse_norm[part])
            centres[part] = rows[part] * norm.clamp_min_(1e-12).reciprocal_()  # converted as it is written
        low_z = lowered(z, dtype)
        ctx.save_for_backward(low_z, rows, centres, inverse_norm, index)
        ctx.shape = weight.shape
        # handed on as they are: the margin loss makes its exponentials and their gradient in their
        # type (losses/kernels.py), so no (batch, classes) pass is spent converting either way
        return low_z @ centres.t()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        low_z, rows, centres, inverse_norm, index = ctx.saved_tensors
        grad_z = (grad @ centres).to(rows.dtype) if ctx.needs_input_grad[0] else None
        grad_weight = None
        if ctx.needs_input_grad[1]:
            grad_centres = grad.t() @ low_z
            values = torch.empty_like(rows)
            for part in in_cache(len(rows), CENTRES_IN_CACHE):
                scaled = values[part].copy_(grad_centres[part]).mul_(inverse_norm[part])  # g' = g / |w|, float32
                along = torch.linalg.vecdot(scaled, rows[part]).unsqueeze(1).mul_(inverse_norm[part].square())
                scaled.addcmul_(rows[part], along, value=-1.0)
            grad_weight = torch.sparse_coo_tensor(index.view(1, -1), values, ctx.shape, is_coalesced=True,
                                                  check_invariants=False)
        return grad_z, grad_weight, None, None, None


class SampledCosineHead(CosineHead):
    """Partial FC (An et al., 2021): each step scores the batch's own classes plus a uniform sample
    of the others, `sample_rate` of all classes, so that step time and the logits' memory stop
    growing with the number of groups. The sampled centres are read with a sparse embedding
    lookup, so the gradient is sparse too, and an optimizer for sparse gradients (train/optim.py:
    RowwiseRMSprop or RowAdam) updates only the centres the step saw, starting from the copy of
    them the forward pass read: no pass over the million that it did not.

    The sample comes from torch's global generator, which checkpoints keep: a resumed run draws
    the same classes. At sample_rate 1 it scores every class, as CosineHead does.
    """

    sparse = True  # its weight's gradient is sparse: train it with RowwiseRMSprop or RowAdam

    def __init__(self, num_classes: int, dim: int, sample_rate: float = 0.1, precision: str = "float32"):
        super().__init__(num_classes, dim, precision)
        self.sample_rate = sample_rate
        self.gathered: tuple[torch.Tensor, torch.Tensor] | None = None  # the rows the last forward read

    def sampled(self, positives: torch.Tensor) -> torch.Tensor:
        """Sorted class indices to score: every one of `positives`, and others drawn uniformly
        without replacement up to sample_rate of all classes."""
        classes = self.weight.shape[0]
        keep = min(classes, max(math.ceil(self.sample_rate * classes), 1))
        positives = positives.unique()
        if keep >= classes:
            return torch.arange(classes, device=self.weight.device)
        if keep <= len(positives):
            return positives
        return torch.from_numpy(uniform_sample(classes, keep, positives.cpu().numpy())).to(self.weight.device)

    def scores(self, z: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """(batch, len(index)) cosines, row-major: the loss reads it along rows, and on a transposed
        view each of its passes was several times slower."""
        rows = self.weight.detach().index_select(0, index)
        self.gathered = (index, rows)
        return SampledCosines.apply(z, self.weight, index, rows, self.dtype)

    def sparse_optimizer(self, lr: float, kind: str) -> RowAdam:
        """The centres' optimizer for a sparse gradient: `kind` rowwise or adam (CENTRES_OPTIMIZERS),
        starting from the rows the forward pass read (take_gathered)."""
        return CENTRES_OPTIMIZERS[kind]([{"params": list(self.parameters()), "lr": lr, "base_lr": lr}],
                                        gathered=self.take_gathered)

    def take_gathered(self, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(index, rows) that the last forward pass read of `weight`, once: the optimizer updates that
        copy (at a million classes each read of the rows is ~10 ms) and the head lets it go."""
        taken, self.gathered = self.gathered, None
        return taken if weight is self.weight else None

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        index = self.sampled(labels)
        return self.scores(z, index), torch.searchsorted(index, labels)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, sample_rate={self.sample_rate:g}"


class ShardedCosineHead(SampledCosineHead):
    """This process's share of the class centres, in a run split over processes (distributed.py):
    classes [first, first + size). Every process's rows are gathered and scored against the
    share (sampled, Partial FC's way, when sample_rate < 1); `targets` is each row's column in
    the share, or -1 where another process holds its class. The margin loss completes its
    log-sum-exp across the shares.

    It starts from the same weights as CosineHead(num_classes, dim) under the same seed, cut to
    the share: a run on N processes starts where a run on one does.
    """

    sharded = True

    def __init__(self, num_classes: int, dim: int, sample_rate: float, shard: int, shards: int,
                 precision: str = "float32"):
        super().__init__(num_classes, dim, sample_rate, precision)
        self.first, size = shard_range(num_classes, shard, shards)
        self.weight = nn.Parameter(self.weight.data[self.first: self.first + size].clone())
        self.sparse = sample_rate < 1.0  # a full share is scored densely

    def scores(self, z: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        if not self.sparse:
            return lowered(z, self.dtype) @ lowered(F.normalize(self.weight, dim=-1), self.dtype).t()
        return super().scores(z, index)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z, labels = gather_rows(z, labels)
        size = self.weight.shape[0]
        local = labels - self.first
        owned = (local >= 0) & (local < size)
        index = self.sampled(local[owned])
        targets = torch.searchsorted(index, local.clamp(0, size - 1))
        return self.scores(z, index), torch.where(owned, targets, torch.full_like(targets, -1))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, first={self.first}"
