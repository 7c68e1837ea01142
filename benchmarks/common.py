"""Shared pieces of the benchmark scripts: the data of ../shared/data, timing, and writing a
section of docs/benchmarks.md that belongs to one script (between its BEGIN/END markers), so that
each script rewrites its own numbers and leaves the others alone."""

from __future__ import annotations

import os
from pathlib import Path

from samesense.bench.report import machine, table, throughput  # noqa: F401  (shared with samesense bench)
from samesense.bench.report import write_section as _write_section

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SAMESENSE_DATA", REPO.parent / "shared" / "data"))
DOC = REPO / "docs" / "benchmarks.md"

# The Chinese training union and test sets of ../shared/data/README.md
ZH_TRAIN = ["zh/diac2019/groups_train.tsv", "zh/bq/groups_train.tsv", "zh/afqmc/groups_train.tsv",
            "zh/stsb_zh/groups_train.tsv", "zh/simclue/groups_train1w.tsv", "zh/chinese_sts/groups_train.tsv"]
ZH_VAL = "zh/lcqmc/groups_dev.tsv"
ZH_TESTS = {"lcqmc test": "zh/lcqmc/groups_test.tsv", "bq test": "zh/bq/groups_test.tsv",
            "afqmc dev": "zh/afqmc/groups_dev.tsv", "stsb_zh test": "zh/stsb_zh/groups_test.tsv"}
# The article's own table (top-1 on its 90,000-group data, not these sets), quoted beside ours
ARTICLE_TOP1 = {"softmax": 0.9077, "am-softmax": 0.9172, "simpler-a-softmax": 0.9135}


def data_path(relative: str) -> str:
    path = DATA / relative
    if not path.is_file():
        raise SystemExit(f"benchmark data not found: {path} (set SAMESENSE_DATA to the data folder)")
    return str(path)


def bm25_open_set(tests: dict, language: str = "auto") -> dict:
    """BM25's open-set top-1/5/10 on each Groups of `tests` (name -> Groups), the reference line
    the benchmarks measure in their own run."""
    from samesense.lexical.bm25 import BM25Ranker
    from samesense.evaluate import ranking_scores

    ranker = BM25Ranker(language)
    return {name: ranking_scores(ranker.neighbours(groups.sentences, 10), groups.labels)
            for name, groups in tests.items()}


def write_section(name: str, markdown: str, doc: Path = DOC) -> None:
    _write_section(name, markdown, doc)


class CachedEncoder:
    """An encoder whose vectors come from a VectorMethod's cache (encoded once, kept on disk)."""

    def __init__(self, method: VectorMethod):
        self.method, self.dim = method, method.encoder.dim
        self.fingerprint = method.encoder.fingerprint
        self.spec = method.name

    def encode(self, texts, batch_size=None, show_progress=False):
        return self.method.encode(list(texts))


def run_folder(root: str, name: str) -> str:
    """The run folder of a benchmark's variant `name` (e.g. "glyphs, CNN pretrained 5 epochs") under root."""
    return f"{root}/{name.replace(',', '').replace(' ', '-')}"


def train_zh_union(out: str, epochs: int, threads: int, **settings):
    """A model trained (resumed, or found finished) in `out` on the Chinese training union, the best
    epoch by lcqmc dev top-1 kept: (the loaded model, its run summary). The one budget
    of the encoder comparisons (srnn.py, glyphs.py): batch 100, AM-Softmax, Adam 1e-3, seed 0."""
    import samesense
    from samesense.train import TrainConfig, train

    result = train(TrainConfig.of(train=[data_path(p) for p in ZH_TRAIN], val=data_path(ZH_VAL), epochs=epochs,
                                  threads=threads, out=out, resume=True, show_progress=False, spectra=False,
                                  **{"encoder": "gru", **settings}))  # the GRU the figures were measured with
    summary = {"best_epoch": result["best_epoch"], "train_seconds": round(result["train_seconds"], 1),
               "dev_top1": result["val_top1"]}
    return samesense.load(result["model"]), summary

