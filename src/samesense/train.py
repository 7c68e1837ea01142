"""Training: every group is a class; a margin-softmax head teaches the encoder to rank.

The same loop also trains the baselines the article argues against (pair classification, batch-
hard triplet, in-batch contrastive), which take batches of whole groups instead of a head.

A run folder holds everything about one training run:

    run/
      run.json            the TrainConfig, as given
      checkpoint/         last state (weights, head, loss, optimizer, RNG, history): resume from here
      model/              the best model so far (by validation top-1): what you use
      log.jsonl           one JSON record per epoch
      curve.png           loss, validation top-1 and the class centres' singular values by epoch

Checkpoints are written atomically at every epoch's end (and every `checkpoint_every` steps), so a
run killed at any moment resumes from its last checkpoint with `resume=True`. Each epoch's batches
come from (seed, epoch), and the RNG state is saved, so a resumed run follows the same path as an
uninterrupted one.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from tqdm.auto import tqdm

from .data import Groups, SamesenseError, load_groups, read_groups, split_groups
from .evaluate import open_set_ranking
from .files import atomic_dir, atomic_write_bytes, atomic_write_json, recover_dir
from .heads import CosineHead
from .losses import CenterLoss, make_loss, orthogonal_penalty
from .model import SentenceModel
from .monitor import weight_spectra
from .samplers import group_batches, sentence_batches
from .tokenize import make_tokenizer


@dataclass
class TrainConfig:
    train: list[str]
    out: str
    val: str | None = None  # a groups file of unseen groups; else hold out val_fraction of train
    val_fraction: float = 0.1
    watch: list[str] = field(default_factory=list)  # more groups files scored each epoch, logged only
    format: str = "auto"  # auto | groups | pairs
    positive_at: float | None = None  # pairs with a label at least this are paraphrases
    normalize: bool = True
    tokenizer: str = "char"
    max_len: int = 32
    min_count: int = 5
    encoder: str = "gru"
    embed_dim: int = 128
    hidden_dim: int = 128
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.2  # on token embeddings, in training only: groups unseen in training rank better
    pooling: str = "max"  # max | last (the article's) | mean: how the GRU's outputs become one vector
    loss: str = "am-softmax"
    scale: float | None = None  # None: the loss's default (30 for the margin family)
    margin: float | None = None  # None: the loss's default (0.35 for am-softmax)
    per_group: int | None = None  # sentences of a group in a batch, for group-batched losses
    hard_negatives: str | None = None  # group_id<TAB>sentence judged NOT equivalent to the group
    center_loss: float = 0.0  # weight of the center-loss term; 0: off
    orthogonal: float = 0.0  # beta of the off-diagonal orthogonal penalty on the class centres
    spectra: bool = True  # log top-3 singular values of the centres and encoder weights each epoch
    batch_size: int = 100
    epochs: int = 10
    lr: float = 1e-3
    lr_schedule: str = "constant"  # constant | cosine | linear: decay to zero over all epochs
    seed: int = 0
    threads: int | None = None
    device: str = "cpu"
    eval_batch_size: int = 512
    checkpoint_every: int = 0  # steps between mid-epoch checkpoints; 0: at epoch ends only
    show_progress: bool | None = None  # None: when stderr is a terminal

    def encoder_config(self) -> dict:
        return {"type": self.encoder, "embed_dim": self.embed_dim, "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers, "bidirectional": self.bidirectional,
                "dropout": self.dropout, "pooling": self.pooling}

    def tokenizer_config(self) -> dict:
        return {"type": self.tokenizer, "max_len": self.max_len, "min_count": self.min_count,
                "normalize": self.normalize}

    def check(self) -> None:
        for name in ("batch_size", "epochs", "eval_batch_size", "embed_dim", "hidden_dim", "num_layers"):
            if getattr(self, name) < 1:
                raise SamesenseError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.per_group is not None and self.per_group < 2:
            raise SamesenseError(f"per_group must be at least 2, got {self.per_group}")
        if not self.lr > 0:
            raise SamesenseError(f"lr must be positive, got {self.lr}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise SamesenseError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        if self.center_loss < 0 or self.orthogonal < 0:
            raise SamesenseError("center_loss and orthogonal weights cannot be negative")
        if not self.train:
            raise SamesenseError("no training file given")

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


LR_SCHEDULES = {
    "constant": lambda progress: 1.0,
    "cosine": lambda progress: 0.5 * (1.0 + math.cos(math.pi * progress)),
    "linear": lambda progress: 1.0 - progress,
}


def learning_rate(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """The rate for a global step: a pure function of the step, so a resumed run follows it."""
    return cfg.lr * LR_SCHEDULES[cfg.lr_schedule](min(step / max(total_steps, 1), 1.0))


@dataclass
class TrainData:
    train: Groups
    val: Groups
    token_ids: list[list[int]]  # training sentences, then hard negatives, tokenized once
    row_labels: np.ndarray  # a group label per row; hard negatives get -1, -2, ... (no group)
    hard_negatives: dict[int, np.ndarray] = field(default_factory=dict)  # group -> its rows
    watched: dict[str, Groups] = field(default_factory=dict)

    def summary(self) -> dict:
        return {"train_sentences": len(self.train), "train_groups": self.train.num_groups,
                "val_sentences": len(self.val), "val_groups": self.val.num_groups,
                "hard_negatives": len(self.token_ids) - len(self.train),
                "skipped_empty": self.train.skipped_empty + (self.val.skipped_empty if self.val is not self.train else 0)}


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


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Data


def prepare_data(cfg: TrainConfig, tokens: list[str] | None = None):
    groups = load_groups(cfg.train, cfg.format, cfg.normalize, cfg.positive_at)
    if cfg.val:
        train_groups, val = groups, load_groups(cfg.val, "auto", cfg.normalize, cfg.positive_at)
    else:
        train_groups, val = split_groups(groups, cfg.val_fraction, cfg.seed)
    if train_groups.num_groups < 2:
        raise SamesenseError(f"training needs at least 2 groups, found {train_groups.num_groups}")
    tokenizer = make_tokenizer(cfg.tokenizer_config(), tokens)
    if tokens is None:
        tokenizer.fit(train_groups.sentences)
    token_ids = [tokenizer.encode(s) for s in train_groups.sentences]
    row_labels = [int(label) for label in train_groups.labels]
    hard_negatives: dict[int, list[int]] = {}
    if cfg.hard_negatives:
        index = {name: label for label, name in enumerate(train_groups.names)}
        negatives = read_groups(cfg.hard_negatives, cfg.normalize)
        for sentence, label in zip(negatives.sentences, negatives.labels):
            group = index.get(negatives.names[label])
            if group is None:  # a group held out for validation, or not in training at all
                continue
            hard_negatives.setdefault(group, []).append(len(token_ids))
            row_labels.append(len(train_groups) - len(token_ids) - 1)  # -1, -2, ...: in no group
            token_ids.append(tokenizer.encode(sentence))
    watched = {f"{Path(p).parent.name}/{Path(p).stem}": load_groups(p, "auto", cfg.normalize, cfg.positive_at)
               for p in cfg.watch}
    data = TrainData(train_groups, val, token_ids, np.asarray(row_labels, dtype=np.int64),
                     {g: np.asarray(rows) for g, rows in hard_negatives.items()}, watched)
    return data, tokenizer


# ---------------------------------------------------------------------------------------------
# What is trained: the encoder, and the head, loss layers and regularisers that help train it


@dataclass
class Trainable:
    model: SentenceModel
    head: CosineHead | None  # only for the margin-softmax family
    loss_fn: nn.Module
    center: CenterLoss | None
    optimizer: torch.optim.Optimizer

    def checkpointed(self) -> dict[str, nn.Module]:
        parts = {"encoder": self.model.encoder, "head": self.head, "loss": self.loss_fn, "center": self.center}
        return {name: module for name, module in parts.items() if module is not None}


def build(cfg: TrainConfig, data: TrainData, tokenizer) -> Trainable:
    torch.manual_seed(cfg.seed)
    model = SentenceModel.build(tokenizer, cfg.encoder_config()).to(cfg.device)
    loss_fn = make_loss(cfg.loss, dim=model.dim, scale=cfg.scale, margin=cfg.margin).to(cfg.device)
    head = CosineHead(data.train.num_groups, model.dim).to(cfg.device) if loss_fn.uses_head else None
    if cfg.hard_negatives and loss_fn.batching != "groups":
        raise SamesenseError(f"hard negatives need a loss over batches of groups (contrastive, triplet, "
                             f"pair), not {cfg.loss}")
    if cfg.orthogonal and head is None:
        raise SamesenseError(f"the orthogonal penalty acts on class centres; {cfg.loss} has none")
    center = CenterLoss(data.train.num_groups, model.dim, cfg.center_loss).to(cfg.device) if cfg.center_loss else None
    params = [p for module in (model, head, loss_fn, center) if module is not None for p in module.parameters()]
    return Trainable(model, head, loss_fn, center, torch.optim.Adam(params, lr=cfg.lr))


def epoch_batches(cfg: TrainConfig, data: TrainData, loss_fn, epoch: int) -> list[np.ndarray]:
    if loss_fn.batching == "groups":
        return group_batches(data.train.labels, cfg.batch_size, cfg.per_group or loss_fn.per_group,
                             cfg.seed, epoch, data.hard_negatives)
    return sentence_batches(len(data.train), cfg.batch_size, cfg.seed, epoch)


def train_step(parts: Trainable, cfg: TrainConfig, ids, lengths, y) -> tuple[float, int, int]:
    """One optimizer step; returns (loss, correct, counted) for the progress bar."""
    z = parts.model(ids, lengths)
    if parts.head is not None:
        cos = parts.head(z)
        loss = parts.loss_fn(cos, y)
        correct, counted = int((cos.argmax(1) == y).sum()), len(y)
    else:
        loss = parts.loss_fn(z, y)
        correct, counted = in_batch_top1(z.detach(), y)
    if parts.center is not None:
        loss = loss + parts.center(z, y)
    if cfg.orthogonal:
        loss = loss + orthogonal_penalty(parts.head.centres(), cfg.orthogonal)
    parts.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    parts.optimizer.step()
    return loss.item(), correct, counted


def in_batch_top1(z: torch.Tensor, labels: torch.Tensor) -> tuple[int, int]:
    """How many group sentences of the batch have a same-group sentence as nearest neighbour."""
    sims = z @ z.t()
    sims.fill_diagonal_(float("-inf"))
    nearest = labels[sims.argmax(1)]
    same = labels[:, None] == labels[None, :]
    counted = (labels >= 0) & (same.sum(1) > 1)
    return int(((nearest == labels) & counted).sum()), int(counted.sum())


# ---------------------------------------------------------------------------------------------
# Checkpoints: tensors in safetensors, everything else in JSON (nothing pickled)


def save_checkpoint(path: Path, parts: Trainable, state: RunState, tokens: list[str], data_summary: dict) -> None:
    tensors = {f"{name}.{k}": v for name, module in parts.checkpointed().items()
               for k, v in module.state_dict().items()}
    optim = parts.optimizer.state_dict()
    for pid, slots in optim["state"].items():
        for name, value in slots.items():
            tensors[f"optim.{pid}.{name}"] = value if torch.is_tensor(value) else torch.tensor(value)
    tensors["rng.torch"] = torch.get_rng_state()
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    meta = {"state": asdict(state), "param_groups": optim["param_groups"], "tokens": tokens,
            "data": data_summary}
    with atomic_dir(path) as tmp:
        save_file(tensors, str(tmp / "state.safetensors"))
        atomic_write_json(tmp / "state.json", meta)


def load_checkpoint(path: Path, parts: Trainable) -> RunState:
    meta = json.loads((path / "state.json").read_text(encoding="utf-8"))
    tensors = load_file(str(path / "state.safetensors"))
    for name, module in parts.checkpointed().items():
        prefix = f"{name}."
        module.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    optim_state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, pid, name = key.split(".", 2)
            optim_state.setdefault(int(pid), {})[name] = value
    parts.optimizer.load_state_dict({"state": optim_state, "param_groups": meta["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    return RunState(**meta["state"])


def read_checkpoint_meta(run: Path) -> dict | None:
    path = run / "checkpoint"
    recover_dir(path)
    if not (path / "state.json").is_file():
        return None
    return json.loads((path / "state.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# Logs and plots


def write_log(run: Path, history: list[dict]) -> None:
    atomic_write_bytes(run / "log.jsonl", "".join(json.dumps(r) + "\n" for r in history).encode())


def plot_curve(run: Path, history: list[dict], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    epochs = [r["epoch"] for r in history]
    spectra = [r.get("singular_values", {}) for r in history]
    watched = sorted({name for spectrum in spectra for name in spectrum if name.startswith("head")})
    fig, axes = plt.subplots(1, 3 if watched else 2, figsize=(15 if watched else 10, 3.8))
    axes[0].plot(epochs, [r["loss"] for r in history], marker="o")
    axes[0].set(xlabel="epoch", ylabel="training loss", title="loss")
    axes[1].plot(epochs, [r["val_top1"] for r in history], marker="o", label="top-1")
    axes[1].plot(epochs, [r["val_top5"] for r in history], marker=".", alpha=0.6, label="top-5")
    axes[1].set(xlabel="epoch", ylabel="open-set accuracy", title="validation (unseen groups)")
    axes[1].legend()
    for name in watched:
        for i in range(3):
            values = [s[name][i] if name in s and len(s[name]) > i else np.nan for s in spectra]
            axes[2].plot(epochs, values, marker=".", label=f"sigma_{i + 1}")
        axes[2].set(xlabel="epoch", ylabel="singular value", title="class centres: top singular values")
        axes[2].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.suptitle(title)
    fig.tight_layout()
    tmp = run / ".curve.png.tmp"
    fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    os.replace(tmp, run / "curve.png")


# ---------------------------------------------------------------------------------------------
# The loop


def train(cfg: TrainConfig, resume: bool = False, overwrite: bool = False,
          resume_overrides: tuple[str, ...] = ("epochs", "show_progress", "threads", "device")) -> dict:
    """Train (or resume) the run in cfg.out; return a summary with the best validation scores.

    A resumed run keeps the configuration it was started with, except the fields named in
    `resume_overrides`, which are taken from `cfg` (so a run can be asked to train longer).
    """
    run = Path(cfg.out)
    meta = read_checkpoint_meta(run)
    if meta is not None and not resume and not overwrite:
        raise SamesenseError(f"{run} already holds a training run: pass --resume to continue it, "
                             "--overwrite to start again, or another --out")
    if meta is not None and resume:
        saved = json.loads((run / "run.json").read_text(encoding="utf-8"))
        saved.update({key: getattr(cfg, key) for key in resume_overrides})
        cfg = TrainConfig.from_dict(saved)
    else:
        meta = None
    cfg.check()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    data, tokenizer = prepare_data(cfg, meta["tokens"] if meta else None)
    summary = data.summary()
    if meta and meta["data"] != summary:
        raise SamesenseError(f"{run}: the training data changed since the checkpoint "
                             f"(was {meta['data']}, now {summary}); start a new run")
    parts = build(cfg, data, tokenizer)
    model, loss_fn = parts.model, parts.loss_fn
    state = RunState()
    if meta:
        state = load_checkpoint(run / "checkpoint", parts)
        say(f"resuming {run} after epoch {state.epoch}"
            + (f", step {state.step_in_epoch}" if state.step_in_epoch else ""))
    else:
        run.mkdir(parents=True, exist_ok=True)
        atomic_write_json(run / "run.json", asdict(cfg))
    say(f"training on {summary['train_sentences']} sentences in {summary['train_groups']} groups, "
        f"validating on {summary['val_sentences']} sentences in {summary['val_groups']} unseen groups; "
        f"vocabulary {len(tokenizer)} {cfg.tokenizer}s, loss {loss_fn.name} ({loss_fn.extra_repr()})"
        + (f"; {summary['hard_negatives']} hard negatives" if summary["hard_negatives"] else "")
        + (f"; {summary['skipped_empty']} empty sentences skipped" if summary["skipped_empty"] else ""))

    labels = torch.from_numpy(data.row_labels)
    model.info = {"loss": loss_fn.name, "scale": loss_fn.scale, "margin": loss_fn.margin,
                  "train_files": cfg.train, **summary}

    def checkpoint() -> None:
        save_checkpoint(run / "checkpoint", parts, state, tokenizer.tokens, summary)

    while state.epoch < cfg.epochs:
        epoch = state.epoch + 1
        batches = epoch_batches(cfg, data, loss_fn, epoch)
        model.train()
        loss_fn.train()
        started = time.perf_counter()
        bar = tqdm(range(state.step_in_epoch, len(batches)), desc=f"epoch {epoch}/{cfg.epochs}",
                   unit="batch", initial=state.step_in_epoch, total=len(batches),
                   disable=None if cfg.show_progress is None else not cfg.show_progress, leave=False)
        total_steps = cfg.epochs * len(batches)
        for step in bar:
            for group in parts.optimizer.param_groups:
                group["lr"] = learning_rate(cfg, state.global_step, total_steps)
            rows = batches[step]
            ids, lengths = model.collate([data.token_ids[i] for i in rows])
            value, correct, counted = train_step(parts, cfg, ids.to(cfg.device), lengths,
                                                 labels[rows].to(cfg.device))
            state.global_step += 1
            state.step_in_epoch = step + 1
            state.epoch_loss_sum += value * len(rows)
            state.epoch_seen += len(rows)
            state.epoch_correct += correct
            state.epoch_counted += counted
            state.sentences_seen += len(rows)
            if step % 20 == 0 or step + 1 == len(batches):
                elapsed = state.train_seconds + time.perf_counter() - started
                bar.set_postfix(loss=f"{state.epoch_loss_sum / state.epoch_seen:.3f}",
                                acc=f"{state.epoch_correct / max(state.epoch_counted, 1):.3f}",
                                sent_s=f"{state.sentences_seen / max(elapsed, 1e-9):.0f}")
            if cfg.checkpoint_every and state.global_step % cfg.checkpoint_every == 0 and step + 1 < len(batches):
                state.train_seconds += time.perf_counter() - started
                started = time.perf_counter()
                checkpoint()
        bar.close()
        state.train_seconds += time.perf_counter() - started

        scores = open_set_ranking(model.encode(data.val.sentences, cfg.eval_batch_size), data.val.labels)
        watched = {name: open_set_ranking(model.encode(g.sentences, cfg.eval_batch_size), g.labels)["top1"]
                   for name, g in data.watched.items()}
        record = {"epoch": epoch, "loss": state.epoch_loss_sum / max(state.epoch_seen, 1),
                  "train_acc": state.epoch_correct / max(state.epoch_counted, 1),
                  **{f"val_{k}": v for k, v in scores.items()}, "watch_top1": watched,
                  "lr": parts.optimizer.param_groups[0]["lr"], "train_seconds": round(state.train_seconds, 2),
                  "sentences_per_second": round(state.sentences_seen / max(state.train_seconds, 1e-9), 1)}
        if hasattr(loss_fn, "current_lambda"):
            record["a_softmax_lambda"] = loss_fn.current_lambda()
        if cfg.spectra:
            watched_weights = {"encoder": model.encoder}
            if parts.head is not None:
                watched_weights["head.centres"] = parts.head.centres()
            record["singular_values"] = weight_spectra(watched_weights)
        improved = scores["top1"] > state.best_top1
        if improved:
            state.best_top1, state.best_epoch = scores["top1"], epoch
            model.info.update(best_epoch=epoch, train_seconds=round(state.train_seconds, 2),
                              **{f"val_{k}": v for k, v in scores.items()})
            model.save(run / "model")
        state.history.append(record)
        state.epoch, state.step_in_epoch = epoch, 0
        state.epoch_loss_sum, state.epoch_seen, state.epoch_correct, state.epoch_counted = 0.0, 0, 0, 0
        checkpoint()
        write_log(run, state.history)
        plot_curve(run, state.history, f"{loss_fn.name}, {summary['train_groups']} groups")
        say(f"epoch {epoch}/{cfg.epochs}  loss {record['loss']:.4f}  train acc {record['train_acc']:.3f}  "
            f"val top1 {scores['top1']:.4f} top5 {scores['top5']:.4f} top10 {scores['top10']:.4f}"
            + ("  (best, saved)" if improved else "")
            + "".join(f"\n    watch {name}: top1 {top1:.4f}" for name, top1 in watched.items()))

    throughput = state.sentences_seen / max(state.train_seconds, 1e-9)
    say(f"trained {state.epoch} epochs in {state.train_seconds:.1f}s ({throughput:.0f} sentences/s); "
        f"best val top1 {state.best_top1:.4f} at epoch {state.best_epoch}; model in {run / 'model'}")
    best = next((r for r in state.history if r["epoch"] == state.best_epoch), {})
    return {"model": str(run / "model"), "best_epoch": state.best_epoch, "train_seconds": state.train_seconds,
            "sentences_per_second": throughput,
            **{k: v for k, v in best.items() if k.startswith("val_")}, "history": state.history}
