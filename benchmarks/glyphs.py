"""Glyph-aware characters (--glyphs, after Su & Lee 2017) against none, on the four Chinese sets.

    python benchmarks/glyphs.py [--epochs 5] [--threads 2] [--pretrain 5]

Four models trained on the Chinese training union, the same budget (epochs, batch, seed, Adam lr
1e-3; the best epoch by lcqmc dev top-1 kept; runs resume): the default GRU; the same with
--glyphs (16 x 16 bitmaps, the glyph CNN trained with the encoder) read for the characters outside
the vocabulary (--glyph-scope rare) or for every Chinese character (all: Su & Lee's way, the
default); and rare glyphs with the CNN first pretrained as a convolutional autoencoder over all 27,584
glyphs (--glyph-pretrain).

Reported: open-set top-1/5/10 on the four test files; the rare-character probe; vocabulary
coverage. The probe: every test sentence holding a Chinese character outside the vocabulary (seen
fewer than min-count times in the training union: the tokenizer's own vocabulary), ranked against
all sentences of its test file as in the open-set protocol, top-1 over those sentences only; and
the part of it where such characters are at least a quarter of the sentence's Chinese characters.
Coverage: the share of Chinese character occurrences in the four test files that get a vector of
their own (in the vocabulary; with glyphs, also any character of the glyph blocks).

Writes the `glyphs` section of docs/benchmarks.md and docs/results/glyphs.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TESTS, data_path, machine, run_folder, table, train_zh_union, write_section  # noqa: E402

from samesense.data import read_groups  # noqa: E402
from samesense.evaluate import nearest_neighbours, ranking_scores  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.glyphs import glyph_index  # noqa: E402
from samesense.tokenize import CHINESE_CHAR  # noqa: E402

RESULTS_JSON = REPO / "docs" / "results" / "glyphs.json"
MOSTLY = 0.25  # the probe's harder part: at least this share of a sentence's Chinese characters rare


def variants(pretrain: int) -> dict[str, dict]:
    return {"no glyphs": {}, "glyphs of rare characters": {"glyphs": True, "glyph_scope": "rare"},
            "glyphs of every character": {"glyphs": True, "glyph_scope": "all"},
            f"glyphs of rare characters, CNN pretrained {pretrain} epochs":
                {"glyphs": True, "glyph_scope": "rare", "glyph_pretrain": pretrain}}


def rare_share(text: str, vocabulary: dict) -> float:
    """The share of a text's Chinese characters not in the vocabulary (0 for a text with none)."""
    chars = CHINESE_CHAR.findall(text)
    return sum(c not in vocabulary for c in chars) / len(chars) if chars else 0.0


def probe_hits(nearest: np.ndarray, labels, rows: np.ndarray) -> tuple[int, int]:
    """(hits, n): how many of the sentences `rows` that have a partner in their file find one first
    (`nearest`: each sentence's nearest other sentence of the file, the open-set protocol's top-1)."""
    labels = np.asarray(labels)
    _, group, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    rows = rows[sizes[group[rows]] > 1]
    return int((labels[nearest[rows]] == labels[rows]).sum()), len(rows)


def train_variant(name: str, settings: dict, args) -> dict:
    """Trained (or resumed, or found finished) in its run folder; the no-glyph one in --baseline-out
    when given (the default GRU of the same budget, e.g. benchmarks/srnn.py's: the same settings)."""
    out = args.baseline_out if not settings and args.baseline_out else run_folder(args.out, name)
    model, summary = train_zh_union(out, args.epochs, args.threads, **settings)
    return {"model": model, **summary}


def report(results: dict) -> str:
    names = list(results["models"])
    header = ["model", "lcqmc dev top-1", "train s", *[f"{t} top-1/5/10" for t in ZH_TESTS], "mean test top-1"]
    rows = []
    for name in names:
        r = results["models"][name]
        tests = r["tests"]
        rows.append([name, f"{r['dev_top1']:.4f}", f"{r['train_seconds']:.0f}",
                     *[f"{tests[t]['top1']:.4f} / {tests[t]['top5']:.4f} / {tests[t]['top10']:.4f}" for t in ZH_TESTS],
                     f"{np.mean([tests[t]['top1'] for t in ZH_TESTS]):.4f}"])
    probe = results["probe"]
    probe_rows = [[name, *[f"{results['models'][name]['probe'][part]['top1']:.4f}" for part in ("any", "mostly")]]
                  for name in names]
    counted = results["models"][names[0]]["probe"]
    coverage = results["coverage"]
    return "\n".join([
        f"`python benchmarks/glyphs.py --epochs {results['epochs']} --threads {results['threads']} --pretrain "
        f"{results['pretrain']}{results['baseline']}` on {results['machine']}" + (f"; {results['note']}" if results.get("note") else "")
        + ".", "",
        f"Trained on the Chinese training union, {results['epochs']} epochs each (batch 100, AM-Softmax, Adam 1e-3, "
        "seed 0, the best epoch by lcqmc dev top-1 kept); glyphs are 16 x 16 bitmaps of Noto Sans CJK, read for the "
        "characters outside the vocabulary (rare) or for every Chinese character; open-set ranking on the test files.", "", table(header, rows), "",
        f"Rare-character probe: the test sentences holding a Chinese character outside the vocabulary (seen fewer than "
        f"{probe['min_count']} times in the training union), each ranked against all sentences of its test file, "
        f"top-1 over those with a partner in their file: {counted['any']['n']} of {probe['any']} sentences (mean rare share of their Chinese characters "
        f"{probe['any_rare_share']:.2f}); 'mostly rare': the {counted['mostly']['n']} of them where rare characters are at "
        f"least {MOSTLY:.0%}.", "",
        table(["model", f"probe top-1 ({counted['any']['n']})", f"mostly rare top-1 ({counted['mostly']['n']})"],
              probe_rows), "",
        f"Vocabulary coverage of the Chinese characters in the four test files ({coverage['occurrences']} occurrences, "
        f"{coverage['distinct']} distinct): in the vocabulary ({coverage['vocabulary']} characters) "
        f"{coverage['vocabulary_occurrences']:.4f} of occurrences, {coverage['vocabulary_distinct']:.4f} of distinct "
        f"characters; with glyphs (any of the 27,584 characters of the glyph blocks) {coverage['glyph_occurrences']:.4f} "
        f"and {coverage['glyph_distinct']:.4f}."])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pretrain", type=int, default=5, help="autoencoder epochs of the last model")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "glyphs"), help="run folders")
    parser.add_argument("--baseline-out", help="run folder of the no-glyph model (same settings), e.g. "
                        "benchmarks/out/srnn/gru, trained there if not finished")
    parser.add_argument("--note", default="", help="what else ran on the machine, said in the doc")
    parser.add_argument("--no-doc", action="store_true", help="print only; write nothing under docs/")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    tests = {name: read_groups(data_path(path)) for name, path in ZH_TESTS.items()}
    results = {"machine": machine(), "threads": args.threads, "epochs": args.epochs, "pretrain": args.pretrain,
               "baseline": f" --baseline-out {args.baseline_out}" if args.baseline_out else "", "note": args.note, "models": {}}
    trained = {name: train_variant(name, settings, args) for name, settings in variants(args.pretrain).items()}
    tokenizer = trained["no glyphs"]["model"].tokenizer
    vocabulary = tokenizer.ids
    shares = {name: np.array([rare_share(s, vocabulary) for s in groups.sentences]) for name, groups in tests.items()}
    chars = [c for groups in tests.values() for s in groups.sentences for c in CHINESE_CHAR.findall(tokenizer._prepare(s))]
    distinct = set(chars)
    results["coverage"] = {
        "occurrences": len(chars), "distinct": len(distinct), "vocabulary": len(vocabulary),
        "vocabulary_occurrences": float(np.mean([c in vocabulary for c in chars])),
        "vocabulary_distinct": float(np.mean([c in vocabulary for c in distinct])),
        "glyph_occurrences": float(np.mean([c in vocabulary or glyph_index(c) >= 0 for c in chars])),
        "glyph_distinct": float(np.mean([c in vocabulary or glyph_index(c) >= 0 for c in distinct]))}
    any_rows = {name: np.flatnonzero(s > 0) for name, s in shares.items()}
    mostly_rows = {name: np.flatnonzero(s >= MOSTLY) for name, s in shares.items()}
    results["probe"] = {"min_count": tokenizer.min_count, "any": int(sum(map(len, any_rows.values()))),
                        "mostly": int(sum(map(len, mostly_rows.values()))),
                        "any_rare_share": float(np.mean(np.concatenate([s[s > 0] for s in shares.values()])))}
    for name, run in trained.items():
        model = run.pop("model")
        neighbours = {test: nearest_neighbours(model.encode(groups.sentences), 10) for test, groups in tests.items()}
        run["tests"] = {test: ranking_scores(neighbours[test], tests[test].labels) for test in tests}
        run["probe"] = {}
        for part, rows in (("any", any_rows), ("mostly", mostly_rows)):
            hits, n = np.sum([probe_hits(neighbours[t][:, 0], tests[t].labels, rows[t]) for t in tests], axis=0)
            run["probe"][part] = {"n": int(n), "top1": float(hits / max(n, 1))}
        results["models"][name] = run
        print(name, run, flush=True)
    text = report(results)
    print(text)
    if not args.no_doc:
        write_section("glyphs", text)
        atomic_write_json(RESULTS_JSON, results)


if __name__ == "__main__":
    main()
