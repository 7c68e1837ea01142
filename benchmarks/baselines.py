"""The baselines on every protocol: BM25 (jieba words for Chinese), all-MiniLM-L6-v2 (English) and
multilingual-e5-small (4-bit, Chinese and English), through `samesense bench`, so their numbers
exist before any trained model's and anyone can rerun them:

    python benchmarks/baselines.py [--threads 2] [--vectors benchmarks/out/vectors]

Writes its section of docs/benchmarks.md, docs/results/baselines.json and docs/img/baselines_*.png.
With --vectors, the encoders' vectors are kept between runs (speed is always measured afresh).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, DOC, REPO  # noqa: E402

from samesense.bench import BenchConfig, MethodSpec, run_bench  # noqa: E402


def shown_command(args) -> str:
    """The command as the doc shows it; the note is said in the doc's text anyway."""
    words = ["python", "benchmarks/baselines.py"]
    if args.threads:
        words += ["--threads", str(args.threads)]
    if args.vectors:
        words += ["--vectors", args.vectors]
    if args.protocols:
        words += ["--protocols", *args.protocols]
    return " ".join(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baselines", nargs="+", default=["bm25", "minilm", "e5-small"], help="which baselines")
    parser.add_argument("--protocols", nargs="+", default=None, help="a subset of the protocols (default: all)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    parser.add_argument("--vectors", default=None, help="folder keeping the encoders' vectors between runs")
    parser.add_argument("--note", default="", help="what else ran on the machine, said in the doc")
    parser.add_argument("--no-doc", action="store_true", help="print only; write nothing under docs/")
    args = parser.parse_args()

    cfg = BenchConfig(methods=[MethodSpec.baseline(b) for b in args.baselines], data=str(DATA),
                      threads=args.threads, title="Baselines on every protocol", note=args.note,
                      vectors=args.vectors, section="baselines", command=shown_command(args))
    if args.protocols:
        cfg.protocols = args.protocols
    if not args.no_doc:
        cfg.json, cfg.doc, cfg.plots = (str(REPO / "docs" / "results" / "baselines.json"), str(DOC),
                                        str(REPO / "docs" / "img"))
    print(run_bench(cfg)["markdown"])


if __name__ == "__main__":
    main()
