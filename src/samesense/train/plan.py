"""A run planned once: the settings in, every rule that settings ask of each other checked here, and
what the run will build out. step.build and the loop only carry the plan out.

    plan = plan_run(cfg, teacher_given=False)
    plan.loss        the loss class (what it needs: a head over classes, batches of sentences or of groups)
    plan.head        "every" class centre, a "sampled" share each step, a "sharded" share per process, or None
    plan.encoder     the encoder class (encoders/: how it is made from cfg.model)
    plan.lr, plan.head_lr, plan.centre_init, plan.distils

A plan needs no data, so a run whose settings cannot work is refused before anything is read or
encoded (a teacher's pass over the training text takes minutes). What depends on the data (a
validation file of training groups, too few groups to split over the processes) is refused where
the data is read (data.py) or the head is made (step.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..bounds import usable_cpus
from ..errors import SamesenseError
from ..losses import LOSSES, Loss
from .config import TrainConfig


@dataclass(frozen=True)
class RunPlan:
    cfg: TrainConfig
    loss: type[Loss]
    head: str | None  # "every", "sampled", "sharded"; None: a loss over batches of groups needs none
    encoder: type
    lr: float  # the encoder's (and the loss's and terms' own parameters')
    head_lr: float  # the class centres'
    centre_init: str  # "random" or "means" (each group's mean vector by the untrained encoder)
    distils: bool  # a teacher's vectors are learned from (named by cfg.distil.teacher, or given)

    @property
    def batching(self) -> str:
        return self.loss.batching


def plan_run(cfg: TrainConfig, teacher_given: bool = False) -> RunPlan:
    """Check cfg (each setting, then what settings ask of each other) and say what the run builds.
    `teacher_given`: a teacher object comes from the caller (train(..., teacher=)), not cfg."""
    cfg.check()
    check_machine(cfg)
    model, loss = cfg.model, LOSSES[cfg.loss.loss]
    encoder = model.encoder_class()
    encoder.check_settings(model)
    if model.pretrained and not encoder.fine_tuned:
        raise SamesenseError(f"--pretrained is for --encoder transformer, not {model.encoder}")
    if model.init_from and not encoder.starts_from_teacher:
        raise SamesenseError(f"--init-from starts a static encoder's table from a teacher: give --encoder static, "
                             f"not {model.encoder}")
    if model.glyph_pretrain and not model.glyphs:
        raise SamesenseError("--glyph-pretrain pretrains the glyph CNN: add --glyphs")
    if cfg.optim.freeze_layers and not encoder.fine_tuned:
        raise SamesenseError("--freeze-layers keeps a pretrained transformer's lower layers: give --encoder "
                             "transformer")
    distils = bool(cfg.distil.teacher or teacher_given)
    check_distillation(cfg, loss, distils)
    head = head_kind(cfg, loss)
    if cfg.data.hard_negatives and loss.batching != "groups":
        raise SamesenseError(f"hard negatives need a loss over batches of groups (contrastive, triplet, "
                             f"pair), not {cfg.loss.loss}")
    if cfg.optim.accumulate > 1 and (loss.batching != "sentences"
                                     or cfg.distil.distil_objective == "similarity" and distils):
        raise SamesenseError("--accumulate splits a batch into parts scored alone: for a loss over all groups (the "
                             f"margin-softmax family), not {cfg.loss.loss} or a batch similarity objective, which "
                             "compare the sentences of a whole batch")
    if cfg.loss.orthogonal and head is None:
        raise SamesenseError(f"the orthogonal penalty acts on class centres; {cfg.loss.loss} has none")
    return RunPlan(cfg, loss, head, encoder, cfg.base_lr(), cfg.head_lr(), cfg.centre_init(), distils)


def check_machine(cfg: TrainConfig) -> None:
    """What the run asks of this machine: a device torch knows and can use, no more processes than it
    runs at once (one a core; one a GPU with cuda; torchrun, which places processes over several
    machines, is its own judge), no more threads than it has cores."""
    import torch

    name, cores = cfg.run.device, usable_cpus()
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise SamesenseError(f"--device {name}: not a device torch knows (cpu, cuda, cuda:1, ...)") from None
    if device.type not in ("cpu", "cuda"):
        raise SamesenseError(f"--device {name}: samesense trains on cpu or cuda")
    gpus = torch.cuda.device_count() if device.type == "cuda" and torch.cuda.is_available() else 0
    if device.type == "cuda" and not gpus:
        raise SamesenseError(f"--device {name}: this machine has no CUDA device torch can use (no GPU, or a torch "
                             "built for CPUs only)")
    if device.type == "cuda" and device.index is not None and device.index >= gpus:
        raise SamesenseError(f"--device {name}: this machine has {gpus} CUDA device{'s' if gpus != 1 else ''}")
    capacity, what = (gpus, "its GPUs") if device.type == "cuda" else (cores, "the CPUs this process may use")
    if cfg.run.processes > capacity and "WORLD_SIZE" not in os.environ:
        raise SamesenseError(f"--processes {cfg.run.processes}: this machine runs at most {capacity} ({what}); "
                             "torchrun places processes over several machines")
    if cfg.run.threads and cfg.run.threads > cores:
        raise SamesenseError(f"--threads {cfg.run.threads}: this process may use {cores} CPUs")


def check_distillation(cfg: TrainConfig, loss: type[Loss], distils: bool) -> None:
    if cfg.distil.unlabeled and not distils:
        raise SamesenseError("unlabeled sentences are learned from a teacher alone: give --teacher")
    if cfg.distil.unlabeled and loss.batching != "sentences":
        raise SamesenseError(f"unlabeled sentences go with a loss over all groups (the margin-softmax family), "
                             f"not {cfg.loss.loss}, whose batches are whole groups")


def head_kind(cfg: TrainConfig, loss: type[Loss]) -> str | None:
    """Every class centre (the article's head), a sample of them each step (Partial FC), or this
    process's share of them; and what sampled and split centres go with."""
    if not loss.needs_head:
        head = None
    else:
        head = "sharded" if cfg.run.processes > 1 else "sampled" if cfg.loss.sample_rate < 1.0 else "every"
    sampled, split = cfg.loss.sample_rate < 1.0, cfg.run.processes > 1
    if not (sampled or split):
        return head
    what = "sampled class centres (--sample-rate)" if sampled else "a run over several processes (--processes)"
    if head is None:
        raise SamesenseError(f"{what}: only with a loss over all groups (the margin-softmax family), "
                             f"not {cfg.loss.loss}")
    if cfg.loss.center_loss or cfg.loss.orthogonal:
        raise SamesenseError(f"{what}: not with --center-loss or --orthogonal, which read every centre "
                             "each step")
    if split and (cfg.distil.teacher or cfg.distil.unlabeled):
        raise SamesenseError("distillation runs in one process: leave out --processes")
    return head
