"""`samesense tune` on the Chinese training union, within a time budget, beside the default model.

    python benchmarks/tune_zh.py [--minutes 60] [--epochs 3] [--sampler tpe] [--threads 2]

1. A study (TPE by default, median pruning on per-epoch validation top-1) over the search space of
   samesense/tune.py: encoder (gru, srnn), sizes, pooling, loss, scale, margin, lr, batch, dropout;
   each trial trains --epochs epochs on the union, validated on lcqmc dev only; no trial starts after
   --minutes. The study is kept in benchmarks/out/tune_zh/study.db, so a killed run goes on.
2. The default model (`samesense train` with no flags but the files) trained with the same epochs.
3. Open-set top-1/5/10 on the four Chinese test files for the chosen trial and the default.

Writes the `tune` section of docs/benchmarks.md, docs/results/tune_zh.json and docs/img/tune_pareto.png
(validation top-1 against encode speed of every completed trial, the Pareto front marked).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TESTS, ZH_TRAIN, ZH_VAL, data_path, machine, table, write_section  # noqa: E402

import samesense  # noqa: E402
from samesense.data import read_groups  # noqa: E402
from samesense.evaluate import evaluate_groups  # noqa: E402
from samesense.files import atomic_write_bytes, atomic_write_json  # noqa: E402
from samesense.train import TrainConfig, train  # noqa: E402
from samesense.train.tune import TuneConfig, tune  # noqa: E402

RESULTS_JSON = REPO / "docs" / "results" / "tune_zh.json"
PLOT = REPO / "docs" / "img" / "tune_pareto.png"


def test_scores(model_dir: str) -> dict:
    model = samesense.load(model_dir)
    return {name: evaluate_groups(model.encode, read_groups(data_path(path))) for name, path in ZH_TESTS.items()}


def report(results: dict) -> str:
    s = results["study"]

    def row(name, tests):
        return [name, *[f"{tests[t]['top1']:.4f} / {tests[t]['top5']:.4f} / {tests[t]['top10']:.4f}" for t in ZH_TESTS],
                f"{sum(tests[t]['top1'] for t in ZH_TESTS) / len(ZH_TESTS):.4f}"]

    return "\n".join([
        f"`python benchmarks/tune_zh.py --minutes {results['minutes']} --epochs {results['epochs']} --sampler "
        f"{results['sampler']} --threads {results['threads']}` on {results['machine']}"
        + (f" ({results['note']})" if results.get("note") else "") + f": {s['trials']} trials started in {results['minutes']} "
        f"minutes ({s['completed']} completed, {s['pruned']} pruned by the median rule on per-epoch lcqmc dev top-1), "
        f"{results['epochs']} epochs a trial on the Chinese training union; the chosen trial ({s['best_trial']}) "
        f"reached lcqmc dev top-1 {s['best_val_top1']:.4f} at {s['best_sentences_per_second']:.0f} sentences/s. "
        f"Pareto front (dev top-1 against encode speed): trials {', '.join(map(str, s['front']))} "
        "(docs/img/tune_pareto.png). Retrain it with:", "", f"    {s['command']}", "",
        f"The default model, the same {results['epochs']} epochs, beside it (test files, never seen by the search):",
        "", table(["model", *[f"{t} top-1/5/10" for t in ZH_TESTS], "mean top-1"],
                  [row(f"tuned (trial {s['best_trial']})", results["tuned_tests"]),
                   row("default", results["default_tests"])]),
        "", f"Whole run: {results['seconds'] / 60:.0f} minutes."])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--sampler", default="tpe", choices=["tpe", "cmaes", "nsga2", "random"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "tune_zh"))
    parser.add_argument("--note", default="", help="what else ran on the machine, said in the doc")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    files = dict(train=[data_path(p) for p in ZH_TRAIN], val=data_path(ZH_VAL), epochs=args.epochs,
                 threads=args.threads)
    base = TrainConfig.of(**files, out=f"{args.out}/study", show_progress=False, spectra=False)
    study = tune(base, TuneConfig(trials=10_000, timeout=args.minutes * 60, sampler=args.sampler),
                 fixed={"train", "val", "epochs", "threads"},
                 command=["--train", *files["train"], "--val", files["val"], "--epochs", str(args.epochs)])
    default = train(TrainConfig.of(encoder="gru", **files, out=f"{args.out}/default", resume=True, show_progress=False,
                                   spectra=False))
    results = {"machine": machine(), "minutes": args.minutes, "epochs": args.epochs, "sampler": args.sampler,
               "threads": args.threads, "note": args.note,
               "study": study, "tuned_tests": test_scores(study["best_model"]),
               "default_tests": test_scores(default["model"]), "seconds": time.perf_counter() - started}
    text = report(results)
    print(text)
    if not args.no_doc:
        write_section("tune", text)
        atomic_write_json(RESULTS_JSON, results)
        atomic_write_bytes(PLOT, (Path(args.out) / "study" / "pareto.png").read_bytes())


if __name__ == "__main__":
    main()
