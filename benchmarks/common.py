"""Shared pieces of the benchmark scripts: the data of ../shared/data, timing, and writing a
section of docs/benchmarks.md that belongs to one script (between its BEGIN/END markers), so that
each script rewrites its own numbers and leaves the others alone."""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SAMESENSE_DATA", REPO.parent / "shared" / "data"))
DOC = REPO / "docs" / "benchmarks.md"

# The Chinese training union and test sets of ../shared/data/README.md
ZH_TRAIN = ["zh/diac2019/groups_train.tsv", "zh/bq/groups_train.tsv", "zh/afqmc/groups_train.tsv",
            "zh/stsb_zh/groups_train.tsv", "zh/simclue/groups_train1w.tsv", "zh/chinese_sts/groups_train.tsv"]
ZH_VAL = "zh/lcqmc/groups_dev.tsv"
ZH_TESTS = {"lcqmc test": "zh/lcqmc/groups_test.tsv", "bq test": "zh/bq/groups_test.tsv",
            "afqmc dev": "zh/afqmc/groups_dev.tsv", "stsb_zh test": "zh/stsb_zh/groups_test.tsv"}


def data_path(relative: str) -> str:
    path = DATA / relative
    if not path.is_file():
        raise SystemExit(f"benchmark data not found: {path} (set SAMESENSE_DATA to the data folder)")
    return str(path)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def throughput(fn, n_items: int, repeats: int = 3) -> float:
    """Items per second: the median of `repeats` timed runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return n_items / statistics.median(times)


def write_section(name: str, markdown: str, doc: Path = DOC) -> None:
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        return f"{v:.4f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
