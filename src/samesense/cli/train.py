"""samesense train: its flags are TrainConfig's fields (options.py derives them), so a setting is
declared once, in samesense/train/config.py; only --progress, --quiet and --json are the command's own."""

from __future__ import annotations

import argparse

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
        "--resume, the run goes on with its own settings; only --epochs, --threads, --device, --val-same-groups and "
        "the progress bars may change (other flags must match the run's, or start a new run).")
    run = add_sections(parser, SECTIONS, required=("out",))["run"]
    add_progress_flags(run, default=argparse.SUPPRESS)
    run.add_argument("--json", action="store_true", help="print the run's summary (without its history) "
                     "as JSON at the end")
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    from ..files import json_text

    summary = training.train(config_to_run(given_values(args, *SECTIONS.values())))
    if args.json:
        print(json_text({key: value for key, value in summary.items() if key != "history"}))
    return 0


def config_to_run(given: dict) -> TrainConfig:
    """The flags given; with --resume, laid over the settings in the run's run.json. A run with no
    checkpoint yet (killed before its first, or never started) starts afresh (train's open_run),
    so --resume may start a run: then it needs the training files like any new run. A new run
    refuses validation groups that are training groups, unless --val-same-groups is given."""
    saved = training.saved_config(given["out"]) if given.get("resume") else None
    if saved is not None:
        return saved.replace(**given)
    if not given.get("train"):
        if given.get("resume"):
            raise SamesenseError(f"--train FILE is required: {given['out']} holds no run to resume, so "
                                 "--resume starts a new one")
        raise SamesenseError("--train FILE is required (unless --resume continues a run)")
    return TrainConfig.from_dict(given)
