"""The whole comparison in one command: the article's table on the Chinese training union, every
loss of the family with the same encoder and budget, English models, and the baselines, through
`samesense bench` on every protocol of ../shared/data/README.md.

    python benchmarks/run.py [--jobs 2] [--epochs 5] [--threads 2] [--vectors benchmarks/out/vectors]

On 2 cores, `--jobs 2` (two models trained at once, one thread each) is the faster way; the "Time:"
line of the `article` section says how long the run that wrote it took.

1. Trains, on the Chinese training union (validation: lcqmc dev), the default encoder (characters,
   maxlen 32, min count 5, 128-d embedding, 128-unit GRU, max-pooled, L2-normalised; Adam lr 1e-3,
   batch 100, the same number of epochs) with each loss: softmax, AM-Softmax, AAM-Softmax,
   A-Softmax, the article's simpler A-Softmax, in-batch contrastive (also with diac2019's hard
   negatives), batch-hard triplet, pair classification; and, outside that equal budget, the best
   recipe found so far (contrastive, batch 400, twice the epochs), shown beside the baselines.
2. Trains AM-Softmax English models (word tokens) on qqp, clinc150 and banking77 training groups.
3. Runs `samesense bench` on all of them and on BM25, all-MiniLM-L6-v2 and multilingual-e5-small:
   open-set ranking, pair scoring, intent matching with abstention, speed; writes the `compare`
   section of docs/benchmarks.md, docs/results/compare.json and docs/img/compare_*.png.
4. Writes the `article` section: the article's table reproduced (open-set top-1 by loss), which
   loss wins and by how much, computed from this run's numbers.

Training runs resume, so a killed benchmark started again goes on where it stopped. With
--vectors, the pretrained baselines' vectors are kept between runs (a fresh run spends most of its
evaluation time encoding with e5-small); speed is always measured afresh.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ARTICLE_TOP1, DATA, DOC, REPO, ZH_TRAIN, ZH_VAL, data_path, table, write_section  # noqa: E402

from samesense.bench import BenchConfig, MethodSpec, run_bench  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402

COMPARE_JSON = REPO / "docs" / "results" / "compare.json"
ZH_LOSSES = ["softmax", "am-softmax", "aam-softmax", "a-softmax", "simpler-a-softmax",
             "contrastive", "triplet", "pair"]
HARD_NEGATIVES = "zh/diac2019/hardneg_train.tsv"
EN_MODELS = {  # name: (training groups, validation groups)
    "qqp": ("en/qqp/groups_train.tsv", "en/qqp/groups_dev.tsv"),
    "clinc150": ("en/clinc150/groups_train.tsv", "en/clinc150/groups_dev.tsv"),
    "banking77": ("en/banking77/groups_train.tsv", "en/banking77/groups_dev.tsv"),
}


def report(name: str, summary: dict) -> None:
    print(f"{name}: best val top-1 {summary['val_top1']:.4f} at epoch {summary['best_epoch']}, "
          f"{summary['train_seconds']:.0f}s of training", flush=True)


def train_all(args) -> tuple[dict[str, str], float]:
    """Train (or resume) every model; return {method name: model folder} and the total training
    time of all runs (their own clocks, so resumed runs count once)."""
    out = Path(args.out)
    common = dict(encoder="gru", epochs=args.epochs, seed=args.seed, threads=args.threads, show_progress=args.progress,
                  resume=True)
    zh = dict(train=[data_path(p) for p in ZH_TRAIN], val=data_path(ZH_VAL))
    runs: dict[str, TrainConfig] = {}
    for loss in args.losses:
        runs[f"zh {loss}"] = TrainConfig.of(**zh, out=str(out / f"zh-{loss}"), loss=loss, **common)
    if "contrastive" in args.losses and not args.no_hard_negatives:
        runs["zh contrastive + hard negatives"] = TrainConfig.of(
            **zh, out=str(out / "zh-contrastive-hardneg"), loss="contrastive",
            hard_negatives=data_path(HARD_NEGATIVES), **common)
    if not args.no_tuned:
        # Outside the equal budget: one recipe tried after seeing the equal-budget results.
        runs[f"tuned: zh contrastive, batch 400, {2 * args.epochs} epochs"] = TrainConfig.of(
            **zh, out=str(out / "zh-contrastive-tuned"), loss="contrastive",
            **{**common, "epochs": 2 * args.epochs}, batch_size=400)
    for name in args.english:
        train_file, val_file = EN_MODELS[name]
        runs[f"en am-softmax ({name})"] = TrainConfig.of(
            train=[data_path(train_file)], val=data_path(val_file), out=str(out / f"en-{name}"),
            tokenizer="word", min_count=2, loss="am-softmax", **common,
            val_same_groups=True)  # closed-set intents: validated on other questions of the same intents
    summaries = {}
    if args.jobs > 1:
        # Small GRUs do not use 2 cores well: two runs of one thread each train more per minute
        # than one run of two threads (each run's own clock then counts time shared with the other).
        for cfg in runs.values():
            cfg.run.threads, cfg.run.show_progress = max(1, (args.threads or os.cpu_count() or 1) // args.jobs), False
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(train, cfg): name for name, cfg in runs.items()}
            for future in as_completed(futures):
                summaries[futures[future]] = future.result()
                report(futures[future], summaries[futures[future]])
    else:
        for name, cfg in runs.items():
            summaries[name] = train(cfg)  # cfg.run.resume: a finished run is not trained again
            report(name, summaries[name])
    models = {name: summaries[name]["model"] for name in runs}  # in the order the runs were listed
    total = sum(summary["train_seconds"] for summary in summaries.values())
    return models, total


def wins_line(open_set: dict, tests: list[str], method: str, baseline: str) -> str:
    wins = [t for t in tests if open_set[t][method]["top1"] > open_set[t][baseline]["top1"]]
    return (f"{method} vs {baseline}: higher top-1 on {len(wins)} of {len(tests)} sets"
            + (f" ({', '.join(wins)})" if wins else "") + ".")


def article_section(results: dict, epochs: int, command: str) -> str:
    """The article's table on our data: open-set top-1 by loss, the winner and its lead."""
    open_set = results["results"]["open-set"]
    tests = [t for t, by_method in open_set.items() if any(m.startswith("zh ") for m in by_method)]
    methods = [m for m in results["methods"] if m.startswith("zh ") or results["methods"][m]["kind"] == "baseline"]
    rows, means, left_out = [], {}, []
    for method in methods:
        cells = [open_set[t].get(method, {}).get("top1") for t in tests]
        if None in cells:
            left_out.append(method)
            continue
        means[method] = float(np.mean(cells))
        train_seconds = results["methods"][method].get("train_seconds")
        rows.append([method] + cells + [means[method], f"{train_seconds:.0f}" if isinstance(train_seconds, (int, float))
                                        else str(train_seconds or "—")])
    trained = {m: v for m, v in means.items() if m.startswith("zh ")}
    baselines = [m for m in means if m not in trained]
    ranking = sorted(trained, key=trained.get, reverse=True)
    lines = ["## The article's table, reproduced on the Chinese training union", "",
             f"Open-set top-1 on unseen groups, same encoder (char GRU 128, max-pooled) and same budget "
             f"({epochs} epochs, batch 100) for every loss; baselines measured in the same run "
             f"(`{command}`, numbers from the `compare` section below). An epoch of the "
             f"classification losses passes over every sentence; an epoch of contrastive, pair (2 sentences "
             f"a group) and triplet (4) passes once over every group of two or more sentences, so it "
             f"sees fewer sentences and takes less time (the train seconds column).", "",
             table(["method"] + [f"{t} top-1" for t in tests] + ["mean", "train seconds"], rows)]
    if left_out:
        lines += ["", f"Not in this table, having no Chinese: {', '.join(left_out)} (English numbers, qqp "
                  f"included, in the `compare` section)."]
    if len(ranking) >= 2:
        best, second = ranking[0], ranking[1]
        lines += ["", f"Best trained loss by mean top-1: **{best}** ({trained[best]:.4f}), ahead of {second} by "
                  f"{trained[best] - trained[second]:+.4f}; last: {ranking[-1]} ({trained[ranking[-1]]:.4f})."]
        for base in ("zh softmax", "zh am-softmax"):
            if base in trained and best != base:
                lines.append(f"{best} vs {base}: " + ", ".join(
                    f"{t} {open_set[t][best]['top1'] - open_set[t][base]['top1']:+.4f}" for t in tests) + ".")
        lines += [wins_line(open_set, tests, best, baseline) for baseline in baselines]
    for tuned in [m for m in results["methods"] if m.startswith("tuned: ")]:
        cells = ", ".join(f"{t} {open_set[t][tuned]['top1']:.4f}" for t in tests)
        lines += ["", f"Outside the equal budget, **{tuned}** (same encoder; one recipe tried after "
                  f"seeing the {epochs}-epoch results on these sets, so read its lead as optimistic): {cells}."]
        lines += [wins_line(open_set, tests, tuned, baseline) for baseline in baselines]
    article = [f"{loss} {ARTICLE_TOP1[loss]:.4f}" for loss in ARTICLE_TOP1]
    lines += ["", "For reference, the article's own table (its 90,000-group data, not these sets; top-1): "
              + ", ".join(article) + "."]
    return "\n".join(lines)


def timing_line(seconds: dict) -> str:
    """How long the run took; from scratch, training and benchmark follow each other."""
    training, bench, jobs = seconds["training"], seconds["benchmark"], seconds["jobs"]
    from_scratch = max(seconds["invocation"] - bench, training / jobs) + bench
    return (f"Time: {training / 60:.1f} minutes of training for the {seconds['models']} models (their own "
            f"clocks), {bench / 60:.1f} minutes of benchmark: about {from_scratch / 60:.0f} minutes from scratch"
            f" (not counting vectors taken from --vectors: see Speed and cost); this invocation "
            f"(finished runs resume, they are not trained again) took {seconds['invocation'] / 60:.1f} minutes"
            + (f" ({jobs} models trained at once, one thread each: each model's train seconds "
               f"count time it shared the cores with another)." if jobs > 1 else "."))


def article_markdown(results: dict) -> str:
    """The `article` section from the results of a run (compare.json holds them, "seconds" included)."""
    seconds = results["seconds"]
    return article_section(results, seconds["epochs"], results["command"]) + "\n\n" + timing_line(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5, help="training epochs for every model")
    parser.add_argument("--losses", nargs="+", default=ZH_LOSSES, help="losses trained on the Chinese union")
    parser.add_argument("--english", nargs="*", default=list(EN_MODELS), help="English models to train")
    parser.add_argument("--no-hard-negatives", action="store_true", help="skip contrastive + hard negatives")
    parser.add_argument("--no-tuned", action="store_true",
                        help="skip the tuned model (contrastive, batch 400, twice the epochs)")
    parser.add_argument("--baselines", nargs="*", default=["bm25", "minilm", "e5-small"], help="baselines")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="models trained at once, each with threads/jobs threads (2 on 2 cores is faster)")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "compare"), help="run folders")
    parser.add_argument("--vectors", default=str(REPO / "benchmarks" / "out" / "vectors"),
                        help="folder keeping encoders' vectors between runs ('' to encode everything afresh)")
    parser.add_argument("--note", default="", help="what else ran on the machine, said in the doc")
    parser.add_argument("--progress", action="store_true", default=None, help="show progress bars")
    parser.add_argument("--no-doc", action="store_true", help="print only; write nothing under docs/")
    parser.add_argument("--from-json", action="store_true",
                        help="train and measure nothing: rewrite the article section from docs/results/compare.json")
    args = parser.parse_args()
    if args.from_json:  # nothing trained or measured
        return write_section("article", article_markdown(json.loads(COMPARE_JSON.read_text())), DOC)

    started = time.perf_counter()
    models, training_seconds = train_all(args)
    trained = time.perf_counter()
    methods = [MethodSpec.parse_model(f"{name}={path}") for name, path in models.items()]
    methods += [MethodSpec.baseline(b) for b in args.baselines]
    cfg = BenchConfig(methods=methods, data=str(DATA), threads=args.threads, vectors=args.vectors or None,
                      title="Every loss and baseline on every protocol", note=args.note, section="compare",
                      command=f"python benchmarks/run.py --epochs {args.epochs}" + (f" --jobs {args.jobs}" if args.jobs > 1 else ""), show_progress=args.progress)
    if not args.no_doc:
        cfg.json, cfg.doc, cfg.plots = (str(COMPARE_JSON), str(DOC),
                                        str(REPO / "docs" / "img"))
    results = run_bench(cfg)
    finished = time.perf_counter()
    results["seconds"] = {"training": training_seconds, "benchmark": finished - trained,
                          "invocation": finished - started, "models": len(models), "jobs": args.jobs,
                          "epochs": args.epochs}
    article = article_markdown(results)
    print(results["markdown"] + "\n\n" + article)
    if not args.no_doc:
        write_section("article", article, DOC)
        # run_bench wrote compare.json before the run's seconds were known: add them
        atomic_write_json(COMPARE_JSON, {k: v for k, v in results.items() if k != "markdown"})


if __name__ == "__main__":
    main()
