"""Argument helpers the FAQ commands share (faq.py, ask.py, serve.py): the bank, --model,
--unanswered-log, and the bounded float types of the answer settings.

Light on purpose: the bounds come from samesense.faq.choices, which imports no numpy, FAISS or FastAPI.
"""

from __future__ import annotations

import argparse

from ..encoder_spec import spec_help
from ..faq.choices import ANSWER_BOUNDS


def bank_arg(p, create: bool = False) -> None:
    p.add_argument("bank", metavar="BANK", help="FAQ bank: a SQLite file, or a PostgreSQL database "
                   "(postgresql://USER@HOST:PORT/DB; the PG* environment variables fill in what it leaves out)"
                   + ("; created if missing" if create else ""))


def model_arg(p, required: bool = False) -> None:
    p.add_argument("--model", metavar="MODEL", required=required,
                   help=f"what encodes the questions (default: the one the bank remembers): "
                   f"{spec_help(need_vectors=True)}; a writable open (import, add, calibrate, serve with a "
                   "token) remembers it and re-encodes the bank for a new model; ask, calibrate --dry-run and "
                   "a read-only serve encode the questions in memory and leave the file alone")


def number(low: float, high: float, low_excluded: bool = False):
    """An argparse type: a float from `low` (or above it, with `low_excluded`) to `high`; nan and
    inf are refused (they pass no comparison, and a bank must not store them)."""
    def read(text: str) -> float:
        value = float(text)
        if not (low < value if low_excluded else low <= value) or not value <= high:
            raise argparse.ArgumentTypeError(f"must be {'above' if low_excluded else 'from'} {low:g} "
                                             f"{'and at most' if low_excluded else 'to'} {high:g}, got {text}")
        return value

    read.__name__ = "float"  # argparse's message for unreadable text: "invalid float value: 'x'"
    return read


def answer_setting(key: str):
    """The argparse type of an answer setting (threshold, margin, max_unknown, hybrid): its bounds."""
    return number(*ANSWER_BOUNDS[key])


def unanswered_log_arg(p) -> None:
    p.add_argument("--unanswered-log", metavar="FILE",
                   help="the unanswered-questions log (default: BANK.unanswered, beside the bank)")
