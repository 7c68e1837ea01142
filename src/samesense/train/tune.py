"""samesense tune: hyper-parameter and architecture search with Optuna.

    study/
      study.db            the Optuna study (SQLite by default; any RDB URL with --storage)
      trials/NNNN/        each trial's training run (its model, log, curve)
      best/               the chosen trial's model
      trials.csv          every trial: state, settings, validation top-1, encode speed
      pareto.png          validation top-1 against encode speed, the Pareto front marked
      best_command.txt    the `samesense train` command that retrains the chosen configuration

Each trial trains one configuration: the base settings given on the command line (a flag given
fixes that setting: it is not searched) with the searched ones laid over them (SearchSpace), and
is scored by validation top-1 (the best epoch's) and, with --objectives top1-speed, by encode speed
(sentences/s on this machine), a two-objective search whose answer is a Pareto front. Samplers:
TPE (Bayesian), CMA-ES (its numeric settings; categorical ones independently), NSGA-II
(evolution), random. With one objective, weak trials stop early on their learning curves (median
or Hyperband pruner on per-epoch validation top-1); Optuna does not prune multi-objective trials.

The study lives in its storage, so `tune` started again goes on where it stopped, and several
processes given the same --storage and --study share one search. A trial whose process was killed
is found by its stopped heartbeat (--stale-after) and run again.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import warnings
from dataclasses import dataclass, fields
from pathlib import Path

from ..console import say
from ..errors import SamesenseError
from .config import SECTIONS, TrainConfig, setting

SAMPLERS = ("tpe", "cmaes", "nsga2", "random")
PRUNERS = ("median", "hyperband", "none")
OBJECTIVES = ("top1", "top1-speed")
SEARCHED = ("encoder", "embed_dim", "hidden_dim", "pooling", "slices", "glyphs", "loss", "scale", "margin", "lr",
            "batch_size", "dropout")


@dataclass
class TuneConfig:
    """search"""

    trials: int = setting(20, "trials this process runs (a study started again counts on from where it stopped)",
                          at_least=1, at_most=1_000_000)
    timeout: float | None = setting(None, "start no trial after this many seconds", at_least=1.0, metavar="SECONDS")
    sampler: str = setting("tpe", "tpe (Bayesian), cmaes (CMA-ES), nsga2 (evolution), random",
                           choices=lambda: list(SAMPLERS))
    objectives: str = setting("top1", "top1: validation top-1; top1-speed: it and encode speed, a Pareto front",
                              choices=lambda: list(OBJECTIVES))
    pruner: str = setting("median", "stop weak trials early on per-epoch validation top-1 (one objective only)",
                          choices=lambda: list(PRUNERS))
    storage: str | None = setting(None, "Optuna storage URL (default: sqlite:///OUT/study.db; e.g. postgresql://... "
                                  "for several machines)", metavar="URL")
    study: str = setting("samesense", "study name in the storage")
    encoders: list[str] = setting(help="encoder kinds to search", factory=lambda: ["gru", "srnn"], metavar="KIND")
    stale_after: float = setting(120.0, "a running trial not heard from in this long was killed: it is run again",
                                 at_least=1.0, metavar="SECONDS")
    speed_sentences: int = setting(1000, "validation sentences encoded to measure speed", at_least=10,
                                   at_most=1_000_000, metavar="N")
    sampler_seed: int = setting(0, "the sampler's seed", at_least=0, at_most=2**32 - 1)


def suggest(trial, fixed: set[str], tc: TuneConfig, base: TrainConfig) -> dict:
    """A configuration for this trial: every SEARCHED setting not fixed by the base flags."""
    params: dict = {}

    def pick(name, choose):
        if name not in fixed:
            params[name] = choose()
        return params.get(name, getattr_flat(base, name))

    encoder = pick("encoder", lambda: trial.suggest_categorical("encoder", tc.encoders))
    pick("embed_dim", lambda: trial.suggest_int("embed_dim", 64, 256, step=64))
    pick("hidden_dim", lambda: trial.suggest_int("hidden_dim", 64, 256, step=64))
    pick("pooling", lambda: trial.suggest_categorical(f"pooling_{encoder}", ["max", "last", "mean"]
                                                      if encoder == "gru" else ["last", "max"]))
    if encoder == "srnn":  # 2 levels; 4 or 16 minimal subsequences, within the default 32 tokens
        pick("slices", lambda: trial.suggest_categorical("slices", [2, 4]))
    if pick("glyphs", lambda: trial.suggest_categorical("glyphs", [False, True])) and "glyph_scope" not in fixed:
        # not searched, but said in the trial's settings: its retrain command then names it, and a later
        # change of the default does not retrain another model
        params["glyph_scope"] = getattr_flat(base, "glyph_scope")
    loss = pick("loss", lambda: trial.suggest_categorical("loss", ["am-softmax", "aam-softmax", "softmax"]))
    pick("scale", lambda: trial.suggest_float("scale", 10.0, 64.0))
    if loss in ("am-softmax", "aam-softmax"):
        pick("margin", lambda: trial.suggest_float(f"margin_{loss}", 0.1, 0.5 if loss == "am-softmax" else 0.6))
    pick("lr", lambda: trial.suggest_float("lr", 1e-4, 1e-2, log=True))
    pick("batch_size", lambda: trial.suggest_int("batch_size", 50, 400, log=True))
    pick("dropout", lambda: trial.suggest_float("dropout", 0.0, 0.5))
    return params


def getattr_flat(cfg: TrainConfig, name: str):
    for section in SECTIONS:
        values = getattr(cfg, section)
        if hasattr(values, name):
            return getattr(values, name)
    raise KeyError(name)


def encode_speed(model, texts: list[str]) -> float:
    """Sentences a second at encode's default batch size (bench's measure: median of 3 after a warm-up)."""
    from ..bench.report import throughput

    return throughput(lambda: model.encode(texts), len(texts))


def make_sampler(optuna, tc: TuneConfig):
    if tc.sampler == "tpe":
        return optuna.samplers.TPESampler(seed=tc.sampler_seed)
    if tc.sampler == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=tc.sampler_seed, warn_independent_sampling=False)
    if tc.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=tc.sampler_seed)
    return optuna.samplers.RandomSampler(seed=tc.sampler_seed)


def make_pruner(optuna, tc: TuneConfig, epochs: int):
    if tc.pruner == "median" and tc.objectives == "top1":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    if tc.pruner == "hyperband" and tc.objectives == "top1":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs)
    return optuna.pruners.NopPruner()


def open_study(optuna, base: TrainConfig, tc: TuneConfig):
    """The study in tc.storage (default: OUT/study.db), created or opened; heartbeats on, so a trial
    whose process stopped beating for tc.stale_after seconds is failed and run once more."""
    out = Path(base.run.out)
    out.mkdir(parents=True, exist_ok=True)
    url = tc.storage or f"sqlite:///{out.resolve() / 'study.db'}"
    directions = ["maximize", "maximize"] if tc.objectives == "top1-speed" else ["maximize"]
    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna, and say so at every use
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            storage = optuna.storages.RDBStorage(
                url, heartbeat_interval=max(1, int(tc.stale_after // 4)), grace_period=int(tc.stale_after),
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1))
            return optuna.create_study(study_name=tc.study, storage=storage, load_if_exists=True,
                                       directions=directions, sampler=make_sampler(optuna, tc),
                                       pruner=make_pruner(optuna, tc, base.optim.epochs))
        except ValueError as err:  # a study of another number of objectives under this name
            raise SamesenseError(f"study {tc.study!r}: {err}") from None
        except Exception as err:  # sqlalchemy's errors for a URL it cannot open
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise SamesenseError(f"--storage {url}: cannot open the study ({first})") from None


def tune(base: TrainConfig, tc: TuneConfig, fixed: set[str], command: list[str]) -> dict:
    """Run up to tc.trials trials of the study in base.run.out; write the outputs; return a summary.
    `fixed`: the settings given on the command line; `command`: those flags, for the retrain command."""
    try:
        import optuna
    except ImportError:
        raise SamesenseError("samesense tune needs optuna: pip install optuna") from None
    from .. import load
    from . import TrainGroups, prepare_data, train

    base.check()
    base.check_files()
    out = Path(base.run.out)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    unknown = [kind for kind in tc.encoders if kind not in ("gru", "srnn")]
    if unknown:
        raise SamesenseError(f"--encoders: {unknown[0]!r} cannot be searched (gru, srnn)")
    study = open_study(optuna, base, tc)
    groups = TrainGroups.read(base)  # read once for every trial
    prepared: dict[str, object] = {}  # tokenized once per tokenizer setting
    speed_texts = (groups.val.sentences if groups.val is not None else groups.train.sentences)[: tc.speed_sentences]

    def objective(trial):
        params = suggest(trial, fixed, tc, base)
        cfg = base.replace(**params, out=str(out / "trials" / f"{trial.number:04d}"), overwrite=True, resume=False)
        key = json.dumps(cfg.model.tokenizer_config(len(groups.train)), sort_keys=True)
        if key not in prepared:
            prepared[key] = prepare_data(cfg, groups)
        stopped = []

        def on_epoch(record):
            if tc.objectives != "top1":
                return None
            trial.report(record["val_top1"], record["epoch"])
            if trial.should_prune():
                stopped.append(record["epoch"])
                return False
            return None

        trial.set_user_attr("settings", params)  # first: a trial killed in training still says what it ran
        say(f"trial {trial.number}: {json.dumps(params)}")
        result = train(cfg, prepared[key], on_epoch=on_epoch)
        speed = encode_speed(load(result["model"]), speed_texts)
        trial.set_user_attr("model", result["model"])
        trial.set_user_attr("epochs", result["epochs"])
        trial.set_user_attr("sentences_per_second", speed)
        trial.set_user_attr("val_top1", result["val_top1"])
        say(f"trial {trial.number}: val top-1 {result['val_top1']:.4f}, {speed:.0f} sentences/s"
            + (f", pruned after epoch {stopped[0]}" if stopped else ""))
        if stopped:
            raise optuna.TrialPruned()
        return (result["val_top1"], speed) if tc.objectives == "top1-speed" else result["val_top1"]

    study.optimize(objective, n_trials=tc.trials, timeout=tc.timeout, catch=(SamesenseError,))
    return write_outputs(optuna, study, out, command)


def write_outputs(optuna, study, out: Path, command: list[str]) -> dict:
    """trials.csv, pareto.png, best/ and best_command.txt from every trial of the study so far."""
    from .. import load
    from ..files import atomic_write_bytes

    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise SamesenseError(f"study {study.study_name!r}: no trial has completed yet")
    rows = [{"trial": t.number, "state": t.state.name.lower(), "val_top1": t.user_attrs.get("val_top1"),
             "sentences_per_second": t.user_attrs.get("sentences_per_second"), "epochs": t.user_attrs.get("epochs"),
             "settings": json.dumps(t.user_attrs.get("settings", t.params))} for t in trials]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(out / "trials.csv", text.getvalue().encode())
    front = pareto_front(done)
    best = max(done, key=lambda t: t.user_attrs["val_top1"])  # with two objectives: the front's most accurate
    load(best.user_attrs["model"]).save(out / "best")
    retrain = shlex.join(["samesense", "train", *command, *flags_of(best.user_attrs.get("settings", {}))])
    atomic_write_bytes(out / "best_command.txt", (retrain + "\n").encode())
    plot_front(done, front, out / "pareto.png")
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
    return {"trials": len(trials), "completed": len(done), "pruned": pruned, "best_trial": best.number,
            "best_val_top1": best.user_attrs["val_top1"], "best_sentences_per_second":
            best.user_attrs["sentences_per_second"], "front": [t.number for t in front], "command": retrain,
            "best_model": str(out / "best")}


def pareto_front(trials: list) -> list:
    """The trials no other beats on both validation top-1 and encode speed."""
    def point(t):
        return t.user_attrs["val_top1"], t.user_attrs["sentences_per_second"]

    return sorted((t for t in trials if not any(point(o)[0] >= point(t)[0] and point(o)[1] >= point(t)[1]
                                                and point(o) != point(t) for o in trials)), key=lambda t: point(t)[1])


def plot_front(trials: list, front: list, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..files import atomic_save_png

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter([t.user_attrs["sentences_per_second"] for t in trials], [t.user_attrs["val_top1"] for t in trials],
               c="0.6", s=18, label="trials")
    ax.plot([t.user_attrs["sentences_per_second"] for t in front], [t.user_attrs["val_top1"] for t in front],
            "o-", c="C3", label="Pareto front")
    for t in front:
        ax.annotate(str(t.number), (t.user_attrs["sentences_per_second"], t.user_attrs["val_top1"]), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("encode speed (sentences/s, this machine)")
    ax.set_ylabel("validation top-1")
    ax.legend()
    fig.tight_layout()
    atomic_save_png(fig, path)
    plt.close(fig)


def flags_of(settings: dict) -> list[str]:
    """`samesense train` flags that give these settings (flat TrainConfig names)."""
    found = {f.name: f for section in SECTIONS.values() for f in fields(section)}
    flags = []
    for name, value in settings.items():
        flag = "--" + (found[name].metadata.get("flag") or name).replace("_", "-")
        if isinstance(value, bool):  # a switch away from its default (options.py); nothing to say at it
            if value != found[name].default:
                flags.append(flag if value else flag.replace("--", "--no-", 1))
        elif isinstance(value, list):
            flags += [flag, *map(str, value)]
        else:
            flags += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return flags
