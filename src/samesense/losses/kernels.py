"""The margin-softmax loss's hand-written kernels: the (batch, classes) part of every loss of the
family (margin.py), where the time goes with tens of thousands of classes, and its version over
class centres split across processes.

    loss = logsumexp_j(s * l_j) - s * psi(theta_t),   l_j = cos(theta_j) for j != t, l_t = psi(theta_t)

psi and its slope dpsi/dcos_t come from the loss (autograd on the (batch,) target cosines); here
the textbook gradient s * (softmax - onehot) is written by hand, the target column taking
s * (p_t - 1) * dpsi/dcos_t: no second (batch, classes) gradient for the gathered target cosines,
filled with zeros and added, as autograd's gather would make. Labels stay integers: no one-hot
(batch, classes) matrix is built.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

from ..train import distributed
from ..train.memory import in_cache

ROWS_IN_CACHE = 4  # rows of exponentials made at a time: 4 x 100,000 classes in float32 is 1.6 MB


class SparseMarginCrossEntropy(torch.autograd.Function):
    """mean_i [ logsumexp_j(s * l_ij) - s * psi_i ], l = cos with the target entry replaced by psi.

    Gradients: d/dcos_ij = s * p_ij / n for j != t_i, and at the target, whose cosine acts only
    through psi, s * (p_it - 1) / n * dpsi/dcos_it, with p = softmax(s * l).

    The log-sum-exp is shifted by s, not by each row's maximum: cosines are at most 1, so no
    logit exceeds s, and that saves a pass for the maxima and a (batch, classes) temporary (with
    a hundred thousand classes a step, every pass counts). exp(s * (l - 1)) underflows only where
    s * (l - 1) < -87 for a whole row (s above ~40 with every cosine far below 1): then the rows'
    maxima are used, as before.

    Its second output, not differentiable: whether each row's target cosine is its largest (the
    training accuracy's hits, noted on the way: margin_exponentials).
    """

    @staticmethod
    def forward(ctx, cos: torch.Tensor, psi: torch.Tensor, slope: torch.Tensor, labels: torch.Tensor,
                scale: float) -> tuple[torch.Tensor, torch.Tensor]:
        index = labels.view(-1, 1)
        hits = torch.empty(len(cos), dtype=torch.bool, device=cos.device)
        exps, _, others, total, shift = margin_exponentials(cos, psi, index, scale, hits=hits)
        lse = total.log() + shift.squeeze(1)
        ctx.save_for_backward(exps, others, total, index, slope)
        ctx.scale = scale
        ctx.mark_non_differentiable(hits)
        return (lse - psi * scale).mean(), hits

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor, _hits=None):
        exps, others, total, index, slope = ctx.saved_tensors
        coef = grad * ctx.scale / exps.shape[0]
        at_target = -others / total * coef * slope  # p_t - 1 = -others / total: no cancellation as p_t nears 1
        return margin_gradient(exps, at_target, total, coef, index), None, None, None, None


def margin_exponentials(cos: torch.Tensor, psi: torch.Tensor, index: torch.Tensor, scale: float,
                        owned: torch.Tensor | None = None, total_of=lambda t: t,
                        max_of=lambda t: t, hits: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
    """exp(s * l - shift) for every column but each row's `index` column, which holds 0; that
    column's, exp(s * psi - shift), apart; each row's sum over the other classes and its target's
    (completed across the shares by total_of; `owned`: the rows whose class this share holds, the
    others' index column being an ordinary one), and their total; and the shift: s, or where that
    underflows a whole row, the rows' maxima (completed by max_of). Every share gets the same sums,
    so all take the same branch.

    bfloat16 cosines (a head taking its products in it: --head-precision) keep their exponentials
    in bfloat16, so the backward's product reads its gradient as it is: at 100,000 sampled centres
    a float32 copy each way was a fifth of the step. They are computed in float32, a few rows at a
    time (in cache), and rounded once: a chain of bfloat16 ops rounds s * cos - shift too, and
    exp of that was off by up to 13%. The target and the sums stay float32, and the target's
    gradient is taken from the others' sum, so p_t - 1, the main term of the gradient as p_t
    nears 1, is lost neither to bfloat16 nor to cancellation.

    `hits`, when given, is filled in the first pass with whether each row's `index` cosine is its
    largest (training accuracy), compared in the same computed logits, while the rows are at hand:
    a pass of its own over (batch, classes) bfloat16 cosines took ~10 ms at 100,000 classes."""
    wide = torch.promote_types(cos.dtype, torch.float32)  # the targets, the sums and the shift
    zero = torch.zeros((), dtype=wide, device=cos.device)

    def note_hits(logits, rows, found):
        if found is not None:
            found[rows] = logits.gather(1, index[rows]).squeeze(1) >= logits.amax(1)

    def exponentials(shift, found=None):
        if cos.dtype == wide:
            # the whole matrix in its own layout (a dense head's is transposed: a few rows of it
            # would be strided): one pass to a new tensor, the rest in place
            exps = torch.add(-shift, cos, alpha=scale)
            note_hits(exps, slice(None), found)
            sums = put_in_rows(exps.exp_(), index, zero).sum(1)
        else:  # bfloat16: made in float32 a few rows at a time (in cache), rounded once into place
            exps = torch.empty_like(cos, memory_format=torch.contiguous_format)
            sums = cos.new_empty(len(cos), dtype=wide)
            for rows in in_cache(len(cos), ROWS_IN_CACHE):
                part = torch.add(-shift[rows], cos[rows], alpha=scale)
                note_hits(part, rows, found)
                part = put_in_rows(part.exp_(), index[rows], zero)
                sums[rows] = part.sum(1)
                exps[rows] = part
        column = (psi.to(wide) * scale - shift.squeeze(1)).exp()
        others, target = sums, column
        if owned is not None:
            others, target = others + torch.where(owned, 0.0, column), torch.where(owned, column, 0.0)
        others, target = total_of(torch.stack([others, target]))
        return exps, column, others, others + target

    shift = torch.full((len(cos), 1), float(scale), dtype=wide, device=cos.device)
    exps, column, others, total = exponentials(shift, hits)
    if not bool(((total > 0) & torch.isfinite(total)).all()):
        maxima = put_in_rows(cos.to(wide) * scale, index, psi.to(wide) * scale).amax(1, keepdim=True)
        shift = max_of(maxima)
        exps, column, others, total = exponentials(shift)
    return exps, column, others, total, shift


def margin_gradient(exps: torch.Tensor, at_target: torch.Tensor, total: torch.Tensor, coef: torch.Tensor,
                    index: torch.Tensor) -> torch.Tensor:
    """s * p / n in every column, `at_target` in each row's target column: in place, in the
    exponentials' own type (they are needed only here, once)."""
    grad = exps.mul_((coef / total).to(exps.dtype).view(-1, 1))
    return put_in_rows(grad, index, at_target.to(exps.dtype))


def put_in_rows(matrix: torch.Tensor, index: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """matrix[i, index[i]] = values[i] (or the one value), in place: scatter_ into bfloat16
    converted the whole matrix to float32 and back, index_put_ writes the entries alone."""
    return matrix.index_put_((torch.arange(len(matrix), device=matrix.device), index.view(-1)), values)


class ShardedMarginCrossEntropy(torch.autograd.Function):
    """SparseMarginCrossEntropy over class centres split across processes (heads.ShardedCosineHead).

    Each process holds the cosines of every row of the global batch with its share of the classes;
    targets[i] < 0 where another share holds row i's class. The sum of exponentials is completed
    across the shares (all_reduce SUM; shifted by s, or by the row maxima, all_reduce MAX, where that
    underflows), and psi is taken from the share that holds it, so the loss is the single-process
    loss on the same rows. The gradients of this share's inputs need nothing from the others once
    the log-sum-exp is known.
    """

    @staticmethod
    def forward(ctx, cos: torch.Tensor, psi: torch.Tensor, slope: torch.Tensor, targets: torch.Tensor,
                scale: float) -> torch.Tensor:
        owned = targets >= 0
        index = targets.clamp_min(0).view(-1, 1)
        kept = cos.gather(1, index).squeeze(1).to(psi.dtype)  # rows held elsewhere: an ordinary column there
        psi_here = torch.where(owned, psi, kept)
        exps, column, others, total, shift = margin_exponentials(
            cos, psi_here, index, scale, owned, distributed.all_reduce, lambda t: distributed.all_reduce(t, "max"))
        lse = total.log() + shift.squeeze(1)
        target = distributed.all_reduce(torch.where(owned, psi, torch.zeros_like(psi)))
        ctx.save_for_backward(exps, column, others, total, index, owned, slope)
        ctx.scale = scale
        return (lse - target * scale).mean()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        exps, column, others, total, index, owned, slope = ctx.saved_tensors
        coef = grad * ctx.scale / exps.shape[0]
        at_target = torch.where(owned, -others / total * coef * slope, column / total * coef)
        return margin_gradient(exps, at_target, total, coef, index), None, None, None, None
