"""Reading sentence groups and sentence pairs.

Two plain formats, UTF-8, one record a line (a `.gz` file is read the same way):
  groups: group_id<TAB>sentence        sentences that share a group_id mean the same thing
  pairs:  sentence1<TAB>sentence2<TAB>label   label 0/1, or a similarity score
Pairs become groups as the connected components of their positive pairs.

Malformed input raises DataError, whose message names the file and the line, so that the CLI can
print one clear line instead of a traceback. Empty sentences are skipped and counted.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import zlib
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from .errors import DataError, SamesenseError  # noqa: F401  (re-exported: samesense.data.DataError)


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
# Reading


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


# what reading a file can raise besides bad UTF-8: a .gz that is not gzip, or is cut short or
# damaged (gzip.BadGzipFile is an OSError), and the disk's own errors
_UNREADABLE = (OSError, EOFError, zlib.error)


def _unreadable(path: Path, err: Exception, lines_read: int) -> DataError:
    """The DataError for a file that stopped reading after `lines_read` lines: it names the line
    that could not be read, except for a file that is not gzip at all."""
    line = lines_read + 1
    if isinstance(err, EOFError):
        return DataError(path, line, "the compressed data ends early (a truncated .gz file?)")
    if isinstance(err, gzip.BadGzipFile) and lines_read == 0 and str(err).startswith("Not a gzipped file"):
        return DataError(path, None, "not gzip-compressed, though its name ends in .gz")
    if isinstance(err, (gzip.BadGzipFile, zlib.error)):
        return DataError(path, line, f"damaged gzip data ({err})")
    return DataError(path, line, f"cannot read ({err.strerror or err})")  # the disk's own OSError


def _raw_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) for each line; a file that cannot be opened, read or decompressed is
    a DataError."""
    try:
        fh = _open_binary(path)
    except OSError as err:
        raise DataError(path, None, f"cannot open ({err.strerror or err})") from None
    number = 0
    with fh:
        try:
            for number, raw in enumerate(fh, start=1):
                yield number, raw
        except _UNREADABLE as err:
            raise _unreadable(path, err, number) from None


def read_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """(line number, text) for each non-blank line; bad UTF-8 or an unreadable (truncated,
    damaged, not really gzip) file is a DataError naming the file and the line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "no such file" if not path.exists() else "not a file")
    for number, raw in _raw_lines(path):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DataError(path, number, f"invalid UTF-8 (byte {err.start} of the line)") from None
        if number == 1:
            text = text.lstrip("\ufeff")
        text = text.rstrip("\r\n")
        if text.strip():
            yield number, text


def read_groups(path: str | os.PathLike, normalize: bool = True) -> Groups:
    # labels straight into an int64 array and each group id kept once: no (id, sentence) tuple
    # and no id string a line, which at millions of lines held more memory than the sentences
    sentences, labels, index, skipped = [], array("q"), {}, 0
    for number, text in read_lines(path):
        fields = text.split("\t")
        if len(fields) != 2:
            raise DataError(path, number, _field_count_message(fields, "group_id<TAB>sentence"))
        gid, sentence = fields[0].strip(), fields[1]
        if not gid:
            raise DataError(path, number, "empty group id")
        sentence = normalize_text(sentence) if normalize else sentence.strip()
        if not sentence:
            skipped += 1
            continue
        sentences.append(sentence)
        labels.append(index.setdefault(gid, len(index)))
    return Groups(sentences, np.frombuffer(labels, dtype=np.int64).copy(), list(index), skipped, [str(path)])


def read_pairs(path: str | os.PathLike, normalize: bool = True) -> Pairs:
    first, second, labels, skipped = [], [], [], 0
    for number, text in read_lines(path):
        fields = text.split("\t")
        if len(fields) != 3:
            raise DataError(path, number, _field_count_message(fields, "sentence1<TAB>sentence2<TAB>label"))
        label = _parse_label(fields[2])
        if label is None:
            raise DataError(path, number, f"label {fields[2].strip()!r} is not a number")
        a, b = (normalize_text(s) if normalize else s.strip() for s in fields[:2])
        if not a or not b:
            skipped += 1
            continue
        first.append(a)
        second.append(b)
        labels.append(label)
    return Pairs(first, second, np.asarray(labels, dtype=np.float64), skipped, str(path))


def read_sentences(path: str | os.PathLike, normalize: bool = True) -> list[str]:
    """One sentence a line (the last field of a tab-separated line, so a groups file works too)."""
    out = []
    for _, text in read_lines(path):
        sentence = text.rsplit("\t", 1)[-1]
        sentence = normalize_text(sentence) if normalize else sentence.strip()
        if sentence:
            out.append(sentence)
    return out


def _parse_label(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _field_count_message(fields: list[str], expected: str) -> str:
    if len(fields) == 1:
        return f"no tab: expected {expected}"
    return f"expected {expected}, found {len(fields)} tab-separated fields"


def sniff_format(path: str | os.PathLike) -> str:
    """'pairs' when the first line has three fields and a numeric last one, else 'groups'."""
    for _, text in read_lines(path):
        fields = text.split("\t")
        return "pairs" if len(fields) == 3 and _parse_label(fields[2]) is not None else "groups"
    return "groups"


# ---------------------------------------------------------------------------------------------
# Pairs to groups, and several files to one set of groups


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


def load_groups(paths: str | os.PathLike | Sequence[str | os.PathLike], fmt: str = "auto",
                normalize: bool = True, positive_at: float | None = None) -> Groups:
    """Read one or more groups or pairs files into one Groups.

    Group ids are global: files may be concatenated when their ids do not collide (the benchmark
    files prefix theirs with the data set's name).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if fmt not in ("auto", "groups", "pairs"):
        raise SamesenseError(f"unknown format {fmt!r}: use auto, groups or pairs")
    sentences, labels, index, skipped = [], [], {}, 0
    for path in paths:
        kind = sniff_format(path) if fmt == "auto" else fmt
        if kind == "pairs":
            part = pairs_to_groups(read_pairs(path, normalize), positive_at)
        else:
            part = read_groups(path, normalize)
        # a group id already read from an earlier file is the same group: labels by first appearance
        label_of = np.array([index.setdefault(name, len(index)) for name in part.names], dtype=np.int64)
        sentences += part.sentences
        labels.append(label_of[part.labels])
        skipped += part.skipped_empty
    return Groups(sentences, np.concatenate(labels) if labels else np.zeros(0, np.int64), list(index), skipped,
                  [str(p) for p in paths])


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
