"""Checkpoints: a run's state in safetensors (tensors) and JSON (the rest); nothing pickled.

    run/checkpoint/
      state.safetensors   every checkpointed module's tensors, the optimizer's slots, the RNG
      state.json          RunState, the optimizer's settings, the vocabulary, the data summary

      rank-1/ ...         a run over several processes: each other process's state, the same two files
                          (its share of the class centres, its optimizer slots and RNG)

Written atomically (a folder swap) at every epoch's end and every `checkpoint_every` steps, so a
run killed at any moment resumes from its last checkpoint. Over several processes, the others
write their state beside the checkpoint first, and the first process moves it into the new
checkpoint folder before the swap: the shares of one checkpoint are always of the same step.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from . import distributed
from ..errors import DataError, SamesenseError
from ..files import atomic_dir, atomic_write_json, recover_dir
from .config import TrainConfig
from .step import Trainable

RUN_CONFIG = "run.json"


@dataclass
class RunState:
    """What a checkpoint restores besides tensors."""

    epoch: int = 0  # completed epochs
    step_in_epoch: int = 0  # batches done in the current epoch (mid-epoch checkpoint)
    global_step: int = 0
    best_top1: float = -1.0
    best_epoch: int = 0
    train_seconds: float = 0.0
    sentences_seen: int = 0
    history: list[dict] = field(default_factory=list)
    epoch_loss_sum: float = 0.0  # running sums of the epoch in progress
    epoch_seen: int = 0
    epoch_correct: int = 0  # training accuracy: head argmax, or nearest in-batch neighbour
    epoch_counted: int = 0
    stopped: str = ""  # why the run ended early (a callback asked), if it did

    def end_epoch(self, epoch: int) -> None:
        self.epoch, self.step_in_epoch = epoch, 0
        self.epoch_loss_sum, self.epoch_seen, self.epoch_correct, self.epoch_counted = 0.0, 0, 0, 0


def save_checkpoint(path: Path, parts: Trainable, state: RunState, tokens: list[str], data_summary: dict) -> None:
    rank = distributed.rank()
    staging = path.parent / f".{path.name}.shares"
    if rank:
        folder = staging / f"rank-{rank}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write_state(folder, parts, state, tokens, data_summary)
    distributed.barrier()
    if not rank:
        with atomic_dir(path) as tmp:
            write_state(tmp, parts, state, tokens, data_summary)
            for other in range(1, distributed.world_size()):
                os.rename(staging / f"rank-{other}", tmp / f"rank-{other}")
    distributed.barrier()


def write_state(folder: Path, parts: Trainable, state: RunState, tokens: list[str], data_summary: dict) -> None:
    tensors = {f"{name}.{k}": v for name, module in parts.checkpointed().items()
               for k, v in module.state_dict().items()}
    optim = parts.optimizer.state_dict()
    numbers = []  # slots that are Python numbers (RowAdam's step): given back as numbers, not tensors
    for pid, slots in optim["state"].items():
        for name, value in slots.items():
            if not torch.is_tensor(value):
                numbers.append(f"optim.{pid}.{name}")
            tensors[f"optim.{pid}.{name}"] = value if torch.is_tensor(value) else torch.tensor(value)
    tensors["rng.torch"] = torch.get_rng_state()
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    meta = {"format_version": 2, "state": asdict(state), "param_groups": optim["param_groups"], "optim_numbers": numbers,
            "tokens": tokens, "data": data_summary}
    save_file(tensors, str(folder / "state.safetensors"))
    atomic_write_json(folder / "state.json", meta)


def load_checkpoint(path: Path, parts: Trainable) -> RunState:
    """The run's state, into `parts`; in a run over several processes, this process's own."""
    if distributed.rank():
        path = path / f"rank-{distributed.rank()}"
    meta = read_run_json(path / "state.json")
    try:
        tensors = load_file(str(path / "state.safetensors"))
    except (OSError, SafetensorError) as err:
        raise DataError(path / "state.safetensors", None, f"damaged checkpoint ({err}): start a new run") from None
    for name, module in parts.checkpointed().items():
        prefix = f"{name}."
        module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    optim_state: dict[int, dict] = {}
    numbers = set(meta.get("optim_numbers", []))
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            optim_state.setdefault(int(pid), {})[name] = value.item() if key in numbers else value
    parts.optimizer.load_state_dict({"state": optim_state, "param_groups": meta["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    return RunState(**meta["state"])


def read_checkpoint_meta(run: Path) -> dict | None:
    """The checkpoint's JSON half, or None when the run has no checkpoint."""
    path = run / "checkpoint"
    recover_dir(path)
    if not (path / "state.json").is_file():
        return None
    meta = read_run_json(path / "state.json")
    if meta.get("format_version") != 2:
        raise SamesenseError(f"{run}: a checkpoint from an older samesense (before model components); "
                             "its model/ still loads, but training cannot resume: start a new run")
    return meta


def saved_config(run: str | Path) -> TrainConfig | None:
    """The config a run in this folder was started with, or None when there is no run there."""
    path = Path(run) / RUN_CONFIG
    if not path.is_file():
        return None
    values = read_run_json(path)
    try:
        return TrainConfig.from_dict(values)
    except SamesenseError as err:  # e.g. a setting a newer samesense wrote: name the file it is in
        raise DataError(path, None, str(err)) from None


def read_run_json(path: Path) -> dict:
    """A JSON object of a run folder (run.json, checkpoint/state.json); a damaged or hand-edited
    one is a DataError naming the file and, for bad JSON, the line."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DataError(path, None, f"cannot read ({err.strerror or err})") from None
    except UnicodeDecodeError as err:
        raise DataError(path, None, f"invalid UTF-8 (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise DataError(path, err.lineno, f"damaged run file ({err.msg})") from None
    except RecursionError:  # nested deeper than the parser goes
        raise DataError(path, None, "damaged run file (nested too deep)") from None
    if not isinstance(value, dict):
        raise DataError(path, None, "damaged run file (not a JSON object)")
    return value
