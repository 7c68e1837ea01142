"""Sentence groups and pairs in memory: text normalisation, the containers, pairs made groups,
held-out splits, and what training and ranking need of a set of groups (refused with an error
naming the files the groups came from)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError, SamesenseError


# ---------------------------------------------------------------------------------------------
# Text normalisation, as in the article: full-width to half-width, lower case, collapse spaces.

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20  # ideographic space
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    return _SPACES.sub(" ", text.translate(_FULLWIDTH).lower()).strip()


# ---------------------------------------------------------------------------------------------
# Containers


@dataclass
class Groups:
    """Sentences with an integer group label each; `names[label]` is the group id from the file."""

    sentences: list[str]
    labels: np.ndarray  # int64, one per sentence
    names: list[str]
    skipped_empty: int = 0
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.sentences)

    @property
    def num_groups(self) -> int:
        return len(self.names)

    @classmethod
    def from_records(cls, records: Sequence[tuple[str, str]], skipped_empty: int = 0,
                     sources: list[str] | None = None) -> "Groups":
        index: dict[str, int] = {}
        labels = [index.setdefault(gid, len(index)) for gid, _ in records]
        return cls([s for _, s in records], np.asarray(labels, dtype=np.int64), list(index),
                   skipped_empty, sources or [])

    def select_groups(self, keep: np.ndarray) -> "Groups":
        """The sentences of the groups where `keep[label]` is true, relabelled 0..k-1."""
        keep = np.asarray(keep, dtype=bool)
        new_label = np.cumsum(keep) - 1
        rows = np.flatnonzero(keep[self.labels])
        return Groups([self.sentences[i] for i in rows], new_label[self.labels[rows]],
                      [n for n, k in zip(self.names, keep) if k], self.skipped_empty, self.sources)

    def group_sizes(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=self.num_groups)


@dataclass
class Pairs:
    first: list[str]
    second: list[str]
    labels: np.ndarray  # float64: 0/1 or a similarity score
    skipped_empty: int = 0
    source: str = ""

    def __len__(self) -> int:
        return len(self.first)

    @property
    def is_binary(self) -> bool:
        return bool(np.isin(self.labels, (0.0, 1.0)).all())


# ---------------------------------------------------------------------------------------------
# Pairs to groups


def pairs_to_groups(pairs: Pairs, positive_at: float | None = None) -> Groups:
    """Connected components of the pairs whose label is at least `positive_at`.

    Only sentences that take part in a positive pair belong to a group: a sentence seen only in
    negative pairs has no known paraphrase, so it carries no training signal as a class.
    """
    if positive_at is None:
        if not pairs.is_binary:
            raise DataError(pairs.source, None, f"labels are scores (up to {pairs.labels.max():g}), "
                            "not 0/1: say which pairs are paraphrases with positive_at (--positive-at)")
        positive_at = 1.0
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, label in zip(pairs.first, pairs.second, pairs.labels):
        if label >= positive_at:
            root_a = find(a)  # before b, so that groups list sentences in order of appearance
            parent[root_a] = find(b)
    roots: dict[str, str] = {}
    records = []
    for sentence in parent:  # insertion order: first appearance in the file
        gid = roots.setdefault(find(sentence), f"{Path(pairs.source).stem}:{len(roots)}")
        records.append((gid, sentence))
    return Groups.from_records(records, pairs.skipped_empty, [pairs.source])


def split_groups(groups: Groups, fraction: float, seed: int) -> tuple[Groups, Groups]:
    """Hold out about `fraction` of the groups, chosen by a seeded hash of the group id.

    Hashing (rather than shuffling) keeps each group's side fixed when other groups are added or
    the file is reordered.
    """
    if not 0.0 < fraction < 1.0:
        raise SamesenseError(f"validation fraction must be between 0 and 1, got {fraction}")
    if groups.num_groups < 2:
        raise groups_error(groups, f"found {plural(groups.num_groups, 'group')}: a split needs at least 2")

    def unit(name: str) -> float:
        digest = hashlib.blake2b(f"{seed}\0{name}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    held = np.array([unit(n) < fraction for n in groups.names], dtype=bool)
    if held.all() or not held.any():  # tiny inputs: make sure both sides have a group
        held[:] = False
        held[int(np.argmin([unit(n) for n in groups.names]))] = True
    return groups.select_groups(~held), groups.select_groups(held)


# ---------------------------------------------------------------------------------------------
# What training and open-set ranking need of a set of groups, refused before any work with an
# error naming the files the groups came from


def has_partner(labels: np.ndarray) -> np.ndarray:
    """Whether each sentence's group has another sentence: the sentences that open-set ranking
    scores as queries (a query needs a right answer among the others)."""
    labels = np.asarray(labels, dtype=np.int64)
    return np.bincount(labels)[labels] >= 2


def require_rankable(groups: Groups, where: str, hint: str = "") -> None:
    """Refuse groups that open-set ranking cannot score: with no query every top-k is 0, and a
    model chosen on them would be the first one, silently. `where` completes "no group ...",
    e.g. "of the validation file"."""
    if not len(groups):
        raise groups_error(groups, "no sentences" + hint)
    if not has_partner(groups.labels).any():
        raise groups_error(groups, f"no group {where} has two sentences: nothing to rank{hint}")


def require_pairs(pairs: Pairs) -> Pairs:
    """The pairs, refused when there is none to score (an empty file, or only pairs with an empty
    side)."""
    if not len(pairs):
        skipped = f" ({plural(pairs.skipped_empty, 'pair')} with an empty side skipped)" if pairs.skipped_empty else ""
        raise DataError(pairs.source, None, f"no pairs{skipped}")
    return pairs


def require_training_groups(groups: Groups, held_out: bool) -> None:
    """At least 2 groups to train on, plus 1 to hold out for validation when there is no validation
    file; counted in the files as read, before any split."""
    if not len(groups):
        raise groups_error(groups, "no sentences")
    if groups.num_groups < (3 if held_out else 2):
        more = ", plus 1 to hold out for validation (or give --val FILE)" if held_out else ""
        raise groups_error(groups, f"found {plural(groups.num_groups, 'group')}: training needs at least 2{more}")


def groups_error(groups: Groups, message: str) -> SamesenseError:
    """A DataError naming the groups' files, or a plain error for groups made in memory."""
    return DataError(", ".join(groups.sources), None, message) if groups.sources else SamesenseError(message)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
