"""Distillation: a slow pretrained teacher's geometry taught to the fast GRU, beside the margin loss
on the groups, with the teacher's vectors of every unlabeled training-split sentence too. Students
and baselines measured in the same run: open-set top-1/5/10 on the test files, pair Spearman, encode
speed, for today's default model (no teacher), each student, each student fused with BM25
(samesense.lexical.hybrid, weight chosen on the dev file), BM25 and the teacher itself.

    python benchmarks/unlabeled.py                               # the unlabeled text (once)
    python benchmarks/distil.py --language en --teacher minilm --students gru128 bigru256
    python benchmarks/distil.py --language zh --teacher e5-small --students tuned192 --without-teacher tuned192

Settings are chosen on the dev file (qqp dev, lcqmc dev: the validation file of every training
here, whose top-1 each row reports), never on a test file. The teacher's vectors are kept in
--teacher-cache (benchmarks/out/teacher) and the baselines' in --vectors, so a rerun encodes
nothing twice; trainings resume. Writes the `distil_LANG` section of docs/benchmarks.md and
docs/results/distil_LANG.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (REPO, ZH_TESTS, ZH_TRAIN, ZH_VAL, CachedEncoder, data_path, machine, table,  # noqa: E402
                    throughput, write_section)

import samesense  # noqa: E402
from samesense.lexical.bm25 import BM25Ranker  # noqa: E402
from samesense.bench.methods import VectorMethod  # noqa: E402
from samesense.data import has_partner, read_groups, read_pairs  # noqa: E402
from samesense.encoder_spec import resolve_encoder  # noqa: E402
from samesense.evaluate import nearest_neighbours, pair_similarities, ranking_scores, spearman  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.lexical.hybrid import HybridRanker, choose_weight  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

LANGUAGES = {
    "zh": {"train": ZH_TRAIN, "val": ZH_VAL, "tests": ZH_TESTS, "model": {},
           "pairs": {"lcqmc test": "zh/lcqmc/pairs_test.tsv", "bq test": "zh/bq/pairs_test.tsv",
                     "afqmc dev": "zh/afqmc/pairs_dev.tsv", "stsb_zh test": "zh/stsb_zh/pairs_test.tsv"}},
    "en": {"train": ["en/qqp/groups_train.tsv"], "val": "en/qqp/groups_dev.tsv",
           "tests": {"qqp test": "en/qqp/groups_test.tsv"}, "model": {"tokenizer": "word", "min_count": 2},
           "pairs": {"qqp test": "en/qqp/pairs_test.tsv"}},
}
# student sizes tried: the encoder settings over the default (128-unit GRU, 128-d embedding)
STUDENTS = {"gru128": {}, "gru256": {"hidden_dim": 256, "embed_dim": 256},
            "bigru256": {"hidden_dim": 256, "embed_dim": 256, "bidirectional": True},
            "gru512": {"hidden_dim": 512, "embed_dim": 256},
            # what `samesense tune` chose on lcqmc dev (benchmarks/tune_zh.py, trial 6), its glyphs left out
            # (ONNX export refuses them): normalised softmax, a higher learning rate, mean pooling
            "tuned192": {"hidden_dim": 192, "embed_dim": 192, "pooling": "mean", "loss": "softmax", "scale": 31.4113,
                         "lr": 0.00578371, "batch_size": 167, "dropout": 0.440868}}


def run_training(name: str, cfg: TrainConfig) -> dict:
    out = Path(cfg.run.out)
    cfg.run.resume = (out / "checkpoint").exists()
    started = time.perf_counter()
    summary = train(cfg)
    print(f"{name}: best dev top-1 {summary['val_top1']:.4f} at epoch {summary['best_epoch']} "
          f"({time.perf_counter() - started:.0f} s this call)", flush=True)
    return summary


def scores_of(encoder, dev, tests, pairs, ranker=None) -> dict:
    """Open-set top-k on each test file and Spearman on each pairs file: by vectors, or by `ranker`."""
    out = {}
    for name, groups in tests.items():
        near = ranker.neighbours(groups.sentences, 10) if ranker else nearest_neighbours(encoder.encode(groups.sentences), 10)
        out[name] = ranking_scores(near, groups.labels)
    for name, p in pairs.items():
        scores = ranker.pair_scores(p.first, p.second) if ranker else pair_similarities(encoder.encode, p)
        out[f"{name} spearman"] = spearman(scores, p.labels)
    return out


def speed(encoder, sentences: list[str], threads: int) -> float:
    import torch

    torch.set_num_threads(threads)
    return throughput(lambda: encoder.encode(sentences, batch_size=256), len(sentences))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", choices=list(LANGUAGES), required=True)
    parser.add_argument("--teacher", required=True, help="e5-small, minilm or a model folder")
    parser.add_argument("--students", nargs="+", default=["gru128"], choices=list(STUDENTS))
    parser.add_argument("--objective", nargs="+", default=["cosine"], choices=["cosine", "similarity"])
    parser.add_argument("--distil-weight", type=float, default=1.0)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--without-teacher", nargs="*", default=[], choices=list(STUDENTS),
                        help="students also trained without the teacher (same settings and epochs): what the teacher adds")
    parser.add_argument("--no-unlabeled", action="store_true", help="teach on the training sentences alone")
    parser.add_argument("--unlabeled", default="benchmarks/out/unlabeled", help="folder of benchmarks/unlabeled.py")
    parser.add_argument("--teacher-cache", default="benchmarks/out/teacher")
    parser.add_argument("--vectors", default="benchmarks/out/vectors", help="folder keeping the baselines' vectors")
    parser.add_argument("--runs", default="benchmarks/out/distil", help="folder of the training runs")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--speed-sentences", type=int, default=1000)
    parser.add_argument("--default-run", help="a run folder of the default settings trained before (not retrained: "
                        "its epochs are its own)")
    parser.add_argument("--no-doc", action="store_true")
    parser.add_argument("--note", default="", help="what else ran on the machine, for the docs")
    parser.add_argument("--from-json", action="store_true", help="rewrite the docs section from the results file "
                        "(with --note: a new note)")
    args = parser.parse_args()
    if args.from_json:
        results_json = REPO / "docs" / "results" / f"distil_{args.language}.json"
        report = json.loads(results_json.read_text())
        report["note"] = args.note or report.get("note", "")
        atomic_write_json(results_json, report)
        write_section(f"distil_{args.language}", markdown(report, args.language))
        return
    lang = LANGUAGES[args.language]
    runs = Path(args.runs) / args.language
    common = dict(encoder="gru", train=[data_path(p) for p in lang["train"]], val=data_path(lang["val"]),
                  epochs=args.epochs, threads=args.threads, show_progress=False, **lang["model"])
    if args.language == "en":
        common["val_same_groups"] = False
    unlabeled = [] if args.no_unlabeled else [str(Path(args.unlabeled) / f"{args.language}.txt")]

    configs = {"default (no teacher)": TrainConfig.of(out=str(args.default_run or runs / "default"), **common)}
    if args.default_run:  # trained already (the default settings, as core_zh.py trains them): its own run.json
        configs["default (no teacher)"] = TrainConfig.from_dict(
            json.loads((Path(args.default_run) / "run.json").read_text())).replace(
            out=args.default_run, threads=args.threads, show_progress=False)
    for student in args.students:
        for objective in args.objective:
            name = f"student {student}, {objective}" + ("" if unlabeled else ", no unlabeled")
            configs[name] = TrainConfig.of(
                out=str(runs / (f"{student}-{objective}-w{args.distil_weight:g}" + ("" if unlabeled else "-nounl"))),
                teacher=args.teacher, distil_weight=args.distil_weight, distil_objective=objective,
                unlabeled=unlabeled, teacher_cache=args.teacher_cache, **common, **STUDENTS[student])
    for student in args.without_teacher:
        configs[f"{student} without teacher"] = TrainConfig.of(out=str(runs / f"{student}-noteacher"), **common,
                                                               **STUDENTS[student])
    summaries = {name: run_training(name, cfg) for name, cfg in configs.items()}

    dev = read_groups(data_path(lang["val"]), normalize=False)
    tests = {name: read_groups(data_path(p), normalize=False) for name, p in lang["tests"].items()}
    pairs = {name: read_pairs(data_path(p), normalize=False) for name, p in lang["pairs"].items()}
    speed_sentences = next(iter(tests.values())).sentences[: args.speed_sentences]
    results: dict[str, dict] = {}
    for name, summary in summaries.items():
        model = samesense.load(summary["model"])
        results[name] = {**scores_of(model, dev, tests, pairs), "dev_top1": summary["val_top1"],
                         "best_epoch": summary["best_epoch"], "epochs": summary["epochs"],
                         "train_seconds": round(summary["train_seconds"]),
                         "sentences_per_second": speed(model, speed_sentences, args.threads), "dim": model.dim}
        if name.startswith("student"):
            weight, top1 = choose_weight(model, dev.sentences, dev.labels)
            results[f"hybrid: {name} + BM25 (weight {weight:g})"] = {
                **scores_of(model, dev, tests, pairs, HybridRanker(model, weight)), "dev_top1": top1[weight]}
        print(name, {k: (v["top1"] if isinstance(v, dict) else v) for k, v in results[name].items()}, flush=True)
    results["BM25"] = scores_of(None, dev, tests, pairs, BM25Ranker())
    teacher_method = VectorMethod(args.teacher, resolve_encoder(args.teacher, args.threads), (), 128, None)
    everything = dev.sentences + [s for g in tests.values() for s in g.sentences] + \
        [s for p in pairs.values() for s in p.first + p.second]
    teacher_method.load_vectors(args.vectors, everything)
    if teacher_method.prepare(everything, show_progress=True):
        teacher_method.save_vectors(args.vectors)
    teacher = CachedEncoder(teacher_method)
    results[f"teacher: {args.teacher}"] = {
        **scores_of(teacher, dev, tests, pairs), "dev_top1": ranking_scores(
            nearest_neighbours(teacher.encode(dev.sentences), 1), dev.labels, ks=(1,))["top1"],
        "sentences_per_second": speed(teacher_method.encoder, speed_sentences, args.threads),
        "dim": teacher_method.encoder.dim}
    argv = sys.argv[1:]
    if "--note" in argv:  # said after the command, not inside it
        argv = argv[:argv.index("--note")] + argv[argv.index("--note") + 2:]
    command = "python benchmarks/distil.py " + " ".join(argv)
    report = {"command": command, "machine": machine(), "date": time.strftime("%Y-%m-%d"), "note": args.note,
              "teacher": args.teacher, "tests": list(tests), "pairs": list(pairs), "results": results,
              "queries": {t: int(has_partner(g.labels).sum()) for t, g in tests.items()},
              "settings": {"epochs": args.epochs, "distil_weight": args.distil_weight,
                           "unlabeled": unlabeled, "threads": args.threads,
                           "students": {s: STUDENTS[s] for s in args.students}}}
    for name, scores in results.items():
        print(f"{name:55s} " + "  ".join(f"{t} {scores[t]['top1']:.4f}" for t in tests), flush=True)
    if not args.no_doc:
        atomic_write_json(REPO / "docs" / "results" / f"distil_{args.language}.json", report)
        write_section(f"distil_{args.language}", markdown(report, args.language))


def markdown(report: dict, language: str) -> str:
    tests, pairs, results = report["tests"], report["pairs"], report["results"]
    name = {"zh": "Chinese", "en": "English"}[language]
    teacher_speed = results[f"teacher: {report['teacher']}"]["sentences_per_second"]
    lines = [f"## Distillation ({name}): {report['teacher']} taught to the fast encoder", "",
             f"`{report['command']}` on {report['machine']}, {report['date']}"
             + (f" ({report['note']})" if report.get("note") else "") + ". Every row measured in the same run; "
             "settings chosen on the dev file (the validation file of every training, its top-1 in the dev column), "
             "never on a test file. Students: the margin loss (AM-Softmax; tuned192: normalised softmax, as tune chose) on "
             "the training groups plus the "
             f"distillation term (weight {report['settings']['distil_weight']:g}) on them and on "
             + ("every unlabeled training-split sentence (benchmarks/unlabeled.py)" if report["settings"]["unlabeled"]
                else "the training sentences alone")
             + f"; --epochs {report['settings']['epochs']} (a run trained longer before keeps its epochs: the epochs column), "
             "the best by dev top-1 kept. The default row is `samesense train` with every default setting on the same "
             "training files and dev file (with --default-run: that run, trained before, e.g. for 15 epochs as "
             "core_zh.py's default row). Speed: sentences/s encoding "
             f"the first sentences of {tests[0]}, {report['settings']['threads']} threads, batch 256.", "",
             table(["method", "dev top-1", "epochs (best)"] + [f"{t} top-1/5/10" for t in tests] + ["sentences/s", "x teacher"],
                   [[row, scores.get("dev_top1", ""),
                     f"{scores['epochs']} ({scores['best_epoch']})" if "epochs" in scores else ""] +
                    [" / ".join(f"{scores[t][f'top{k}']:.4f}" for k in (1, 5, 10)) for t in tests] +
                    [f"{scores['sentences_per_second']:.0f}" if "sentences_per_second" in scores else "",
                     f"{scores['sentences_per_second'] / teacher_speed:.0f}" if "sentences_per_second" in scores else ""]
                    for row, scores in results.items()]), "",
             "Pair Spearman:", "",
             table(["method"] + pairs, [[row] + [scores[f"{p} spearman"] for p in pairs] for row, scores in results.items()]),
             "", "Queries per test file: " + ", ".join(f"{t} {n}" for t, n in report["queries"].items()) + ".", ""]
    if len(tests) > 1:
        mean = {row: float(np.mean([scores[t]["top1"] for t in tests])) for row, scores in results.items()}
        lines += ["Mean top-1 over the test files: " + ", ".join(f"{row} {m:.4f}" for row, m in mean.items()) + ".", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
