"""The sliced GRU (--encoder srnn, Yu & Liu 2018) against the GRU: speed on long texts, accuracy on short.

    python benchmarks/srnn.py [--lengths 32 128 512] [--epochs 5] [--threads 2] [--no-accuracy]

1. Speed, at each max length: encode speed (sentences/s, batch 256, median of 3 after a warm-up) and one training
   step's time (forward, backward, update; batch 100, AM-Softmax over 1,000 groups; median of 10 after
   3 warm-up steps) for the GRU (128 units, max-pooled, the default) and the SRNN with 4 and 8 slices,
   2 levels (where slices**2 fits the length), the same embedding (128) and units (128). The texts:
   lcqmc test sentences joined one after another until each is at least the max length in
   characters (long FAQ questions or answers; the tokenizer cuts them at the max length), so every
   model reads full-length texts.
2. Accuracy, at max length 32: the default GRU and the SRNN (4 slices, 2 levels) trained on the
   Chinese training union, the same budget (epochs, batch, seed, Adam lr 1e-3), the best epoch by
   lcqmc dev top-1 kept; open-set top-1/5/10 on the four Chinese test files; runs resume.

Writes the `srnn` section of docs/benchmarks.md and docs/results/srnn.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, ZH_TESTS, data_path, machine, run_folder, table, train_zh_union, write_section  # noqa: E402

from samesense.bench.report import throughput  # noqa: E402
from samesense.data import read_groups  # noqa: E402
from samesense.files import atomic_write_json  # noqa: E402

RESULTS_JSON = REPO / "docs" / "results" / "srnn.json"
ENCODERS = {"gru": dict(encoder="gru"), "srnn 4x2": dict(encoder="srnn", slices=4, slice_levels=2),
            "srnn 8x2": dict(encoder="srnn", slices=8, slice_levels=2)}


def long_texts(length: int, count: int) -> list[str]:
    """lcqmc test sentences joined in order until each text has at least `length` characters."""
    sentences = read_groups(data_path(ZH_TESTS["lcqmc test"])).sentences
    texts, current, i = [], "", 0
    while len(texts) < count:
        current += sentences[i % len(sentences)] + "。"
        i += 1
        if len(current) >= length:
            texts.append(current)
            current = ""
    return texts


def speed(name: str, length: int, texts: list[str]) -> dict | None:
    from samesense.train.batch import Batch
    from samesense.tokenize import make_tokenizer
    from samesense.train import TrainConfig
    from samesense.train.plan import plan_run
    from samesense.train.step import build, train_step

    settings = ENCODERS[name]
    if settings.get("slices", 0) ** settings.get("slice_levels", 0) > length:
        return None
    cfg = TrainConfig.of(out="unused", max_len=length, spectra=False, **settings)
    tokenizer = make_tokenizer(cfg.model.tokenizer_config(len(texts)), None).fit(texts)
    parts = build(plan_run(cfg), SimpleNamespace(train=SimpleNamespace(num_groups=1000), tokenizer=tokenizer))
    model = parts.model
    rng = np.random.default_rng(0)
    ids = model.tokenize(texts)
    step_times = []
    model.train()
    for step in range(13):
        rows = rng.choice(len(texts), 100, replace=False)
        batch = Batch(rows=rows, features=model.features([ids[i] for i in rows]),
                      labels=torch.from_numpy(rng.integers(0, 1000, 100)))
        started = time.perf_counter()
        train_step(parts, [batch])
        if step >= 3:
            step_times.append(time.perf_counter() - started)
    return {"encode_per_second": throughput(lambda: model.encode(texts, batch_size=256), len(texts)),
            "step_ms": 1000 * statistics.median(step_times),
            "tokens": float(np.mean([len(i) for i in ids]))}


def accuracy(name: str, args) -> dict:
    from samesense.evaluate import evaluate_groups

    model, summary = train_zh_union(run_folder(args.out, name), args.epochs, args.threads, **ENCODERS[name])
    tests = {test: evaluate_groups(model.encode, read_groups(data_path(path))) for test, path in ZH_TESTS.items()}
    return {**summary, "tests": tests}


def report(results: dict) -> str:
    names = list(ENCODERS)
    rows = []
    for length, by_name in results["speed"].items():
        gru = by_name["gru"]
        for name in names:
            r = by_name.get(name)
            if r is None:
                continue
            rows.append([length, name, f"{r['tokens']:.0f}", f"{r['encode_per_second']:.0f}",
                         f"x{r['encode_per_second'] / gru['encode_per_second']:.2f}", f"{r['step_ms']:.1f}",
                         f"x{gru['step_ms'] / r['step_ms']:.2f}"])
    lines = [f"`python benchmarks/srnn.py --epochs {results['epochs']} --threads {results['threads']}` on "
             f"{results['machine']} ({results['threads']} threads)" + (f"; {results['note']}" if results.get("note") else "")
             + ".", "",
             "Speed: lcqmc test sentences joined into texts of at least the max length (cut there by the tokenizer); "
             "encode: sentences/s at batch 256, median of 3 after a warm-up; step: forward + backward + Adam, batch 100, AM-Softmax "
             "over 1,000 groups, median of 10. Same embedding (128) and units (128) for all; `srnn NxK`: N slices, "
             "K levels (N**K minimal subsequences).", "",
             table(["max length", "encoder", "tokens read", "encode sent/s", "vs GRU", "step ms", "speed-up vs GRU"],
                   rows)]
    if results.get("accuracy"):
        header = ["encoder", "lcqmc dev top-1", "train s", *[f"{t} top-1/5/10" for t in ZH_TESTS], "mean test top-1"]
        acc_rows = []
        for name, r in results["accuracy"].items():
            tests = r["tests"]
            acc_rows.append([name, f"{r['dev_top1']:.4f}", f"{r['train_seconds']:.0f}",
                             *[f"{tests[t]['top1']:.4f} / {tests[t]['top5']:.4f} / {tests[t]['top10']:.4f}"
                               for t in ZH_TESTS], f"{np.mean([tests[t]['top1'] for t in ZH_TESTS]):.4f}"])
        lines += ["", f"Accuracy at max length 32: trained on the Chinese training union, {results['epochs']} epochs "
                  "each (batch 100, AM-Softmax, Adam 1e-3, seed 0), the best epoch by lcqmc dev top-1 kept; open-set "
                  "ranking on the test files.", "", table(header, acc_rows)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--texts", type=int, default=2000, help="texts encoded at each length")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-accuracy", action="store_true", help="speed only")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "srnn"), help="run folders")
    parser.add_argument("--note", default="", help="what else ran on the machine, said in the doc")
    parser.add_argument("--no-doc", action="store_true", help="print only; write nothing under docs/")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    results = {"machine": machine(), "threads": args.threads, "epochs": args.epochs, "note": args.note, "speed": {}}
    for length in args.lengths:
        texts = long_texts(length, args.texts)
        results["speed"][length] = {name: speed(name, length, texts) for name in ENCODERS}
        print(length, results["speed"][length], flush=True)
    if not args.no_accuracy:
        results["accuracy"] = {name: accuracy(name, args) for name in ("gru", "srnn 4x2")}
    text = report(results)
    print(text)
    if not args.no_doc:
        write_section("srnn", text)
        atomic_write_json(RESULTS_JSON, results)


if __name__ == "__main__":
    main()
