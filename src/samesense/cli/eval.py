"""samesense eval: score a model open-set on a groups file, or on a pairs file."""

from __future__ import annotations

import argparse
import json

from .parsing import positive_int


def add_eval(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Groups file: every sentence is ranked against all others of the file (itself excluded); "
        "top-k is the share whose k nearest hold a sentence of the same group. Pairs file: Spearman "
        "of cosine vs label, and for 0/1 labels ROC AUC, accuracy and F1 at a threshold chosen on "
        "--dev (or the best one on the file itself, marked optimistic).")
    parser.add_argument("model", metavar="MODEL", help="model folder (or a run folder with model/ inside)")
    parser.add_argument("file", metavar="FILE",
                        help="groups file (group_id<TAB>sentence) or pairs file (s1<TAB>s2<TAB>label)")
    parser.add_argument("--format", choices=["auto", "groups", "pairs"], default="auto",
                        help="what FILE is; auto looks at its first line")
    parser.add_argument("--dev", metavar="FILE", help="pairs file on which to choose the accuracy/F1 threshold")
    parser.add_argument("--batch-size", type=positive_int, default=512, help="sentences a batch when encoding")
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    parser.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from ..data import read_groups, read_pairs, require_pairs, require_rankable, sniff_format
    from ..evaluate import evaluate_groups, evaluate_pairs
    from ..files import json_text
    from ..model import load

    model = load(args.model)  # raw text in: the model applies its own normalisation

    def encode(texts):
        return model.encode(texts, batch_size=args.batch_size)

    kind = sniff_format(args.file) if args.format == "auto" else args.format
    if kind == "pairs":
        dev = require_pairs(read_pairs(args.dev, normalize=False)) if args.dev else None
        result = evaluate_pairs(encode, require_pairs(read_pairs(args.file, normalize=False)), dev)
    else:
        groups = read_groups(args.file, normalize=False)
        require_rankable(groups, "of the file")
        result = evaluate_groups(encode, groups)
    if args.json:
        print(json_text(result))
        return 0
    print(f"{args.file} ({kind}, n={result['n']})")
    for key, value in result.items():
        if key != "n":
            print(f"  {key:15s} {value:.4f}" if isinstance(value, float) else f"  {key:15s} {value}")
    return 0
