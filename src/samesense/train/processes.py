"""A run over several processes (--processes N): started here, or by torchrun.

    samesense train ... --processes 2                 the CLI spawns 2 processes on this machine
    torchrun --nproc-per-node 2 -m samesense train ... --processes 2
    torchrun --nnodes 2 --node-rank R --master-addr HOST --master-port 29500 \
             --nproc-per-node 1 -m samesense train ... --processes 2     over two machines

Every process runs the same loop (loop.py) on its part of each batch; distributed.py says what
they share. The first process speaks, evaluates, saves the model and writes the checkpoint, into
which the others' shares of the class centres are moved (checkpoint.py); so the run folder must be
on a filesystem every process sees. gloo on CPUs, nccl when the device is cuda.
"""

from __future__ import annotations

import datetime
import json
import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from .. import console, distributed
from ..errors import SamesenseError
from ..losses import LOSSES
from .config import TrainConfig

# how long a process waits on the others at a collective: the first one evaluates while the
# others wait, which on a large validation set takes minutes
TIMEOUT = datetime.timedelta(minutes=30)


def backend(cfg: TrainConfig) -> str:
    return "nccl" if cfg.run.device.startswith("cuda") else "gloo"


def train_in_processes(cfg: TrainConfig, train, given_objects: bool) -> dict | None:
    """Run `train(cfg)` in cfg.run.processes processes; the first one's summary. Under torchrun
    (its environment set) this process is one of them and joins the group."""
    count = cfg.run.processes
    if "WORLD_SIZE" in os.environ:
        if int(os.environ["WORLD_SIZE"]) != count:
            raise SamesenseError(f"--processes {count}, but torchrun started {os.environ['WORLD_SIZE']}")
        dist.init_process_group(backend(cfg), init_method="env://", timeout=TIMEOUT)
        try:
            console.quiet = distributed.rank() > 0
            return train(cfg)
        finally:
            dist.destroy_process_group()
    if given_objects:
        raise SamesenseError("a run over several processes reads its data from files (cfg.data) and takes no "
                             "data, on_epoch or teacher objects")
    cfg.check()
    cfg.check_files()
    cfg.check_scale(LOSSES[cfg.loss.loss].needs_head)  # here, rather than once in every process
    port = distributed.free_port()
    context = mp.get_context("spawn")
    outbox = context.SimpleQueue()
    try:
        mp.start_processes(worker, args=(json.dumps(cfg.to_dict()), port, outbox), nprocs=count, join=True,
                           start_method="spawn")
    except (mp.ProcessRaisedException, mp.ProcessExitedException) as err:
        messages = drain(outbox)
        errors = [m["error"] for m in messages if "error" in m]
        raise SamesenseError(errors[0] if errors else f"a training process failed: {str(err).splitlines()[0]}") from None
    summaries = [m["summary"] for m in drain(outbox) if "summary" in m]
    return summaries[0] if summaries else None


def drain(outbox) -> list[dict]:
    messages = []
    while not outbox.empty():
        messages.append(json.loads(outbox.get()))
    return messages


def worker(index: int, cfg_json: str, port: int, outbox) -> None:
    """One process of a spawned run: join the group, train, hand the summary (or error) back."""
    from .loop import train

    cfg = TrainConfig.from_dict(json.loads(cfg_json))
    count = cfg.run.processes
    if not cfg.run.threads:  # share the cores rather than each taking all of them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // count))
    console.quiet = index > 0
    dist.init_process_group(backend(cfg), init_method=f"tcp://127.0.0.1:{port}", rank=index, world_size=count,
                            timeout=TIMEOUT)
    try:
        summary = train(cfg)
        if index == 0:
            outbox.put(json.dumps({"summary": summary}))
    except SamesenseError as err:
        outbox.put(json.dumps({"error": str(err)}))
        raise SystemExit(1) from None
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
