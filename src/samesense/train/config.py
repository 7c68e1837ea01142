"""TrainConfig: every setting of a training run, in sections, each field with its help text.

The command line is derived from these dataclasses (samesense/cli/options.py): a section is a
group of flags in `train --help`, a field is a flag, and its metadata says the rest (help, flag
name, choices, bounds). So a new setting is one field here, and nothing else to keep in step.

A run stores its config as nested JSON in run.json; `TrainConfig.from_dict` also reads the flat
form of run folders written before sections.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from ..bounds import INT64_MAX, MAX_BATCH, MAX_EPOCHS, MAX_LAYERS, MAX_THREADS, setting, setting_problem
from ..errors import SamesenseError
from .migrate import added_later
from .model_config import ModelConfig


# the registries choices come from, imported only when a flag's choices are asked for
def _losses() -> list[str]:
    from ..losses import LOSSES

    return list(LOSSES)


def _head_precisions() -> list[str]:
    from .heads import PRECISIONS

    return list(PRECISIONS)


LR_SCHEDULES = {
    "constant": lambda progress: 1.0,
    "cosine": lambda progress: 0.5 * (1.0 + math.cos(math.pi * progress)),
    "linear": lambda progress: 1.0 - progress,
}


@dataclass
class DataConfig:
    """data"""

    train: list[str] = setting(help="training files: group_id<TAB>sentence, or s1<TAB>s2<TAB>label pairs "
                               "(pairs become groups); several files are concatenated (group ids are global)",
                               factory=list, metavar="FILE")
    val: str | None = setting(None, "validation groups file of groups not in training (see --val-same-groups); "
                              "without it, --val-fraction of the training groups is held out", metavar="FILE")
    # False: a --val file of training groups is refused (scores on them would read as scores on
    # unseen groups) from the command line and from Python alike, unless this says it is meant.
    val_same_groups: bool = setting(False, "the --val groups are training groups on purpose (the same "
                                           "intents, other sentences): validate on them and report them as seen "
                                           "groups (without it, a --val file sharing group ids with training, or "
                                           "mostly training sentences, is refused)")
    val_fraction: float = setting(0.1, "share of training groups held out for validation when --val is "
                                  "not given (chosen by a hash of the group id and --seed; never trained on, and "
                                  "named when the run starts)", between=(0.0, 1.0))
    watch: list[str] = setting(help="more groups files to score open-set after each epoch; their top-1 is "
                               "logged, never used to choose the best model", factory=list, metavar="FILE")
    format: str = setting("auto", "format of the training files; auto looks at the first line",
                          choices=lambda: ["auto", "groups", "pairs"])
    positive_at: float | None = setting(None, "for pair files with similarity scores: pairs scoring at "
                                        "least this are paraphrases (0/1 labels need nothing)", metavar="SCORE")
    hard_negatives: str | None = setting(None, "group_id<TAB>sentence lines judged NOT equivalent to that "
                                         "group; each batch adds one per group (contrastive, triplet, pair)",
                                         metavar="FILE")


@dataclass
class LossConfig:
    """loss"""

    loss: str = setting("am-softmax", "margin softmax over all groups: softmax (no margin), am-softmax "
                        "(cos - m), aam-softmax (cos(theta + m), ArcFace), a-softmax (cos(m*theta), "
                        "SphereFace, annealed), simpler-a-softmax (min(cos, cos(4*theta)), the article's); "
                        "or over batches of groups: contrastive (in-batch InfoNCE, symmetric), triplet "
                        "(batch-hard), pair (siamese pair classification)", choices=_losses)
    scale: float | None = setting(None, "logit scale s (default: the loss's: 30 for the margin family, 20 "
                                  "for contrastive)", at_least=1e-3, at_most=1e3)
    margin: float | None = setting(None, "margin m (default: the loss's: 0.35 am-softmax, 0.5 aam-softmax, "
                                   "4 a-softmax and simpler-a-softmax, 0.3 triplet)", at_least=0.0)
    per_group: int | None = setting(None, "sentences of each group in a batch, for contrastive, triplet and "
                                    "pair (default: 2, 4 for triplet)", at_least=2, at_most=MAX_BATCH,
                                    metavar="K")
    center_loss: float = setting(0.0, "add center loss with this weight (0: off)", at_least=0.0, metavar="WEIGHT")
    orthogonal: float = setting(0.0, "add BigGAN's off-diagonal orthogonal penalty on the class centres "
                                "with this beta (0: off)", at_least=0.0, metavar="BETA")
    centre_init: str | None = setting(None, "class centres to start from: random, or each group's mean vector by the "
                                      "untrained encoder (means); default: means for a pretrained transformer, whose "
                                      "vectors already say much, random otherwise",
                                      choices=lambda: ["random", "means"])
    sample_rate: float = setting(1.0, "share of the class centres each step scores (Partial FC): the batch's own "
                                 "groups plus a uniform sample of the others; below 1 the untouched centres cost "
                                 "nothing (sparse updates): for hundreds of thousands to millions of groups, e.g. "
                                 "0.1; 1: every centre", at_least=1e-6, at_most=1.0, metavar="R")
    head_precision: str = setting("float32", "number type of the products of the sentence vectors and the class "
                                  "centres: bfloat16 takes them several times faster on CPUs with AMX or "
                                  "AVX512-BF16 (Partial FC's half-precision logits), at about 3 significant digits "
                                  "a cosine; the centres and their optimizer stay float32",
                                  choices=_head_precisions)


@dataclass
class DistilConfig:
    """distillation: a slower teacher's geometry taught to the student, beside the margin loss"""

    teacher: str | None = setting(None, "an encoder to learn from: e5-small, minilm, a samesense model folder or a "
                                  "sentence-transformers folder (a fine-tuned one too); its vectors of every training "
                                  "and --unlabeled sentence are computed once and kept on disk (--teacher-cache); the "
                                  "saved model is the student alone", metavar="MODEL")
    distil_weight: float = setting(1.0, "weight of the distillation term beside the margin loss", at_least=0.0,
                                   metavar="W")
    distil_objective: str = setting("cosine", "cosine: the student's vector through a learned map pulled towards the "
                                    "teacher's; similarity: the batch's similarity matrix made like the teacher's",
                                    choices=lambda: ["cosine", "similarity"])
    unlabeled: list[str] = setting(help="plain text files, one sentence a line, in no group: they take the "
                                   "distillation term alone (needs --teacher and a loss over all groups)",
                                   factory=list, metavar="FILE")
    unlabeled_per_batch: int | None = setting(None, "unlabeled sentences added to each batch (default: as many "
                                              "as the batch size)", at_least=1, at_most=MAX_BATCH, metavar="N")
    teacher_cache: str | None = setting(None, "folder keeping teacher vectors between runs, shared by runs "
                                        "(default: the run folder)", metavar="DIR")


@dataclass
class OptimConfig:
    """optimisation"""

    batch_size: int = setting(100, "sentences a step", at_least=1, at_most=MAX_BATCH)
    epochs: int = setting(10, "passes over the training data (with --resume: the new total)", at_least=1,
                          at_most=MAX_EPOCHS)
    lr: float | None = setting(None, "Adam learning rate of the encoder (default 1e-2 for a static table from "
                               "random rows; 1e-3 for one started from a teacher or a saved model, and for the GRU "
                               "and SRNN; 5e-5 for a pretrained transformer)", at_least=1e-12)
    # Adam moves every centre about lr a coordinate a step whatever its gradient's size, and a centre is
    # a positive in few steps: at the encoder's 1e-3 the centres lagged it. Chosen on lcqmc dev (the
    # Chinese union, 2 epochs, top-1: 1e-3 0.598, 1e-2 0.681, 3e-2 0.729, 1e-1 0.675; scale_accuracy.py
    # --epochs 2 --rates 1.0 --bfloat16-rates --head-lrs ... --out ...); 5 epochs in docs/benchmarks.md. Runs
    # from before 2026-12-06 (run.json: null) keep the encoder's rate.
    head_lr: float | None = setting(None, "learning rate of the class centres (default 3e-2 for an encoder trained "
                                    "from scratch; 1e-3 for a pretrained transformer, whose centres are new while its "
                                    "body is not)", at_least=1e-12)
    # rowwise chosen on lcqmc dev (Chinese union, --sample-rate 0.1, centres at 3e-2, 5 epochs, top-1: adam
    # 0.6966, Adam's first moment with a per-row second moment 0.7206, rowwise 0.7486, 0.7493 in the docs'
    # rerun; scale_accuracy.py --centres-optimizers); runs from before 2026-12-06 (run.json without it)
    # resume with adam.
    centres_optimizer: str = setting("rowwise", "optimizer of sampled class centres (--sample-rate below 1): "
                                     "rowwise (one step size a centre, from the mean of its squared gradient; no "
                                     "momentum: a centre is drawn in few steps) or adam (SparseAdam's rule)",
                                     choices=lambda: ["rowwise", "adam"])
    warmup_steps: int = setting(0, "raise the learning rates linearly from 0 over this many steps first",
                                at_least=0, at_most=INT64_MAX, metavar="STEPS")
    freeze_layers: int = setting(0, "keep a pretrained transformer's embeddings (1) and lowest layers (2, 3, ...) "
                                 "as they are", at_least=0, at_most=MAX_LAYERS, metavar="N")
    accumulate: int = setting(1, "split each batch into this many parts, one forward and backward each, "
                              "gradients summed: the step of the whole batch in less memory (losses over all "
                              "groups)", at_least=1, at_most=MAX_BATCH, metavar="N")
    lr_schedule: str = setting("constant", "keep the rate, or decay it to zero over all epochs",
                               choices=lambda: list(LR_SCHEDULES))
    seed: int = setting(0, "seed for initialisation, order and held-out groups", at_least=0, at_most=INT64_MAX)


@dataclass
class RunConfig:
    """run"""

    out: str = setting("", "run folder: checkpoint/, model/ (the best model), log.jsonl, curve.png",
                       metavar="DIR")
    resume: bool = setting(False, "continue the run in --out from its last checkpoint (starts afresh if "
                           "there is none)")
    overwrite: bool = setting(False, "start again even if --out holds a run")
    checkpoint_every: int = setting(0, "also checkpoint every STEPS batches inside an epoch (0: at epoch "
                                    "ends only)", at_least=0, at_most=INT64_MAX, metavar="STEPS")
    eval_batch_size: int = setting(512, "sentences a batch when encoding validation data", at_least=1,
                                   at_most=MAX_BATCH)
    spectra: bool = setting(True, "log the top-3 singular values of the class centres and encoder "
                            "weights each epoch (--no-spectra: do not)")
    threads: int | None = setting(None, "CPU threads (default: all cores)", at_least=1, at_most=MAX_THREADS)
    device: str = setting("cpu", "torch device, e.g. cpu or cuda")
    processes: int = setting(1, "train in this many processes (torch.distributed: gloo on CPU, nccl on GPUs): the "
                             "encoder data-parallel, the class centres split between them, one loss over all; the "
                             "CLI starts them, or run under torchrun with as many processes", at_least=1,
                             at_most=MAX_THREADS, metavar="N")
    show_progress: bool | None = setting(None, "progress bars: None only on a terminal", cli=False)

    # what a resumed run takes from the new config; everything else comes from its run.json
    # val_same_groups too: it changes what is refused, not what is trained; out too: the folder is the
    # run wherever it now lies (moved, or named relative to another directory)
    RESUMABLE = ("epochs", "show_progress", "threads", "device", "resume", "overwrite", "val_same_groups", "out")


SECTIONS = {"data": DataConfig, "model": ModelConfig, "loss": LossConfig, "distil": DistilConfig,
            "optim": OptimConfig, "run": RunConfig}


@dataclass
class TrainConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    distil: DistilConfig = field(default_factory=DistilConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """From nested sections ({"optim": {"lr": ...}}), flat fields ({"lr": ...}), or both.
        Unknown keys are an error naming the key. A section of a run.json from before a setting
        existed gets the value that keeps that run as it was (migrate.py)."""
        sections: dict[str, dict] = {name: {} for name in SECTIONS}
        owner = {f.name: name for name, section in SECTIONS.items() for f in fields(section)}
        for key, value in values.items():
            if key in SECTIONS and isinstance(value, dict):
                sections[key] = {**added_later(SECTIONS[key], value), **sections[key]}
                for inner, inner_value in value.items():
                    if owner.get(inner) != key:
                        raise SamesenseError(f"unknown setting {key}.{inner}")
                    sections[key][inner] = inner_value
            elif key in owner:
                sections[owner[key]][key] = value
            else:
                raise SamesenseError(f"unknown setting {key!r}")
        return cls(**{name: SECTIONS[name](**sections[name]) for name in SECTIONS})

    @classmethod
    def of(cls, **flat) -> "TrainConfig":
        """TrainConfig.of(train=[...], out="runs/x", loss="triplet"): flat keywords, for scripts."""
        return cls.from_dict(flat)

    def to_dict(self) -> dict:
        return asdict(self)

    def replace(self, **flat) -> "TrainConfig":
        """A copy with some fields changed (flat names), e.g. for a search trial."""
        return TrainConfig.from_dict({**self.to_dict(), **flat})

    def check(self) -> None:
        """Every field against its bounds and choices; the message names the setting. (What
        settings ask of each other is checked where a run is planned: plan.py.)"""
        if not self.run.out:
            raise SamesenseError("no run folder given (out)")
        for name, section in SECTIONS.items():
            values = getattr(self, name)
            for f in fields(section):
                problem = setting_problem(f.name, getattr(values, f.name), f.type, f.metadata)
                if problem:
                    raise SamesenseError(problem)

    def check_files(self) -> None:
        """What a run that reads its data from files needs besides check()."""
        if not self.data.train:
            raise SamesenseError("no training file given")

    def base_lr(self) -> float:
        if self.optim.lr is not None:
            return self.optim.lr
        return self.model.encoder_class().default_lr(self.model)

    def head_lr(self) -> float:
        if self.optim.head_lr is not None:
            return self.optim.head_lr
        return 1e-3 if self.model.fine_tuned else 3e-2

    def centre_init(self) -> str:
        # a model trained before (a pretrained transformer, a saved static table) places each group already
        return self.loss.centre_init or ("means" if self.model.fine_tuned or self.model.start_from else "random")


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """The share of each base rate for a global step (warm-up, then the schedule): a pure function
    of the step, so a resumed run follows it."""
    warm = min(1.0, (step + 1) / cfg.optim.warmup_steps) if cfg.optim.warmup_steps else 1.0
    return warm * LR_SCHEDULES[cfg.optim.lr_schedule](min(step / max(total_steps, 1), 1.0))
