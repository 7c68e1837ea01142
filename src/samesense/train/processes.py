"""train(): the entry to a run, above the loop: in this process, or over several (--processes N),
started here or by torchrun.

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

from .. import console
from ..bounds import usable_cpus
from ..errors import SamesenseError
from . import distributed
from .config import TrainConfig
from .data import TrainData, TrainGroups
from .loop import OnEpoch, run_training
from .plan import plan_run

# how long a process waits on the others at a collective: the first one evaluates while the
# others wait, which on a large validation set takes minutes
TIMEOUT = datetime.timedelta(minutes=30)


def backend(cfg: TrainConfig) -> str:
    return "nccl" if cfg.run.device.startswith("cuda") else "gloo"


def train(cfg: TrainConfig, data: TrainGroups | TrainData | None = None, on_epoch: OnEpoch | None = None,
          teacher=None) -> dict | None:
    """Train (or, with cfg.run.resume, continue) the run in cfg.run.out; return a summary with the
    best validation scores and the history (loop.py: run_training).

    data: groups already in memory (TrainGroups), or data prepared by an earlier call (TrainData);
    None reads cfg.data's files. on_epoch: called with every epoch's record after it is saved;
    returning False ends the run there (early stopping, a search pruning a trial). teacher: an
    encoder to distil from (anything with encode, dim and fingerprint), instead of the one
    cfg.distil.teacher names.

    With cfg.run.processes > 1 the run is split over that many processes, which read their data
    from cfg's files: spawned here, or, under torchrun (its environment set), this process joins
    the group as one of them."""
    if cfg.run.processes == distributed.world_size():
        return run_training(cfg, data, on_epoch, teacher)
    if distributed.active():
        raise SamesenseError(f"--processes {cfg.run.processes} in a group of {distributed.world_size()} processes")
    count = cfg.run.processes
    if "WORLD_SIZE" in os.environ:
        if int(os.environ["WORLD_SIZE"]) != count:
            raise SamesenseError(f"--processes {count}, but torchrun started {os.environ['WORLD_SIZE']}")
        dist.init_process_group(backend(cfg), init_method="env://", timeout=TIMEOUT)
        try:
            console.quiet = distributed.rank() > 0
            return run_training(cfg)
        finally:
            dist.destroy_process_group()
    if data is not None or on_epoch is not None or teacher is not None:
        raise SamesenseError("a run over several processes reads its data from files (cfg.data) and takes no "
                             "data, on_epoch or teacher objects")
    plan_run(cfg)  # here, rather than once in every process
    cfg.check_files()
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
    cfg = TrainConfig.from_dict(json.loads(cfg_json))
    count = cfg.run.processes
    if not cfg.run.threads:  # share the cores rather than each taking all of them
        torch.set_num_threads(max(1, usable_cpus() // count))
    console.quiet = index > 0
    dist.init_process_group(backend(cfg), init_method=f"tcp://127.0.0.1:{port}", rank=index, world_size=count,
                            timeout=TIMEOUT)
    try:
        summary = run_training(cfg)
        if index == 0:
            outbox.put(json.dumps({"summary": summary}))
    except SamesenseError as err:
        outbox.put(json.dumps({"error": str(err)}))
        raise SystemExit(1) from None
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
