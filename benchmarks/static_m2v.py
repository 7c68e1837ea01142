"""model2vec's side of benchmarks/static.py, run by the Python that has model2vec installed (it pins an
older transformers than samesense, so it lives in its own virtual environment, e.g. /work/m2v-venv):

    /work/m2v-venv/bin/python benchmarks/static_m2v.py distil TEACHER_FOLDER OUT_FOLDER [--dims 256]
    /work/m2v-venv/bin/python benchmarks/static_m2v.py encode MODEL_FOLDER SENTENCES.json VECTORS.npy
    /work/m2v-venv/bin/python benchmarks/static_m2v.py speed MODEL_FOLDER SENTENCES.json

`distil` is model2vec's own distillation with its defaults (PCA to --dims, SIF weights, [unused] tokens
dropped); `encode` writes the unit vectors of a JSON list of sentences; `speed` prints a JSON object
with the batch and one-at-a-time sentences/s, timed as benchmarks/static.py times our models.
"""

from __future__ import annotations

import argparse
import json
import time


def best_rate(run, count: int, repeats: int = 3) -> float:
    """Items per second: the median of `repeats` timed runs after one warm-up run (as samesense's
    bench.report.throughput, which benchmarks/static.py times our rows with)."""
    run()
    return count / sorted(timed(run) for _ in range(repeats))[repeats // 2]


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    distil = commands.add_parser("distil")
    distil.add_argument("teacher")
    distil.add_argument("out")
    distil.add_argument("--dims", type=int, default=256)
    encode = commands.add_parser("encode")
    encode.add_argument("model")
    encode.add_argument("sentences")
    encode.add_argument("vectors")
    speed = commands.add_parser("speed")
    speed.add_argument("model")
    speed.add_argument("sentences")
    speed.add_argument("--single", type=int, default=1000, help="sentences timed one at a time")
    args = parser.parse_args()

    import numpy as np

    if args.command == "distil":
        from model2vec.distill import distill

        started = time.perf_counter()
        model = distill(model_name=args.teacher, pca_dims=args.dims)
        model.save_pretrained(args.out)
        print(json.dumps({"seconds": round(time.perf_counter() - started, 1)}))
        return
    from model2vec import StaticModel

    model = StaticModel.from_pretrained(args.model)
    with open(args.sentences, encoding="utf-8") as fh:
        sentences = json.load(fh)
    if args.command == "encode":
        vectors = np.asarray(model.encode(sentences), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        np.save(args.vectors, vectors)
        return
    batch = best_rate(lambda: model.encode(sentences, batch_size=1024), len(sentences))
    singles = sentences[: args.single]
    single = best_rate(lambda: [model.encode([s]) for s in singles], len(singles))
    print(json.dumps({"sentences_per_second": batch, "single_ms": 1000 / single}))


if __name__ == "__main__":
    main()
