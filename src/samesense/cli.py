"""The samesense command line: train, eval, similar.

Every user error (bad file, bad flag value, missing model) ends as one line on stderr and exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .data import SamesenseError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a flag's default when it has a meaningful one and its help does not already say."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default in (None, False, True, argparse.SUPPRESS, []) or "default" in text:
            return text
        return super()._get_help_string(action)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


# ---------------------------------------------------------------------------------------------
# train


def add_train(sub) -> None:
    from .losses import LOSSES
    from .tokenize import TOKENIZERS
    from .encoders import ENCODERS
    from .train import TrainConfig

    d = TrainConfig(train=[], out="")
    p = sub.add_parser(
        "train", help="train a sentence encoder on groups of same-meaning sentences",
        description="Train a sentence encoder: every group is a class, a margin-softmax head pulls "
        "a group's sentences together and pushes other groups away. After each epoch the model is "
        "scored open-set on validation groups it never saw; the best one is kept in OUT/model.",
        formatter_class=HelpFormatter)
    g = p.add_argument_group("data")
    g.add_argument("--train", nargs="+", metavar="FILE",
                   help="training files: group_id<TAB>sentence, or s1<TAB>s2<TAB>label pairs "
                   "(pairs become groups); several files are concatenated (group ids are global)")
    g.add_argument("--val", metavar="FILE", help="validation groups file of groups not in training; "
                   "without it, --val-fraction of the training groups is held out")
    g.add_argument("--watch", nargs="+", default=[], metavar="FILE",
                   help="more groups files to score open-set after each epoch; their top-1 is "
                   "logged, never used to choose the best model")
    g.add_argument("--val-fraction", type=_fraction, default=d.val_fraction,
                   help="share of training groups held out for validation when --val is not given "
                   "(chosen by a hash of the group id and --seed)")
    g.add_argument("--format", choices=["auto", "groups", "pairs"], default=d.format,
                   help="format of the training files; auto looks at the first line")
    g.add_argument("--positive-at", type=float, default=None, metavar="SCORE",
                   help="for pair files with similarity scores: pairs scoring at least this are "
                   "paraphrases (0/1 labels need nothing)")
    g.add_argument("--no-normalize", dest="normalize", action="store_false",
                   help="keep text as it is (default: full-width to half-width, lower case, one space)")
    g = p.add_argument_group("tokenizer")
    g.add_argument("--tokenizer", choices=sorted(TOKENIZERS), default=d.tokenizer,
                   help="char: one token a character (Chinese); word: words and punctuation, "
                   "CJK characters one by one (spaced languages)")
    g.add_argument("--max-len", type=_positive_int, default=d.max_len, help="tokens kept per sentence")
    g.add_argument("--min-count", type=_positive_int, default=d.min_count,
                   help="a token seen fewer times in training becomes <unk>")
    g = p.add_argument_group("encoder")
    g.add_argument("--encoder", choices=sorted(ENCODERS), default=d.encoder, help="encoder architecture")
    g.add_argument("--embed-dim", type=_positive_int, default=d.embed_dim, help="token embedding size")
    g.add_argument("--hidden-dim", type=_positive_int, default=d.hidden_dim,
                   help="GRU units (the sentence vector's size; doubled if bidirectional)")
    g.add_argument("--layers", dest="num_layers", type=_positive_int, default=d.num_layers,
                   help="stacked GRU layers")
    g.add_argument("--bidirectional", action="store_true", help="read the sentence both ways")
    g.add_argument("--dropout", type=float, default=d.dropout,
                   help="dropout on token embeddings while training (0 in the article)")
    g.add_argument("--pooling", choices=["max", "last", "mean"], default=d.pooling,
                   help="sentence vector: the max of the GRU's outputs over the sentence, its final "
                   "state (the article's choice), or their mean; max ranks better in "
                   "docs/benchmarks.md")
    g = p.add_argument_group("loss")
    g.add_argument("--loss", choices=list(LOSSES), default=d.loss,
                   help="margin softmax over all groups: softmax (no margin), am-softmax (cos - m), "
                   "aam-softmax (cos(theta + m), ArcFace), a-softmax (cos(m*theta), SphereFace, "
                   "annealed), simpler-a-softmax (min(cos, cos(4*theta)), the article's); or over "
                   "batches of groups: contrastive (in-batch InfoNCE, symmetric), triplet (batch-hard), "
                   "pair (siamese pair classification)")
    g.add_argument("--scale", type=float, default=None,
                   help="logit scale s (default: the loss's: 30 for the margin family, 20 for contrastive)")
    g.add_argument("--margin", type=float, default=None,
                   help="margin m (default: the loss's: 0.35 am-softmax, 0.5 aam-softmax, 4 a-softmax "
                   "and simpler-a-softmax, 0.3 triplet)")
    g.add_argument("--per-group", type=int, default=None, metavar="K",
                   help="sentences of each group in a batch, for contrastive, triplet and pair "
                   "(default: 2, 4 for triplet)")
    g.add_argument("--hard-negatives", metavar="FILE",
                   help="group_id<TAB>sentence lines judged NOT equivalent to that group; each batch "
                   "adds one per group (contrastive, triplet, pair)")
    g.add_argument("--center-loss", type=float, default=d.center_loss, metavar="WEIGHT",
                   help="add center loss with this weight (0: off)")
    g.add_argument("--orthogonal", type=float, default=d.orthogonal, metavar="BETA",
                   help="add BigGAN's off-diagonal orthogonal penalty on the class centres (0: off)")
    g.add_argument("--no-spectra", dest="spectra", action="store_false",
                   help="do not log the top-3 singular values of the class centres and encoder weights")
    g = p.add_argument_group("optimisation")
    g.add_argument("--batch-size", type=_positive_int, default=d.batch_size, help="sentences a step")
    g.add_argument("--epochs", type=_positive_int, default=None,
                   help=f"passes over the training data (default {d.epochs}; with --resume, the "
                   "new total, else the run's own)")
    g.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate")
    g.add_argument("--lr-schedule", choices=["constant", "cosine", "linear"], default=d.lr_schedule,
                   help="keep the rate, or decay it to zero over all epochs")
    g.add_argument("--seed", type=int, default=d.seed, help="seed for initialisation, order and held-out groups")
    g.add_argument("--threads", type=_positive_int, default=None, help="CPU threads (default: all cores)")
    g.add_argument("--device", default=d.device, help="torch device, e.g. cpu or cuda")
    g = p.add_argument_group("run")
    g.add_argument("--out", required=True, metavar="DIR",
                   help="run folder: checkpoint/, model/ (the best model), log.jsonl, curve.png")
    g.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint (starts afresh if there is none)")
    g.add_argument("--overwrite", action="store_true", help="start again even if --out holds a run")
    g.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every, metavar="STEPS",
                   help="also checkpoint every STEPS batches inside an epoch (0: at epoch ends only)")
    g.add_argument("--eval-batch-size", type=_positive_int, default=d.eval_batch_size,
                   help="sentences a batch when encoding validation data")
    g.add_argument("--progress", dest="show_progress", action="store_true", default=None,
                   help="always show progress bars (default: only on a terminal)")
    g.add_argument("--quiet", dest="show_progress", action="store_false", help="never show progress bars")
    g.add_argument("--json", action="store_true", help="print the run's summary as JSON at the end")
    p.set_defaults(func=run_train)


def run_train(args) -> int:
    from .train import TrainConfig, train

    if not args.train and not args.resume:
        raise SamesenseError("--train FILE is required (unless --resume continues a run)")
    values = {k: v for k, v in vars(args).items() if k not in ("func", "command", "resume", "overwrite", "json")}
    values["train"] = values["train"] or []
    if values["epochs"] is None:
        del values["epochs"]
    overrides = ("show_progress", "threads", "device") + (("epochs",) if args.epochs else ())
    result = train(TrainConfig.from_dict(values), resume=args.resume, overwrite=args.overwrite,
                   resume_overrides=overrides)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "history"}))
    return 0


# ---------------------------------------------------------------------------------------------
# eval


def add_eval(sub) -> None:
    p = sub.add_parser(
        "eval", help="score a model open-set on a groups file, or on a pairs file",
        description="Groups file: every sentence is ranked against all others of the file (itself "
        "excluded); top-k is the share whose k nearest hold a sentence of the same group. Pairs "
        "file: Spearman of cosine vs label, and for 0/1 labels ROC AUC, accuracy and F1 at a "
        "threshold chosen on --dev (or the best one on the file itself, marked optimistic).",
        formatter_class=HelpFormatter)
    p.add_argument("model", metavar="MODEL", help="model folder (or a run folder with model/ inside)")
    p.add_argument("file", metavar="FILE", help="groups file (group_id<TAB>sentence) or pairs file (s1<TAB>s2<TAB>label)")
    p.add_argument("--format", choices=["auto", "groups", "pairs"], default="auto",
                   help="what FILE is; auto looks at its first line")
    p.add_argument("--dev", metavar="FILE", help="pairs file on which to choose the accuracy/F1 threshold")
    p.add_argument("--batch-size", type=_positive_int, default=512, help="sentences a batch when encoding")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    p.set_defaults(func=run_eval)


def run_eval(args) -> int:
    from . import load
    from .data import read_groups, read_pairs, sniff_format
    from .evaluate import evaluate_groups, evaluate_pairs

    model = load(args.model)  # raw text in: the model applies its own normalisation

    def encode(texts):
        return model.encode(texts, batch_size=args.batch_size)

    kind = sniff_format(args.file) if args.format == "auto" else args.format
    if kind == "pairs":
        dev = read_pairs(args.dev, normalize=False) if args.dev else None
        result = evaluate_pairs(encode, read_pairs(args.file, normalize=False), dev)
    else:
        result = evaluate_groups(encode, read_groups(args.file, normalize=False))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{args.file} ({kind}, n={result['n']})")
        for key, value in result.items():
            if key != "n":
                print(f"  {key:15s} {value:.4f}" if isinstance(value, float) else f"  {key:15s} {value}")
    return 0


# ---------------------------------------------------------------------------------------------
# similar


def add_similar(sub) -> None:
    p = sub.add_parser(
        "similar", help="find the sentences of a file most similar to a text",
        description="Encode every sentence of --against and print the k nearest to each TEXT by "
        "cosine similarity. TEXT '-' reads one text a line from standard input.",
        formatter_class=HelpFormatter)
    p.add_argument("model", metavar="MODEL", help="model folder (or a run folder with model/ inside)")
    p.add_argument("texts", metavar="TEXT", nargs="+", help="query text(s); '-' for standard input")
    p.add_argument("--against", required=True, metavar="FILE",
                   help="candidates: a groups file (group_id<TAB>sentence) or one sentence a line")
    p.add_argument("-k", type=_positive_int, default=5, help="how many nearest sentences to show")
    p.add_argument("--batch-size", type=_positive_int, default=512, help="sentences a batch when encoding")
    p.add_argument("--json", action="store_true", help="print one JSON object per query")
    p.set_defaults(func=run_similar)


def read_candidates(path: str) -> tuple[list[str], list[str] | None]:
    """Sentences of a groups file with their group ids, or of a one-sentence-a-line file."""
    from .data import read_groups, read_lines, read_sentences

    first = next(read_lines(path), (0, ""))[1]
    if "\t" in first:
        groups = read_groups(path, normalize=False)
        return groups.sentences, [groups.names[label] for label in groups.labels]
    return read_sentences(path, normalize=False), None


def run_similar(args) -> int:
    import numpy as np

    from . import load

    texts = [line.rstrip("\n") for line in sys.stdin if line.strip()] if args.texts == ["-"] else args.texts
    model = load(args.model)
    sentences, group_ids = read_candidates(args.against)
    if not sentences:
        raise SamesenseError(f"{args.against}: no sentences")
    candidates = model.encode(sentences, batch_size=args.batch_size)
    queries = model.encode(texts, batch_size=args.batch_size)
    k = min(args.k, len(sentences))
    for text, sims in zip(texts, queries @ candidates.T):
        top = np.argsort(-sims, kind="stable")[:k]
        matches = [{"sentence": sentences[i], "score": round(float(sims[i]), 4),
                    **({"group": group_ids[i]} if group_ids else {})} for i in top]
        if args.json:
            print(json.dumps({"query": text, "matches": matches}, ensure_ascii=False))
        else:
            print(text)
            for rank, m in enumerate(matches, 1):
                group = f"  [{m['group']}]" if "group" in m else ""
                print(f"  {rank}. {m['score']:.3f}  {m['sentence']}{group}")
    return 0


# ---------------------------------------------------------------------------------------------
# bench


def add_bench(sub) -> None:
    from .baselines import BASELINES
    from .bench import DEFAULT_DATA, PROTOCOLS

    p = sub.add_parser(
        "bench", help="compare samesense models and baselines on the benchmark protocols",
        description="Run the protocols of the benchmark data (open-set ranking, pair scoring, intent "
        "matching with abstention, encode speed) for every --model and --baseline, each on the test "
        "sets of its languages, and print the tables. Each method encodes the union of its sentences "
        "once. Optional outputs: a JSON file with every number, a markdown section of a doc, PNG plots.",
        formatter_class=HelpFormatter)
    p.add_argument("--model", action="append", default=[], metavar="NAME=PATH[@LANG]",
                   help="a samesense model folder (or run folder) to compare, shown as NAME; its "
                   "language (zh or en) comes from its vocabulary unless given as @zh, @en or @zh+en; "
                   "repeatable")
    p.add_argument("--baseline", action="append", default=[], choices=list(BASELINES),
                   help="a baseline to compare (bm25: zh+en, minilm: en, e5-small: zh+en); repeatable")
    p.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS, metavar="PROTOCOL",
                   help=f"the protocols to run, of: {', '.join(PROTOCOLS)}")
    p.add_argument("--data", default=DEFAULT_DATA, metavar="DIR",
                   help="the benchmark data folder (zh/ and en/ inside); env SAMESENSE_DATA sets the default")
    p.add_argument("--json", metavar="FILE", help="write every number, with the run's settings, to this JSON file")
    p.add_argument("--doc", metavar="FILE", help="write the tables into this markdown file, as section --section "
                   "(replacing that section only)")
    p.add_argument("--section", default="bench", help="name of the section in --doc; also the prefix of the plots")
    p.add_argument("--plots", metavar="DIR", help="write PNG plots (bars per protocol, speed vs accuracy) here")
    p.add_argument("--vectors", metavar="DIR",
                   help="keep each encoder's vectors in this folder, named by its fingerprint (model files' "
                   "hash, or baseline package version), so that a rerun encodes only new sentences; speed "
                   "is always measured afresh")
    p.add_argument("--title", default="Benchmark", help="heading of the report")
    p.add_argument("--note", default="", help="a remark for the report, e.g. what else ran on the machine")
    p.add_argument("--batch-size", type=_positive_int, default=256, help="sentences a batch when encoding")
    p.add_argument("--threads", type=_positive_int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--quiet", dest="show_progress", action="store_false", default=None,
                   help="never show progress bars (default: only on a terminal)")
    p.set_defaults(func=run_bench)


def run_bench(args) -> int:
    from .bench import BenchConfig, MethodSpec, run_bench as bench

    methods = [MethodSpec.parse_model(m) for m in args.model] + [MethodSpec.baseline(b) for b in args.baseline]
    cfg = BenchConfig(methods=methods, data=args.data, protocols=args.protocols, batch_size=args.batch_size,
                      threads=args.threads, title=args.title, note=args.note, json=args.json, doc=args.doc,
                      section=args.section, plots=args.plots, vectors=args.vectors,
                      show_progress=args.show_progress)
    print(bench(cfg)["markdown"])
    return 0


# ---------------------------------------------------------------------------------------------
# demo


def add_demo(sub) -> None:
    p = sub.add_parser(
        "demo", help="train on the bundled CLINC150 intents and answer questions about unseen ones",
        description="Hold out a fifth of CLINC150's intents, train on the rest, score open-set on "
        "the held-out intents' test queries, then answer a few new questions (and out-of-scope "
        "ones) with their nearest stored questions.",
        formatter_class=HelpFormatter)
    p.add_argument("--out", default="runs/demo", help="folder for the run, the model and the data split")
    p.add_argument("--epochs", type=_positive_int, default=20, help="training epochs")
    p.add_argument("--seed", type=int, default=0, help="seed for the held-out intents and training")
    p.set_defaults(func=run_demo)


def run_demo(args) -> int:
    from .demo import run_demo as demo

    demo(args.out, args.epochs, args.seed)
    return 0


# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="samesense", description="Train small, fast sentence encoders on groups of "
        "same-meaning sentences, evaluate them open-set, and find similar sentences.")
    parser.add_argument("--version", action="version", version=f"samesense {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_train(sub)
    add_eval(sub)
    add_similar(sub)
    add_bench(sub)
    add_demo(sub)
    from .faq.cli import add_commands as add_faq_commands  # faq, ask, calibrate, serve

    add_faq_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SamesenseError as err:
        print(f"samesense: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("samesense: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
