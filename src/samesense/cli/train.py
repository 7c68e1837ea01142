"""samesense train: its flags are TrainConfig's fields (options.py derives them), so a setting is
declared once, in samesense/train/config.py; only --progress, --quiet and --json are the command's own."""

from __future__ import annotations

import argparse
import json

from .. import train as training  # a lazy package: the loop (torch) loads when a run starts
from ..errors import SamesenseError
from ..train.config import SECTIONS, TrainConfig  # no torch; the flags' choices bring it (train only)
from .options import add_sections, given_values
from .parsing import add_progress_flags


def add_train(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Train a sentence encoder: every group is a class, a margin-softmax head pulls a group's "
        "sentences together and pushes other groups away. After each epoch the model is scored "
        "open-set on validation groups it never saw; the best one is kept in OUT/model. With "
        "--resume, the run goes on with its own settings; only --epochs, --threads, --device and "
        "the progress bars may change (other flags must match the run's, or start a new run).")
    run = add_sections(parser, SECTIONS, required=("out",))["run"]
    add_progress_flags(run, default=argparse.SUPPRESS)
    run.add_argument("--json", action="store_true", help="print the run's summary (without its history) "
                     "as JSON at the end")
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    given = given_values(args, *SECTIONS.values())
    # resuming: the run's stored settings, changed only where a flag was given (None: no run there
    # yet, so it starts afresh)
    saved = training.saved_config(given["out"]) if given.get("resume") else None
    if saved is None and not given.get("train"):
        raise SamesenseError("--train FILE is required (unless --resume continues a run)")
    cfg = saved.replace(**given) if saved is not None else TrainConfig.from_dict(given)
    summary = training.train(cfg)
    if args.json:
        print(json.dumps({key: value for key, value in summary.items() if key != "history"}))
    return 0
