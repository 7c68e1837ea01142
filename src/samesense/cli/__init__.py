"""The samesense command line: train, eval, similar, bench, export, demo, and the FAQ commands.

Only what is asked for is imported. The top-level parser knows every command's name and one-line
help from COMMANDS; only the module of the command named on the command line is imported, to add
its arguments. So `samesense --help` and `samesense ask --help` start without torch, FastAPI or
FAISS, and a command's heavy imports happen when it runs.

Every user error (bad file, bad flag value, missing model) ends as one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

from .. import __version__
from ..errors import SamesenseError
from .parsing import HelpFormatter, Parser

# name: ("module:function" that adds the command's arguments, one-line help for `samesense --help`)
COMMANDS = {
    "train": ("train:add_train", "train a sentence encoder on groups of same-meaning sentences"),
    "eval": ("eval:add_eval", "score a model open-set on a groups file, or on a pairs file"),
    "similar": ("similar:add_similar", "find the sentences of a file most similar to a text"),
    "bench": ("bench:add_bench", "compare samesense models and baselines on the benchmark protocols"),
    "distil": ("distil:add_distil", "make a static model (token vectors) from a teacher, token by token, no training"),
    "tune": ("tune:add_tune", "search hyper-parameters and encoder architecture with Optuna (TPE, CMA-ES, NSGA-II)"),
    "export": ("export:add_export", "write a model as an ONNX model folder, run by onnxruntime"),
    "demo": ("demo:add_demo", "train on the bundled CLINC150 intents and answer questions about unseen ones"),
    "faq": ("faq:add_faq", "keep an FAQ bank: import, export, list, add, edit, rm, info, set; unanswered, assign, dismiss"),
    "ask": ("ask:add_ask", "answer questions from an FAQ bank, or say there is no confident answer"),
    "calibrate": ("ask:add_calibrate", "choose an FAQ bank's answer threshold for a target precision"),
    "serve": ("serve:add_serve", "serve an FAQ bank over HTTP, with a web page"),
}


def build_parser(only: list[str] | None = None) -> Parser:
    """The parser with every command; the arguments of those in `only` (all when None: for tests
    and docs), the others known by name and help alone."""
    parser = Parser(prog="samesense", description="Train small, fast sentence encoders on groups of "
                    "same-meaning sentences, evaluate them open-set, find similar sentences, and answer "
                    "questions from an FAQ bank.", epilog="Run samesense COMMAND --help for its flags.")
    parser.add_argument("--version", action="version", version=f"samesense {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (target, summary) in COMMANDS.items():
        command = sub.add_parser(name, help=summary, formatter_class=HelpFormatter)
        if only is None or name in only:
            module, function = target.split(":")
            getattr(importlib.import_module(f".{module}", __name__), function)(command)
    return parser


# the top level's own options: argparse acts on one (prints and exits) before it reads a command after it
TOP_LEVEL_ONLY = ("-h", "--help", "--version")


def named_command(argv: list[str]) -> str | None:
    """The command on the command line: its first word that is not an option (the top level's own
    options take no value). None when --help or --version comes first: they answer before any
    command's arguments are read, so no command's module (train's brings torch) is imported."""
    for arg in argv:
        if arg in TOP_LEVEL_ONLY:
            return None
        if not arg.startswith("-"):
            return arg
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(only=[named_command(argv)]).parse_args(argv)
        return args.func(args)
    except SamesenseError as err:
        print(f"samesense: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("samesense: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `samesense faq list BANK | head`
        return 0
    except OSError as err:  # a file the user named: missing, unreadable, a folder, a full disk
        if err.filename is None:  # about no file: not the user's to fix, so shown with its traceback
            raise
        print(f"samesense: error: {err.filename}: {err.strerror or err}", file=sys.stderr)
        return 2
