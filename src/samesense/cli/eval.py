"""samesense eval: score a model (or a baseline) open-set on a groups file, or on a pairs file."""

from __future__ import annotations

import argparse

from ..encoder_spec import spec_help
from .bank_args import threads_arg, use_threads
from .hybrid_args import add_hybrid_flags, maybe_hybrid
from .parsing import positive_int


def add_eval(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Groups file: every sentence is ranked against all others of the file (itself excluded); "
        "top-k is the share whose k nearest hold a sentence of the same group. Pairs file: Spearman "
        "of cosine (BM25 score for bm25) vs label, and for 0/1 labels ROC AUC, accuracy and F1 at a "
        "threshold chosen on --dev (or the best one on the file itself, marked optimistic).")
    parser.add_argument("model", metavar="MODEL", help=f"what to score: {spec_help()}")
    parser.add_argument("file", metavar="FILE",
                        help="groups file (group_id<TAB>sentence) or pairs file (s1<TAB>s2<TAB>label)")
    parser.add_argument("--format", choices=["auto", "groups", "pairs"], default="auto",
                        help="what FILE is; auto looks at its first line")
    parser.add_argument("--dev", metavar="FILE", help="pairs file on which to choose the accuracy/F1 threshold")
    parser.add_argument("--batch-size", type=positive_int, default=512, help="sentences a batch when encoding")
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    add_hybrid_flags(parser)
    threads_arg(parser)
    parser.set_defaults(func=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from ..data import read_groups, read_pairs, require_pairs, require_rankable, sniff_format
    from ..encoder_spec import resolve_encoder
    from ..files import json_text

    use_threads(args.threads)
    # raw text in: each normalises its own way
    encoder = maybe_hybrid(resolve_encoder(args.model, threads=args.threads), args)
    kind = sniff_format(args.file) if args.format == "auto" else args.format
    if kind == "pairs":
        dev = require_pairs(read_pairs(args.dev, normalize=False)) if args.dev else None
        result = score_pairs(encoder, require_pairs(read_pairs(args.file, normalize=False)), dev, args.batch_size)
    else:
        groups = read_groups(args.file, normalize=False)
        require_rankable(groups, "of the file")
        result = score_groups(encoder, groups, args.batch_size)
    if getattr(encoder, "name", None) == "hybrid":
        result["hybrid_weight"] = encoder.weight
    if args.json:
        print(json_text(result))
        return 0
    print(f"{args.file} ({kind}, n={result['n']})")
    for key, value in result.items():
        if key != "n":
            print(f"  {key:15s} {value:.4f}" if isinstance(value, float) else f"  {key:15s} {value}")
    return 0


def score_groups(encoder, groups, batch_size: int, ks=(1, 5, 10)) -> dict:
    """Open-set ranking by vectors, or by the encoder's own ranking (bm25 has no vectors)."""
    from ..evaluate import evaluate_groups, ranking_scores

    if not hasattr(encoder, "encode"):
        return ranking_scores(encoder.neighbours(groups.sentences, max(ks)), groups.labels, ks)
    return evaluate_groups(lambda texts: encoder.encode(texts, batch_size=batch_size), groups, ks)


def score_pairs(encoder, pairs, dev, batch_size: int) -> dict:
    """Pair metrics from cosines, or from the encoder's own pair scores (bm25)."""
    from ..evaluate import evaluate_pairs, pair_metrics

    if not hasattr(encoder, "encode"):
        dev_scores = encoder.pair_scores(dev.first, dev.second) if dev is not None and dev.is_binary else None
        return pair_metrics(encoder.pair_scores(pairs.first, pairs.second), pairs, dev_scores, dev)
    return evaluate_pairs(lambda texts: encoder.encode(texts, batch_size=batch_size), pairs, dev)
