"""The optimizers of a run: Adam for everything dense; for a sampled head's centres RowAdam, or
RowwiseRMSprop (one step size a row); and Optimizers, which steps several as one and saves them as
one state dict.
"""

from __future__ import annotations

import torch
from torch.optim.adam import adam

FUSED_DEVICES = ("cpu", "cuda")  # where torch has the fused Adam kernel


class RowAdam(torch.optim.Optimizer):
    """Adam for sparse gradients (an embedding lookup's), touching only the rows a step saw.

    SparseAdam's rule (moments of the seen rows only; the step count and so the bias correction
    shared by the whole tensor) and its state slots, so its checkpoints read alike; the update of
    those rows is torch's fused Adam kernel (one pass over weight, gradient and moments, where
    SparseAdam's sparse tensors, or the same update in separate tensor ops, take about ten), so the
    rows differ from SparseAdam's only in where eps sits (Adam's sqrt(v / bias2) + eps, as the
    dense centres are updated). Rows are gathered and written back with index_select/index_copy_:
    at a million classes with 10% sampled, the update was the larger part of a step.

    `gathered(p)`, when given, returns the rows of p that the step's forward pass read, as
    (index, copy) (heads.SampledCosineHead.take_gathered): the update starts from that copy where
    its index is the gradient's, and does not read the rows again.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 gathered=None):
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, not {lr}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})
        self.gathered = gathered

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                rows, values = sparse_rows(p.grad)
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state.update(self.new_slots(p))
                weight = self.read_rows(p, rows)
                self.update(weight, values.contiguous(), rows, state, group)
                state["step"] += 1
                p.index_copy_(0, rows, weight)
        return loss

    def new_slots(self, p: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}

    def read_rows(self, p: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """p's rows, as a copy to update: the forward pass's, when it read these rows."""
        taken = self.gathered(p) if self.gathered is not None else None
        if taken is not None and torch.equal(taken[0], rows):
            return taken[1]
        return p.index_select(0, rows)

    def update(self, weight: torch.Tensor, grad: torch.Tensor, rows: torch.Tensor, state: dict, group: dict) -> None:
        """Update `weight` (the seen rows, a copy) in place, and the slots of those rows."""
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"].index_select(0, rows), state["exp_avg_sq"].index_select(0, rows)
        steps = torch.tensor(float(state["step"]), device=weight.device)  # adam() counts this step in
        adam([weight], [grad], [m], [v], [], [steps], fused=weight.device.type in FUSED_DEVICES, amsgrad=False,
             beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=0.0, eps=group["eps"], maximize=False)
        state["exp_avg"].index_copy_(0, rows, m)
        state["exp_avg_sq"].index_copy_(0, rows, v)


class RowwiseRMSprop(RowAdam):
    """One step size per row: Adam with no first moment (beta1 = 0) and one second moment per
    row, the mean of its squared gradient, as FBGEMM's rowwise optimizers keep for embedding
    tables. Each row moves by lr * g / (sqrt(mean(g^2) / bias2) + eps), a direction that is its own
    gradient's and a size that does not depend on the gradient's scale, like Adam's.

    Why for sampled class centres: a centre is drawn in one step of ten at --sample-rate 0.1, and
    Adam's first moment of such a row is old news when it is next drawn; a row's state here is one
    number, so an update reads and writes the weight rows alone (a million centres: 4 MB of state
    against Adam's 1 GB). On the Chinese union at --sample-rate 0.1 it trained better than RowAdam,
    and than Adam's first moment kept beside a per-row second moment, and it lost far less than
    RowAdam when the centres' rate was 30 times too low (docs/benchmarks.md, scale accuracy).
    """

    def __init__(self, params, lr: float = 1e-3, beta2: float = 0.999, eps: float = 1e-8, gathered=None):
        super().__init__(params, lr, (0.0, beta2), eps, gathered)

    def new_slots(self, p: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"exp_avg_sq": p.new_zeros(p.shape[0])}

    def update(self, weight: torch.Tensor, grad: torch.Tensor, rows: torch.Tensor, state: dict, group: dict) -> None:
        beta2, count = group["betas"][1], state["step"] + 1
        v = state["exp_avg_sq"].index_select(0, rows)
        v.mul_(beta2).add_(torch.linalg.vector_norm(grad, dim=1).square_(), alpha=(1 - beta2) / grad.shape[1])
        state["exp_avg_sq"].index_copy_(0, rows, v)
        size = v.div(1 - beta2 ** count).sqrt_().add_(group["eps"]).reciprocal_().mul_(group["lr"])
        weight.addcmul_(grad, size.unsqueeze(1), value=-1.0)


def sparse_rows(grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows a gradient touches, each once and in order, and their values. A sparse head's
    gradient comes in that order already (heads.SampledCosines), but autograd's accumulation drops
    the tensor's coalesced flag; one comparison finds it so, and coalescing (a sort) is skipped."""
    if not grad.is_sparse:
        grad = grad.to_sparse(1)
    rows = grad._indices()[0]
    if not grad.is_coalesced() and not bool((rows[1:] > rows[:-1]).all()):
        grad = grad.coalesce()
        rows = grad._indices()[0]
    return rows, grad._values()


class Optimizers:
    """Several torch optimizers stepped as one (Adam, and RowAdam for a sampled head's sparse
    gradients), with one state dict numbered as a single optimizer's would be, so that a checkpoint
    of a run with one optimizer reads the same as before."""

    def __init__(self, *optimizers: torch.optim.Optimizer | None):
        self.parts = [o for o in optimizers if o is not None]

    @property
    def param_groups(self) -> list[dict]:
        return [group for o in self.parts for group in o.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for o in self.parts:
            o.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for o in self.parts:
            o.step()

    def state_dict(self) -> dict:
        state, groups, offset = {}, [], 0
        for o in self.parts:
            part = o.state_dict()
            state.update({pid + offset: slots for pid, slots in part["state"].items()})
            groups += [{**g, "params": [pid + offset for pid in g["params"]]} for g in part["param_groups"]]
            offset += sum(len(g["params"]) for g in part["param_groups"])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, saved: dict) -> None:
        groups, offset = list(saved["param_groups"]), 0
        for o in self.parts:
            mine = [groups.pop(0) for _ in o.param_groups]
            count = sum(len(g["params"]) for g in mine)
            o.load_state_dict({"state": {pid - offset: slots for pid, slots in saved["state"].items()
                                         if offset <= pid < offset + count},
                               "param_groups": [{**g, "params": [pid - offset for pid in g["params"]]} for g in mine]})
            offset += count
