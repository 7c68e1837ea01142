"""run_training(): the stages of a run in one process, in order (processes.py's train() calls it).

    run/
      run.json            the TrainConfig, as given
      checkpoint/         last state: resume from here (checkpoint.py)
      model/              the best model so far, by validation top-1: what you use
      log.jsonl, curve.png

open the run (new, or resume its checkpoint) -> plan it (plan.py) -> prepare the data -> the
teacher's vectors, when distilling (teacher.py) -> build what the plan says (step.py) -> for each epoch: train the batches, evaluate on the validation groups, keep the best model (the
last, when validation is too small to choose: data.MIN_VAL_QUERIES), checkpoint, log and plot,
call on_epoch -> summary. Each epoch's batches come from (seed, epoch) and the RNG
state is checkpointed, so a resumed run follows the same path as an uninterrupted one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from . import distributed
from ..console import progress, say
from ..data import plural
from ..encoders.static import started_from
from ..errors import SamesenseError
from ..evaluate import open_set_ranking
from ..files import atomic_write_json
from ..runtime.saved_static import SavedStatic
from .memory import peak_rss_mb
from .monitor import weight_spectra
from .checkpoint import RUN_CONFIG, RunState, load_checkpoint, read_checkpoint_meta, save_checkpoint, saved_config
from .config import RunConfig, TrainConfig, learning_rate
from .data import MIN_VAL_QUERIES, TrainData, TrainGroups, examples, prepare_data
from .migrate import CHOSEN_FROM_DATA, RESOLVED_AT_START, as_saved_before, started
from .plan import RunPlan, plan_run
from .plots import plot_curve, write_log
from .step import Trainable, build, epoch_batches, make_batch, start_centres_at_means, train_step
from .teacher import Taught, teach
from .token_teacher import start_from_teacher

OnEpoch = Callable[[dict], "bool | None"]  # gets each epoch's record; False stops the run


def run_training(cfg: TrainConfig, data: TrainGroups | TrainData | None = None, on_epoch: OnEpoch | None = None,
                 teacher=None) -> dict:
    """Train (or, with cfg.run.resume, continue) the run in cfg.run.out in this process (or as one
    of a group of processes: processes.py starts them and calls this in each); return a summary
    with the best validation scores and the history. The arguments are train()'s (processes.py)."""
    leader = distributed.rank() == 0  # speaks, evaluates, saves the model, writes the checkpoint
    cfg, meta = open_run(cfg)
    plan = plan_run(cfg, teacher is not None)
    if cfg.run.threads:
        torch.set_num_threads(cfg.run.threads)
    run = Path(cfg.run.out)

    data = prepare_data(cfg, data, meta["tokens"] if meta else None)
    run.mkdir(parents=True, exist_ok=True)
    taught = teach(cfg, data, run, teacher)
    summary = data.summary()
    if meta and meta["data"] != summary:
        raise SamesenseError(f"{run}: the training data changed since the checkpoint "
                             f"(was {meta['data']}, now {summary}); start a new run")
    parts = build(plan, data, taught)
    state = RunState()
    if meta:
        state = load_checkpoint(run / "checkpoint", parts)
        say(f"resuming {run} after epoch {state.epoch}" + (f", step {state.step_in_epoch}" if state.step_in_epoch else ""))
    else:
        if cfg.model.start_from:  # before the centres, which may start at the groups' mean vectors
            parts.model.encoder.start_from_saved(cfg.model.start_from)
        elif cfg.model.init_from:
            start_from_teacher(cfg, data, run, parts.model.encoder)
        if parts.head is not None and plan.centre_init == "means":
            say(f"starting the class centres at each group's mean vector ({data.train.num_groups} groups)")
            start_centres_at_means(parts, data, cfg.run.eval_batch_size, cfg.run.show_progress)
        if leader:
            atomic_write_json(run / RUN_CONFIG, cfg.to_dict())
    announce(plan, data, parts, taught)
    parts.model.info = {"loss": parts.loss.name, "scale": parts.loss.scale, "margin": parts.loss.margin,
                        "train_files": cfg.data.train, **summary}
    if cfg.model.start_from:  # provenance: the saved model this one went on from
        parts.model.info.update(started_from(SavedStatic(cfg.model.start_from)))
    if taught is not None:  # provenance only: the student needs nothing of the teacher
        parts.model.info.update(teacher=taught.name, teacher_fingerprint=taught.fingerprint)

    def checkpoint() -> None:
        save_checkpoint(run / "checkpoint", parts, state, data.tokenizer.tokens, summary)

    def write_record() -> None:  # log.jsonl and curve.png, from the history the checkpoint keeps
        if leader and state.history:
            write_log(run, state.history)
            plot_curve(run, state.history, f"{parts.loss.name}, {summary['train_groups']} groups",
                       f"validation ({validation_groups(data)})")

    if meta:  # a kill between the checkpoint and the record left the record an epoch short: mend it
        write_record()

    while state.epoch < cfg.optim.epochs and not state.stopped:
        epoch = state.epoch + 1
        train_epoch(cfg, data, parts, state, epoch, checkpoint, taught)
        record = distributed.broadcast(evaluate_epoch(cfg, data, parts, state, epoch) if leader else None)
        improved = keep_best(run, parts, state, record, data.chooses_epoch, save=leader)
        state.history.append(record)
        state.end_epoch(epoch)
        if on_epoch is not None and on_epoch(record) is False:
            state.stopped = f"stopped by on_epoch after epoch {epoch}"
        checkpoint()
        write_record()
        report_epoch(cfg, record, improved, data.chooses_epoch)
    return finish(run, state, data.chooses_epoch)


# ---------------------------------------------------------------------------------------------
# Stages


def open_run(cfg: TrainConfig) -> tuple[TrainConfig, dict | None]:
    """The config to run and the checkpoint to resume (None: start afresh). A resumed run keeps
    the config it was started with, except the fields in RunConfig.RESUMABLE (train longer, on
    other threads or another device); a setting left to be chosen from the data (CHOSEN_FROM_DATA)
    keeps the value the run saved, as does one whose default is written into run.json at the start
    (RESOLVED_AT_START); a run.json from an older samesense is read as that run was trained
    (migrate.py)."""
    cfg.check()
    run = Path(cfg.run.out)
    meta = read_checkpoint_meta(run)
    if meta is not None and not cfg.run.resume and not cfg.run.overwrite:
        raise SamesenseError(f"{run} already holds a training run: pass --resume to continue it, "
                             "--overwrite to start again, or another --out")
    if meta is None and cfg.run.resume:  # killed before its first checkpoint: nothing to go on from
        say(f"{run} has no checkpoint yet: starting afresh")
    if meta is None or not cfg.run.resume:
        return started(cfg), None
    new = {name: getattr(section, name) for section in (cfg.data, cfg.optim, cfg.run)
           for name in RunConfig.RESUMABLE if hasattr(section, name)}
    resumed = as_saved_before(saved_config(run)).replace(**new)
    given = cfg.to_dict()
    changed = [f"{section}.{name}" for section, values in resumed.to_dict().items()
               for name, value in values.items() if given[section][name] != value
               and not (name in CHOSEN_FROM_DATA + RESOLVED_AT_START and given[section][name] is None)]
    if changed:
        raise SamesenseError(f"{run}: a resumed run keeps its settings except {', '.join(RunConfig.RESUMABLE[:4])}; "
                             f"these differ from its run.json: {', '.join(changed)} (start a new run to change them)")
    return resumed, meta


def announce(plan: RunPlan, data: TrainData, parts: Trainable, taught: Taught | None) -> None:
    """What the run trains on and validates on, and what was chosen for it, before the first epoch."""
    cfg, s = plan.cfg, data.summary()
    say(f"training on {s['train_sentences']} sentences in {s['train_groups']} groups, "
        f"validating on {s['val_sentences']} sentences in {validation_groups(data)}; "
        + (f"{cfg.model.pretrained}'s own tokenizer ({len(data.tokenizer)} tokens), " if cfg.model.fine_tuned else
           f"{cfg.model.start_from}'s tokenizer and table ({len(data.tokenizer)} tokens), " if cfg.model.start_from else
           f"{cfg.model.init_from}'s own tokenizer ({len(data.tokenizer)} tokens), " if cfg.model.tokenizer_kind == "teacher"
           else f"vocabulary {len(data.tokenizer)} {TOKEN_NAMES.get(cfg.model.tokenizer_kind, 'token')}s "
                f"({min_count_chosen(cfg, data)}), ")
        + f"loss {parts.loss.name} ({parts.loss.extra_repr()})"
        + (f"; {s['hard_negatives']} hard negatives" if s["hard_negatives"] else "")
        + (f"; {s['unlabeled_sentences']} unlabeled sentences" if s.get("unlabeled_sentences") else "")
        + (f"; distilling from {cfg.distil.teacher or 'the given teacher'} ({taught.dim}-d, "
           f"{cfg.distil.distil_objective}, weight {cfg.distil.distil_weight:g})" if taught is not None else "")
        + (f"; {s['skipped_empty']} empty sentences skipped" if s["skipped_empty"] else ""))
    say(f"memory: token ids {data.token_ids.nbytes / 2**20:.1f} MB, class centres "
        f"{sum(p.numel() * p.element_size() for p in parts.head.parameters()) / 2**20 if parts.head else 0:.1f} MB "
        f"({centres_state(cfg, parts)}), process peak so far {peak_rss_mb():.0f} MB")
    if cfg.model.fine_tuned:
        frozen = cfg.optim.freeze_layers
        start = "each group's mean vector" if plan.centre_init == "means" else "random"
        say(f"fine-tuning {cfg.model.pretrained}: encoder lr {plan.lr:g}, class centres lr {plan.head_lr:g} "
            f"(starting at {start})"
            + (f", warm-up {cfg.optim.warmup_steps} steps" if cfg.optim.warmup_steps else "")
            + (f", embeddings{f' and {frozen - 1} lowest layers' if frozen > 1 else ''} frozen" if frozen else "")
            + (f", each batch in {cfg.optim.accumulate} parts" if cfg.optim.accumulate > 1 else ""))
    if data.held_out:  # never trained on: say which, so that no group is left out silently
        total = data.train.num_groups + len(data.held_out)
        say(f"held out of training for validation (--val-fraction {cfg.data.val_fraction:g}): "
            f"{len(data.held_out)} of {total} groups: {examples(data.held_out, 10)}")
    if not data.chooses_epoch:
        say(f"only {data.val_queries} validation {'query' if data.val_queries == 1 else 'queries'} (sentences with "
            f"another of their group), fewer than {MIN_VAL_QUERIES}: too few to choose an epoch on, so all "
            f"{cfg.optim.epochs} epochs are trained and the last is kept"
            + ("; to train on every group, give --val FILE (other groups, or the training intents' other "
               "sentences with --val-same-groups)" if data.held_out else ""))


def centres_state(cfg: TrainConfig, parts: Trainable) -> str:
    """What the optimizer keeps beside the class centres, for the memory line."""
    if parts.head is not None and parts.head.sparse and cfg.optim.centres_optimizer == "rowwise":
        return "and one step size a centre"
    return "and Adam's two moments each"


def validation_groups(data: TrainData) -> str:
    """The validation groups as the summary names them: unseen, seen in training, or some of each."""
    total, seen = data.val.num_groups, len(data.val_seen)
    if not seen:
        return plural(total, "unseen group")
    if seen == total:
        return f"{plural(total, 'group')} seen in training"
    return f"{plural(total, 'group')}, {seen} of them seen in training"


TOKEN_NAMES = {"char": "char", "word": "word", "jieba": "word and character"}  # what a vocabulary holds


def min_count_chosen(cfg: TrainConfig, data: TrainData) -> str:
    """The min count, and what it was chosen for when the config left it to the data."""
    count = data.tokenizer.min_count
    if cfg.model.min_count is not None:
        return f"min count {count}"
    return f"min count {count}, chosen for {plural(len(data.train), 'training sentence')}"


def train_epoch(cfg: TrainConfig, data: TrainData, parts: Trainable, state: RunState, epoch: int,
                checkpoint: Callable[[], None], taught: Taught | None) -> None:
    """The epoch's batches from state.step_in_epoch on (a mid-epoch checkpoint resumes there)."""
    batches = epoch_batches(cfg, data, parts.loss, epoch)
    labels = torch.from_numpy(data.row_labels)
    parts.model.train()
    parts.loss.train()
    total_steps = cfg.optim.epochs * len(batches)
    started = time.perf_counter()
    bar = progress(range(state.step_in_epoch, len(batches)), desc=f"epoch {epoch}/{cfg.optim.epochs}",
                   unit="batch", show=cfg.run.show_progress, initial=state.step_in_epoch, total=len(batches))
    rank, shares = distributed.rank(), distributed.world_size()
    for step in bar:
        share = learning_rate(cfg, state.global_step, total_steps)
        for group in parts.optimizer.param_groups:  # checkpoints from before base_lr: one rate, --lr
            group["lr"] = group.get("base_lr", cfg.base_lr()) * share
        rows = batches[step]
        if shares > 1:  # this process's part of the batch; a last batch too small to split is left out
            if len(rows) < shares:
                continue
            rows = np.array_split(rows, shares)[rank]
        pieces = [make_batch(parts, data, labels, piece, cfg.run.device, taught)
                  for piece in np.array_split(rows, min(cfg.optim.accumulate, len(rows)))]
        value, correct, counted = train_step(parts, pieces)
        state.global_step += 1
        state.step_in_epoch = step + 1
        state.epoch_loss_sum += value * len(rows)
        state.epoch_seen += len(rows)
        state.epoch_correct += correct
        state.epoch_counted += counted
        state.sentences_seen += len(batches[step])  # by all the processes
        if step % 20 == 0 or step + 1 == len(batches):
            elapsed = state.train_seconds + time.perf_counter() - started
            bar.set_postfix(loss=f"{state.epoch_loss_sum / state.epoch_seen:.3f}",
                            acc=f"{state.epoch_correct / max(state.epoch_counted, 1):.3f}",
                            sent_s=f"{state.sentences_seen / max(elapsed, 1e-9):.0f}")
        if cfg.run.checkpoint_every and state.global_step % cfg.run.checkpoint_every == 0 and step + 1 < len(batches):
            state.train_seconds += time.perf_counter() - started
            started = time.perf_counter()
            checkpoint()
    bar.close()
    state.train_seconds += time.perf_counter() - started


def evaluate_epoch(cfg: TrainConfig, data: TrainData, parts: Trainable, state: RunState, epoch: int) -> dict:
    """Open-set top-k on the validation groups (and the watched files), and what else is logged."""
    model, batch_size = parts.model, cfg.run.eval_batch_size
    scores = open_set_ranking(model.encode(data.val.sentences, batch_size), data.val.labels)
    watched = {name: open_set_ranking(model.encode(g.sentences, batch_size), g.labels)["top1"]
               for name, g in data.watched.items()}
    record = {"epoch": epoch, "loss": state.epoch_loss_sum / max(state.epoch_seen, 1),
              "train_acc": state.epoch_correct / max(state.epoch_counted, 1),
              **{f"val_{k}": v for k, v in scores.items()}, "watch_top1": watched,
              "lr": parts.optimizer.param_groups[0]["lr"], "train_seconds": round(state.train_seconds, 2),
              "sentences_per_second": round(state.sentences_seen / max(state.train_seconds, 1e-9), 1),
              "peak_rss_mb": round(peak_rss_mb()),
              **parts.loss.log_values()}
    if cfg.run.spectra:
        weights = {"encoder": model.encoder}
        if parts.head is not None:
            weights["head.centres"] = parts.head.centres()
        record["singular_values"] = weight_spectra(weights)
    return record


def keep_best(run: Path, parts: Trainable, state: RunState, record: dict, choose: bool, save: bool = True) -> bool:
    """Save the model when validation top-1 improved, or at every epoch when validation is too small
    to choose one (not `choose`: the last is kept); say whether it was kept. `save` False: only
    note it (a run's other processes; the first saves)."""
    if choose and record["val_top1"] <= state.best_top1:
        return False
    state.best_top1, state.best_epoch = record["val_top1"], record["epoch"]
    if not save:
        return True
    parts.model.info.update(best_epoch=record["epoch"], train_seconds=round(state.train_seconds, 2),
                            **{k: v for k, v in record.items() if k.startswith("val_")})
    parts.model.save(run / "model")
    return True


def report_epoch(cfg: TrainConfig, record: dict, saved: bool, chosen: bool) -> None:
    say(f"epoch {record['epoch']}/{cfg.optim.epochs}  loss {record['loss']:.4f}  train acc {record['train_acc']:.3f}  "
        f"val top1 {record['val_top1']:.4f} top5 {record['val_top5']:.4f} top10 {record['val_top10']:.4f}"
        + (("  (best, saved)" if chosen else "  (saved)") if saved else "")
        + "".join(f"\n    watch {name}: top1 {top1:.4f}" for name, top1 in record["watch_top1"].items()))


def finish(run: Path, state: RunState, chosen: bool) -> dict:
    throughput = state.sentences_seen / max(state.train_seconds, 1e-9)
    kept = (f"best val top1 {state.best_top1:.4f} at epoch {state.best_epoch}" if chosen else
            f"kept the last epoch, {state.best_epoch} (validation too small to choose one): "
            f"val top1 {state.best_top1:.4f}")
    say(f"trained {state.epoch} epochs in {state.train_seconds:.1f}s ({throughput:.0f} sentences/s); "
        f"{kept}; model in {run / 'model'}"
        + (f" ({state.stopped})" if state.stopped else ""))
    best = next((r for r in state.history if r["epoch"] == state.best_epoch), {})
    return {"model": str(run / "model"), "best_epoch": state.best_epoch, "train_seconds": state.train_seconds,
            "sentences_per_second": throughput, "epochs": state.epoch, "stopped": state.stopped,
            **{k: v for k, v in best.items() if k.startswith("val_")}, "history": state.history}
