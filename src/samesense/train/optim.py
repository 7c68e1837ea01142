"""The optimizers of a run: Adam for everything dense, RowAdam for a sampled head's centres, and
Optimizers, which steps several as one and saves them as one state dict.
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
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, not {lr}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                rows, values = sparse_rows(p.grad)
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                m, v = state["exp_avg"].index_select(0, rows), state["exp_avg_sq"].index_select(0, rows)
                weight = p.index_select(0, rows)
                steps = torch.tensor(float(state["step"]), device=p.device)  # adam() counts this step in
                adam([weight], [values.contiguous()], [m], [v], [], [steps], fused=p.device.type in FUSED_DEVICES,
                     amsgrad=False, beta1=beta1, beta2=beta2, lr=group["lr"], weight_decay=0.0, eps=group["eps"],
                     maximize=False)
                state["step"] += 1
                state["exp_avg"].index_copy_(0, rows, m)
                state["exp_avg_sq"].index_copy_(0, rows, v)
                p.index_copy_(0, rows, weight)
        return loss


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
