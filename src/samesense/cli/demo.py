"""samesense demo: train on CLINC150's intents, answer questions about intents it never saw."""

from __future__ import annotations

import argparse

from .parsing import non_negative_int, positive_int


def add_demo(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Hold out a fifth of CLINC150's intents, train on the rest, keep the epoch that ranks the "
        "held-out intents' dev queries best, score it open-set on their test queries, then answer a few new questions (and out-of-scope ones) with their "
        "nearest stored questions.")
    parser.add_argument("--out", default="runs/demo", help="folder for the run, the model and the data split")
    parser.add_argument("--epochs", type=positive_int, default=20, help="training epochs")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed for the held-out intents and training")
    parser.set_defaults(func=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from ..datasets.demo import run_demo as demo

    demo(args.out, args.epochs, args.seed)
    return 0
