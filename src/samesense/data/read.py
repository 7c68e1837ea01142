"""Reading sentence groups and sentence pairs from files.

Two plain formats, UTF-8, one record a line (a `.gz` file is read the same way):
  groups: group_id<TAB>sentence        sentences that share a group_id mean the same thing
  pairs:  sentence1<TAB>sentence2<TAB>label   label 0/1, or a similarity score
Pairs become groups as the connected components of their positive pairs (groups.py).

Malformed input raises DataError, whose message names the file and the line, so that the CLI can
print one clear line instead of a traceback. Empty sentences are skipped and counted.
"""

from __future__ import annotations

import gzip
import os
import zlib
from array import array
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..errors import DataError, SamesenseError
from .groups import Groups, Pairs, normalize_text, pairs_to_groups


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
