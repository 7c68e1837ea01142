"""Argument helpers the FAQ commands share (faq.py, ask.py, serve.py): the bank, --model,
--unanswered-log, --threads, and the bounded float types of the answer settings.

Light on purpose: the bounds come from samesense.faq.choices, which imports no numpy, FAISS or FastAPI.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..encoder_spec import spec_help
from ..faq.choices import ANSWER_BOUNDS
from .parsing import cpu_count


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


def threads_arg(p) -> None:
    p.add_argument("--threads", type=cpu_count(), default=None, metavar="N",
                   help="CPU threads for encoding and searching (torch, onnxruntime, e5-small's engine, FAISS); "
                   "default: as the libraries choose, all cores")


# the variables the thread pools read when their library starts (torch's intra-op pool, OpenMP's: FAISS
# and e5-small's engine, MKL, OpenBLAS); onnxruntime takes torch's setting (runtime/onnx.py)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def use_threads(threads: int | None) -> None:
    """Cap the thread pools at `threads` (None: leave them), before the model is loaded: by the
    variables they read when they start, and torch's own setting if it is loaded already."""
    if not threads:
        return
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
