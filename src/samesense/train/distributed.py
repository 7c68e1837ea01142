"""The collective operations a training run split over processes needs (torch.distributed).

A run with --processes N is N copies of the same training loop, one per process (spawned by the
CLI, or started by torchrun on one or several machines). The encoder is replicated: every process
encodes its own part of each batch, and their gradients are summed (`sum_gradients`). The class
centres are split: process r holds the r-th contiguous share of the groups (`shard_range`), scores
every process's rows against it (`gather_rows`), and the margin loss's log-sum-exp is completed
across the shares (losses/kernels.py: ShardedMarginCrossEntropy). So the loss, and every gradient,
equals what one process computes on the whole batch.

Outside a process group every function here is the single-process case: rank 0 of 1.
"""

from __future__ import annotations

import json
import socket

import torch
import torch.distributed as dist
from torch import nn


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def free_port() -> int:
    """A free TCP port on this machine, for spawned processes to meet on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shard_range(num_classes: int, shard: int, shards: int) -> tuple[int, int]:
    """(first class, number of classes) of a share: contiguous, sizes differing by at most one."""
    first, end = shard * num_classes // shards, (shard + 1) * num_classes // shards
    return first, end - first


class AllGather(torch.autograd.Function):
    """all_gather with a gradient: each process's part of the gathered rows' gradient, summed over
    the processes (every one scores the rows against its own share of the classes)."""

    @staticmethod
    def forward(ctx, part: torch.Tensor) -> torch.Tensor:
        parts = [torch.empty_like(part) for _ in range(world_size())]
        dist.all_gather(parts, part.contiguous())
        ctx.rows = len(part)
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        dist.all_reduce(grad)
        return grad[rank() * ctx.rows: (rank() + 1) * ctx.rows]


def gather_rows(z: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every process's rows, in rank order, with the gradient flowing back to each process's own
    (AllGather's backward sums what every share makes of them). Parts may differ in length by
    a row or more: each is padded to the longest for the collective, then cut back."""
    sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(world_size())]
    dist.all_gather(sizes, torch.tensor([len(z)], dtype=torch.int64))
    sizes = [int(s) for s in sizes]
    longest = max(sizes)
    padded = torch.cat([z, z.new_zeros(longest - len(z), z.shape[1])])
    padded_labels = torch.cat([labels, labels.new_full((longest - len(labels),), -1)])
    parts = AllGather.apply(padded).split(longest)
    label_parts = [torch.empty_like(padded_labels) for _ in sizes]
    dist.all_gather(label_parts, padded_labels)
    return (torch.cat([part[:n] for part, n in zip(parts, sizes)]),
            torch.cat([part[:n] for part, n in zip(label_parts, sizes)]))


def all_reduce(tensor: torch.Tensor, op: str = "sum") -> torch.Tensor:
    """In place, across the processes; a no-op in one process."""
    if active():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM if op == "sum" else dist.ReduceOp.MAX)
    return tensor


def sum_gradients(modules: list[nn.Module]) -> None:
    """Sum the replicated modules' gradients over the processes (not average: each process's
    gradient is its rows' part of the one global loss), in one collective."""
    if not active():
        return
    grads = [p.grad for module in modules for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    offset = 0
    for g in grads:
        g.copy_(flat[offset: offset + g.numel()].view_as(g))
        offset += g.numel()


def sharded_hits(cos: torch.Tensor, targets: torch.Tensor) -> int:
    """Rows whose own class scores highest over all shares (targets < 0: held by another)."""
    wide = torch.promote_types(cos.dtype, torch.float32)  # bfloat16 cosines (--head-precision) are reduced in float32
    best = all_reduce(cos.detach().amax(1).to(wide), "max")
    own = cos.gather(1, targets.clamp_min(0).view(-1, 1)).squeeze(1).detach().to(wide)
    target = all_reduce(torch.where(targets >= 0, own, torch.full_like(own, -2.0)), "max")
    return int((target >= best).sum())


def broadcast(value, source: int = 0):
    """A JSON value from one process to all (as UTF-8 bytes in a tensor: nothing pickled)."""
    if not active():
        return value
    data = json.dumps(value).encode() if rank() == source else b""
    size = torch.tensor([len(data)], dtype=torch.int64)
    dist.broadcast(size, src=source)
    buffer = torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.empty(int(size), dtype=torch.uint8)
    dist.broadcast(buffer, src=source)
    return json.loads(buffer.numpy().tobytes().decode())


def barrier() -> None:
    if active():
        dist.barrier()
