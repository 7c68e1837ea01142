"""samesense tune: the search's own flags (TuneConfig) beside every `train` flag, which fixes that
setting for every trial (samesense/tune.py says what is searched)."""

from __future__ import annotations

import argparse

from ..train.config import SECTIONS, TrainConfig
from .options import add_sections, given_values


def add_tune(parser: argparse.ArgumentParser) -> None:
    from ..train.tune import TuneConfig

    parser.description = (
        "Search hyper-parameters and encoder architecture with Optuna: each trial trains a model on the "
        "training files and is scored by validation top-1 (and, with --objectives top1-speed, encode "
        "speed: a Pareto front). A train flag given fixes that setting. The study is kept in --storage "
        "(SQLite in OUT by default): started again, tune goes on; several processes may share one study. "
        "Writes OUT/best (the chosen model), trials.csv, pareto.png and best_command.txt.")
    add_sections(parser, {"tune": TuneConfig})
    add_sections(parser, SECTIONS, required=("out",))
    parser.set_defaults(func=run_tune)


def run_tune(args: argparse.Namespace) -> int:
    from ..files import json_text
    from ..train.tune import TuneConfig, flags_of, tune

    given = given_values(args, *SECTIONS.values())
    tc = TuneConfig(**given_values(args, TuneConfig))
    fixed = {k: v for k, v in given.items() if k not in ("out", "resume", "overwrite")}
    base = TrainConfig.from_dict({**fixed, "out": given["out"], "show_progress": False})
    summary = tune(base, tc, set(fixed), flags_of(fixed) + ["--out", "runs/chosen"])
    print(json_text(summary))
    return 0
