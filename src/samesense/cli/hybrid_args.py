"""--hybrid / --hybrid-dev: the flags of eval and similar that fuse BM25 with the model's cosine
(samesense.lexical.hybrid), and the one function that turns them into the ranker to use."""

from __future__ import annotations

import argparse

from .bank_args import answer_setting


def add_hybrid_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--hybrid", type=answer_setting("hybrid"), metavar="WEIGHT",
                       help="rank by (1 - WEIGHT) * cosine + WEIGHT * BM25 over the query's own BM25 score "
                       "(jieba words for Chinese); 0 is the model alone")
    group.add_argument("--hybrid-dev", metavar="FILE",
                       help="hybrid, with the weight of best open-set top-1 on this groups file of dev "
                       "sentences (printed; never choose it on the file you report)")


def maybe_hybrid(encoder, args: argparse.Namespace):
    """The encoder as given, or a HybridRanker over it when --hybrid or --hybrid-dev asks for one."""
    if args.hybrid is None and args.hybrid_dev is None:
        return encoder
    from ..console import say
    from ..data import read_groups, require_rankable
    from ..lexical.hybrid import HybridRanker, choose_weight, describe_weights

    if args.hybrid_dev is None:
        return HybridRanker(encoder, args.hybrid, batch_size=args.batch_size)
    if not hasattr(encoder, "encode"):
        HybridRanker(encoder, 0.0)  # refuses a model without vectors in its own words
    dev = read_groups(args.hybrid_dev, normalize=False)
    require_rankable(dev, "of the --hybrid-dev file")
    chosen, top1 = choose_weight(encoder, dev.sentences, dev.labels, batch_size=args.batch_size)
    say(f"hybrid weight {chosen:g}, chosen on {args.hybrid_dev}: {describe_weights(top1)}")
    return HybridRanker(encoder, chosen, batch_size=args.batch_size)
