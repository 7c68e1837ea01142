"""The margin-softmax family: classification over all groups with a cosine head.

Every loss here sees the cosines between a batch of sentence vectors and all class centres, and
changes only the target class's logit, psi(theta_t); all logits are scaled by s:

    loss = logsumexp_j(s * l_j) - s * psi(theta_t),   l_j = cos(theta_j) for j != t, l_t = psi(theta_t)

Labels stay integers: the target cosine is gathered and its entry written by index, so no one-hot
(batch, classes) matrix is built, and logsumexp keeps it stable at s = 30.

Each loss overrides `target_logit` and nothing else (A-Softmax also anneals, so it counts steps).
psi is computed by autograd on the (batch,) target cosines, with its slope dpsi/dcos_t (every psi
here is elementwise); the (batch, classes) part, where the time goes with tens of thousands of
classes, is kernels.py's hand-written function, on one process or across processes that split
the class centres.
"""

from __future__ import annotations

import math

import torch

from ..train.batch import Batch
from .base import Loss
from .kernels import ShardedMarginCrossEntropy, SparseMarginCrossEntropy


class MarginSoftmaxLoss(Loss):
    """Normalised softmax: psi(theta) = cos(theta), logits scaled by s. The base of the family."""

    name = "softmax"
    needs_head = True  # the cosines between each row and the class centres

    def __init__(self, scale: float = 30.0, margin: float = 0.0):
        super().__init__()
        self.scale, self.margin = scale, margin

    def target_logit(self, cos_t: torch.Tensor) -> torch.Tensor:
        """psi(theta_t), from the target cosine; the one thing a margin loss changes."""
        return cos_t

    def forward(self, batch: Batch) -> torch.Tensor:
        """batch.logits: (batch, classes) cosines from the head; batch.targets: each row's column."""
        cos, targets = batch.logits, batch.targets
        cos_t = cos.detach().gather(1, targets.clamp_min(0).view(-1, 1)).squeeze(1)
        psi, slope = self.target_and_slope(cos_t.to(torch.promote_types(cos.dtype, torch.float32)))
        if batch.sharded:  # targets < 0: the class is in another process's share
            return ShardedMarginCrossEntropy.apply(cos, psi, slope, targets, self.scale)
        loss, batch.hits = SparseMarginCrossEntropy.apply(cos, psi, slope, targets, self.scale)
        return loss

    def target_and_slope(self, cos_t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """psi(theta_t) and dpsi/dcos_t, by autograd on the (batch,) target cosines alone."""
        cos_t = cos_t.requires_grad_()
        with torch.enable_grad():
            psi = self.target_logit(cos_t)
            slope, = torch.autograd.grad(psi.sum(), cos_t)
        return psi.detach(), slope

    def extra_repr(self) -> str:
        return f"scale={self.scale}, margin={self.margin}"


class AMSoftmaxLoss(MarginSoftmaxLoss):
    """Additive margin (AM-Softmax, CosFace): psi(theta) = cos(theta) - m."""

    name = "am-softmax"

    def __init__(self, scale: float = 30.0, margin: float = 0.35):
        super().__init__(scale, margin)

    def target_logit(self, cos_t: torch.Tensor) -> torch.Tensor:
        return cos_t - self.margin


class AAMSoftmaxLoss(MarginSoftmaxLoss):
    """Additive angular margin (AAM-Softmax, ArcFace): psi(theta) = cos(theta + m).

    Past theta + m > pi, cos(theta + m) would rise again and reward a worse angle; there the
    usual fallback cos(theta) - m*sin(m) keeps psi decreasing (ArcFace's released code).
    """

    name = "aam-softmax"

    def __init__(self, scale: float = 30.0, margin: float = 0.5):
        super().__init__(scale, margin)
        self.cos_m, self.sin_m = math.cos(margin), math.sin(margin)
        self.threshold = math.cos(math.pi - margin)

    def target_logit(self, cos_t: torch.Tensor) -> torch.Tensor:
        # clamp before sqrt: its derivative is infinite at cos = +-1
        sin_t = (1.0 - cos_t * cos_t).clamp_min(1e-12).sqrt()
        shifted = cos_t * self.cos_m - sin_t * self.sin_m
        return torch.where(cos_t > self.threshold, shifted, cos_t - self.margin * self.sin_m)


def chebyshev(cos: torch.Tensor, m: int) -> torch.Tensor:
    """cos(m * theta) as a polynomial of cos(theta) (multiple-angle formula; no acos, so the
    gradient stays finite at cos = +-1)."""
    previous, current = torch.ones_like(cos), cos
    if m == 0:
        return previous
    for _ in range(m - 1):
        previous, current = current, 2 * cos * current - previous
    return current


class ASoftmaxLoss(MarginSoftmaxLoss):
    """Multiplicative angular margin (A-Softmax / L-Softmax, SphereFace), m an integer:

        psi(theta) = (-1)^k cos(m * theta) - 2k   for theta in [k*pi/m, (k+1)*pi/m]

    which is monotone on [0, pi]. Trained as is it rarely converges, so, as in the paper, the
    target logit is annealed from plain softmax: (lambda*cos(theta) + psi(theta)) / (1 + lambda)
    with lambda = max(lambda_min, base * (1 + gamma * step)^-power).
    """

    name = "a-softmax"

    def __init__(self, scale: float = 30.0, margin: float = 4, lambda_base: float = 1000.0,
                 lambda_gamma: float = 0.12, lambda_power: float = 1.0, lambda_min: float = 5.0):
        if int(margin) != margin or margin < 1:
            raise ValueError(f"A-Softmax needs an integer margin m >= 1, got {margin}")
        super().__init__(scale, int(margin))
        self.lambda_base, self.lambda_gamma = lambda_base, lambda_gamma
        self.lambda_power, self.lambda_min = lambda_power, lambda_min
        self.register_buffer("step", torch.zeros((), dtype=torch.int64))  # checkpointed with the loss

    def log_values(self) -> dict:
        return {"a_softmax_lambda": self.current_lambda()}

    def current_lambda(self) -> float:
        decayed = self.lambda_base * (1.0 + self.lambda_gamma * int(self.step)) ** (-self.lambda_power)
        return max(self.lambda_min, decayed)

    def psi(self, cos_t: torch.Tensor) -> torch.Tensor:
        theta = torch.acos(cos_t.detach().clamp(-1.0, 1.0))
        k = torch.floor(self.margin * theta / math.pi).clamp(max=self.margin - 1)  # piece index
        sign = 1.0 - 2.0 * torch.remainder(k, 2)  # (-1)^k
        return sign * chebyshev(cos_t, self.margin) - 2.0 * k

    def target_logit(self, cos_t: torch.Tensor) -> torch.Tensor:
        lam = self.current_lambda()
        if self.training:
            self.step += 1
        return (lam * cos_t + self.psi(cos_t)) / (1.0 + lam)

    def extra_repr(self) -> str:
        return f"scale={self.scale}, margin={self.margin}, lambda={self.current_lambda():.3g}"


class SimplerASoftmaxLoss(MarginSoftmaxLoss):
    """The article's "simpler A-Softmax": psi(theta) = min(cos(theta), cos(m*theta)), m = 4 in
    the article, with cos(4*theta) = 8cos^4 - 8cos^2 + 1 by the multiple-angle formula."""

    name = "simpler-a-softmax"

    def __init__(self, scale: float = 30.0, margin: float = 4):
        if int(margin) != margin or margin < 1:
            raise ValueError(f"simpler A-Softmax needs an integer margin m >= 1, got {margin}")
        super().__init__(scale, int(margin))

    def target_logit(self, cos_t: torch.Tensor) -> torch.Tensor:
        return torch.minimum(cos_t, chebyshev(cos_t, self.margin))
