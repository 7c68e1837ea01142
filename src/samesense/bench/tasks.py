"""The benchmark protocols of ../shared/data/README.md, one small class each, and the test sets
they run on. A task names its files (relative to the data root), loads them once, lists the
sentences a method will have to encode, and scores one method.

Files are read as they are (no normalisation): each method normalises text its own way, as it
would in use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..data import read_groups, read_pairs, read_sentences, require_pairs, require_rankable
from ..errors import DataError
from ..evaluate import abstention_threshold, intent_scores, pair_metrics, ranking_scores
from .protocols import PROTOCOLS  # noqa: F401  (re-exported: its old home)
from .report import throughput

KS = (1, 5, 10)


@dataclass(frozen=True)
class Task:
    protocol: ClassVar[str]
    name: str
    language: str

    def files(self) -> list[str]:
        raise NotImplementedError

    def load(self, root: Path):
        raise NotImplementedError

    def sentences(self, data) -> list[str]:
        """Every sentence `run` will ask a vector method for (encoded once, beforehand)."""
        raise NotImplementedError

    def run(self, method, data) -> dict:
        raise NotImplementedError

    def applies(self, method) -> bool:
        """Whether the method can be scored by this task (a centroid needs vectors)."""
        return True


@dataclass(frozen=True)
class OpenSet(Task):
    """Every sentence of a groups file ranked against all the others: top-1/5/10."""

    protocol: ClassVar[str] = "open-set"
    groups: str = ""

    def files(self):
        return [self.groups]

    def load(self, root):
        groups = read_groups(root / self.groups, normalize=False)
        require_rankable(groups, "of the file")
        return groups

    def sentences(self, data):
        return data.sentences

    def run(self, method, data):
        return ranking_scores(method.neighbours(data.sentences, max(KS)), data.labels, KS)


@dataclass(frozen=True)
class PairScoring(Task):
    """A score per pair against its label: Spearman; for 0/1 labels also ROC AUC, and accuracy/F1
    at the threshold chosen on `dev` (without one: the best threshold on the test file itself,
    optimistic, and marked so)."""

    protocol: ClassVar[str] = "pairs"
    test: str = ""
    dev: str | None = None

    def files(self):
        return [self.test] + ([self.dev] if self.dev else [])

    def load(self, root):
        return (require_pairs(read_pairs(root / self.test, normalize=False)),
                require_pairs(read_pairs(root / self.dev, normalize=False)) if self.dev else None)

    def sentences(self, data):
        return [s for pairs in data if pairs is not None for s in pairs.first + pairs.second]

    def run(self, method, data):
        test, dev = data
        dev_scores = method.pair_scores(dev) if dev is not None else None
        result = pair_metrics(method.pair_scores(test), test, dev_scores, dev)
        if test.is_binary and dev is not None:
            result["threshold_from"] = f"dev ({Path(self.dev).name})"
        return result


@dataclass(frozen=True)
class IntentMatching(Task):
    """Each test query takes the intent of its nearest training example (match "nearest", 1-NN: the
    FAQ matcher's rule, and one BM25 can follow too), or of its nearest intent centroid (match
    "centroid": the mean of the intent's training vectors; vector methods only). With out-of-scope
    files, a query whose best similarity is under a threshold is refused; the threshold is the one
    with the best accuracy over dev + oos_dev queries (right intent, or refusal of an out-of-scope
    one), and that dev accuracy is reported beside the test's (what a choice between rules reads)."""

    protocol: ClassVar[str] = "intent"
    train: str = ""
    test: str = ""
    dev: str | None = None
    oos_dev: str | None = None
    oos_test: str | None = None
    match: str = "nearest"

    def files(self):
        return [f for f in (self.train, self.test, self.dev, self.oos_dev, self.oos_test) if f]

    def applies(self, method):
        return self.match == "nearest" or hasattr(method, "nearest_class")

    def load(self, root):
        def groups(rel):
            return read_groups(root / rel, normalize=False) if rel else None

        def oos(rel):
            return read_sentences(root / rel, normalize=False) if rel else []

        return {"train": groups(self.train), "test": groups(self.test), "dev": groups(self.dev),
                "oos_dev": oos(self.oos_dev), "oos_test": oos(self.oos_test)}

    def sentences(self, data):
        return [s for key in ("train", "test", "dev") if data[key] is not None for s in data[key].sentences] \
            + data["oos_dev"] + data["oos_test"]

    def _match(self, method, data, split: str, oos: list[str]):
        """(best similarity, right intent?, out of scope?) for the split's queries, then oos ones."""
        train, queries = data["train"], data[split]
        if self.match == "centroid":
            best, scores = method.nearest_class(queries.sentences + oos, train.sentences, train.labels, len(train.names))
            answers = np.asarray(train.names)[best]
        else:
            best, scores = method.nearest(queries.sentences + oos, train.sentences)
            answers = np.asarray(train.names)[train.labels][best]
        gold = np.r_[np.asarray(queries.names)[queries.labels], np.full(len(oos), "")]
        return scores, answers == gold, np.r_[np.zeros(len(queries), bool), np.ones(len(oos), bool)]

    def run(self, method, data):
        if not (self.dev and self.oos_dev and self.oos_test):
            scores, correct, out_of_scope = self._match(method, data, "test", [])
            return intent_scores(scores, correct, out_of_scope)
        dev = self._match(method, data, "dev", data["oos_dev"])
        threshold = abstention_threshold(*dev)
        return intent_scores(*self._match(method, data, "test", data["oos_test"]), threshold) | {
            "dev_accuracy": intent_scores(*dev, threshold)["accuracy"]}


@dataclass(frozen=True)
class Speed(Task):
    """Sentences per second to turn text into what a method searches (vectors; for BM25 its
    index): the same first `size` sentences of one file for every method, median of 3 runs."""

    protocol: ClassVar[str] = "speed"
    source: str = ""
    size: int = 1000

    def files(self):
        return [self.source]

    def load(self, root):
        return read_groups(root / self.source, normalize=False).sentences[: self.size]

    def sentences(self, data):
        return []  # timed from scratch, never from the cache

    def run(self, method, data):
        return {"n": len(data), "sentences_per_second": throughput(lambda: method.build(data), len(data))}


INTENT_SETS = (IntentMatching("clinc150", "en", train="en/clinc150/groups_train.tsv",
                              test="en/clinc150/groups_test.tsv", dev="en/clinc150/groups_dev.tsv",
                              oos_dev="en/clinc150/oos_dev.txt", oos_test="en/clinc150/oos_test.txt"),
               IntentMatching("banking77", "en", train="en/banking77/groups_train_full.tsv",
                              test="en/banking77/groups_test.tsv"))

TASKS: list[Task] = [
    OpenSet("lcqmc test", "zh", groups="zh/lcqmc/groups_test.tsv"),
    OpenSet("bq test", "zh", groups="zh/bq/groups_test.tsv"),
    OpenSet("afqmc dev", "zh", groups="zh/afqmc/groups_dev.tsv"),
    OpenSet("stsb_zh test", "zh", groups="zh/stsb_zh/groups_test.tsv"),
    OpenSet("qqp test", "en", groups="en/qqp/groups_test.tsv"),
    PairScoring("lcqmc", "zh", test="zh/lcqmc/pairs_test.tsv", dev="zh/lcqmc/pairs_dev.tsv"),
    PairScoring("bq", "zh", test="zh/bq/pairs_test.tsv", dev="zh/bq/pairs_dev.tsv"),
    PairScoring("afqmc dev", "zh", test="zh/afqmc/pairs_dev.tsv"),
    PairScoring("pawsx_zh dev", "zh", test="zh/pawsx_zh/pairs_dev.tsv"),
    PairScoring("stsb_zh test", "zh", test="zh/stsb_zh/pairs_test.tsv"),
    PairScoring("stsb test", "en", test="en/stsb/pairs_test.tsv"),
    PairScoring("sick test", "en", test="en/sick/pairs_test.tsv"),
    PairScoring("mrpc", "en", test="en/mrpc/pairs_test.tsv", dev="en/mrpc/pairs_train.tsv"),
    PairScoring("qqp", "en", test="en/qqp/pairs_test.tsv", dev="en/qqp/pairs_dev.tsv"),
    *INTENT_SETS,
    *(replace(task, name=f"{task.name} centroids", match="centroid") for task in INTENT_SETS),
    Speed("zh speed", "zh", source="zh/lcqmc/groups_test.tsv"),
    Speed("en speed", "en", source="en/qqp/groups_test.tsv"),
]


def missing_files(tasks: list[Task], root: Path) -> list[str]:
    return [f for task in tasks for f in task.files() if not (root / f).is_file()]


def check_files(tasks: list[Task], root: Path) -> None:
    """Stop before any work when a file is missing, rather than after an hour of encoding."""
    missing = missing_files(tasks, root)
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise DataError(root / missing[0], None, f"benchmark file not found{more} "
                        "(give the data folder with --data or SAMESENSE_DATA)")
