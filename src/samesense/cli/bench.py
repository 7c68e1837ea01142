"""samesense bench: compare samesense models and baselines on the benchmark protocols."""

from __future__ import annotations

import argparse

# names only: the harness (numpy, torch) is imported when the command runs
from ..bench.protocols import PROTOCOLS
from ..encoder_spec import spec_help
from .options import given_values
from .parsing import cpu_count, positive_int, text


def add_bench(parser: argparse.ArgumentParser) -> None:
    from ..baselines import BASELINES  # a table of names; each baseline's packages load when it runs

    parser.description = (
        "Run the protocols of the benchmark data (open-set: ranking, pairs: pair scoring, intent: "
        "matching with abstention, speed: encoding) for every --model and --baseline, each on the test "
        "sets of its languages, and print the tables. Each method encodes the union of its sentences "
        "once. Optional outputs: a JSON file with every number, a markdown section of a doc, PNG plots.")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=MODEL[@LANG]",
                        help=f"a model to compare, shown as NAME: {spec_help()}; its languages (zh, en) come "
                        "from a samesense model's vocabulary or the baseline, unless given as @zh, @en or "
                        "@zh+en (a sentence-transformers folder needs them); repeatable")
    parser.add_argument("--baseline", action="append", default=[], choices=list(BASELINES),
                        help="a baseline to compare (bm25: zh+en, minilm: en, e5-small: zh+en); repeatable")
    # left out, these two take the harness's defaults (its module needs torch, --help does not)
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=argparse.SUPPRESS,
                        metavar="PROTOCOL", help="the protocols to run, one or more of %(choices)s (default: all)")
    parser.add_argument("--tasks", nargs="+", default=argparse.SUPPRESS, metavar="NAME",
                        help="run only these tasks of the protocols, by name as the report shows them (e.g. "
                        "'lcqmc test' 'banking77'; default: all)")
    parser.add_argument("--data", default=argparse.SUPPRESS, metavar="DIR",
                        help="the benchmark data folder, zh/ and en/ inside (default: $SAMESENSE_DATA, "
                        "else ../shared/data)")
    parser.add_argument("--json", metavar="FILE", help="write every number, with the run's settings, to this JSON file")
    parser.add_argument("--doc", metavar="FILE", help="write the tables into this markdown file, as section "
                        "--section (replacing that section only)")
    parser.add_argument("--section", type=text, default="bench",
                        help="name of the section in --doc; also the prefix of the plots")
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots (bars per protocol, speed vs accuracy) here")
    parser.add_argument("--vectors", metavar="DIR",
                        help="keep each encoder's vectors in this folder, named by its fingerprint (a hash "
                        "of the model's files, or of the baseline's package), so that a rerun encodes only new "
                        "sentences; speed is always measured afresh")
    parser.add_argument("--title", type=text, default="Benchmark", help="heading of the report")
    parser.add_argument("--note", type=text, default="",
                        help="a remark for the report, e.g. what else ran on the machine")
    parser.add_argument("--batch-size", type=positive_int, default=256, help="sentences a batch when encoding")
    parser.add_argument("--threads", type=cpu_count(), default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--quiet", dest="show_progress", action="store_false", default=None,
                        help="never show progress bars (default: only on a terminal)")
    parser.set_defaults(func=run_bench)


def run_bench(args: argparse.Namespace) -> int:
    from ..bench import BenchConfig, MethodSpec
    from ..bench import run_bench as bench

    settings = given_values(args, BenchConfig)
    del settings["command"]  # the name of the subcommand, not the command line BenchConfig records
    settings["methods"] = [MethodSpec.parse_model(m) for m in args.model] + [MethodSpec.baseline(b) for b in args.baseline]
    print(bench(BenchConfig(**settings))["markdown"])
    return 0
