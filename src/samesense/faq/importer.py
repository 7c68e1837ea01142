"""Reading FAQ files to import, and writing a bank out again.

Formats, by extension (`.gz` is read too) or by name:
  tsv    question<TAB>answer[<TAB>group]     an optional first line `question<TAB>answer[<TAB>group]`
  csv    question,answer[,group]              the same, with CSV quoting (fields may hold newlines)
  jsonl  {"question": ..., "answer": ..., "group": ..., "paraphrases": [...], "tags": [...]}
Rows that share a group are one entry (the first row's question is the entry's question, the others
its paraphrases), so each must carry the same answer.

A malformed row (wrong number of fields, empty question or answer, bad JSON or JSON nested too deep,
an answer that contradicts its group's, a question another row's entry holds already, a text that
breaks text.py's rules: invalid UTF-8, a control character, longer than the limits) is an error
naming the file and line: `on_error="reject"` stops at the first one, `"skip"` leaves the row out and reports it. A file that cannot be read (not gzip,
cut short) is an error naming the file. Nothing is written to the bank while reading, so a rejected
import writes nothing. What the rows then do to a bank is planner.py's business.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import zlib
from pathlib import Path
from typing import Iterator

from ..errors import DataError, SamesenseError
from ..files import atomic_write_bytes
from .choices import FORMATS, ON_ERROR, TextLimits
from .planner import FaqRow
from .store import Entry
from .text import DEFAULT_LIMITS, clean, clean_list

JSON_FIELDS = {"question", "answer", "group", "paraphrases", "tags", "id", "created", "updated"}


def file_format(path: str | os.PathLike, fmt: str = "auto") -> str:
    if fmt != "auto":
        if fmt not in FORMATS:
            raise SamesenseError(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
        return fmt
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    ext = suffixes[-1].lstrip(".") if suffixes else ""
    found = {"tsv": "tsv", "txt": "tsv", "tab": "tsv", "csv": "csv", "jsonl": "jsonl", "json": "jsonl",
             "ndjson": "jsonl"}.get(ext)
    if found is None:
        raise SamesenseError(f"{path}: cannot tell the format from the name; pass --format {'|'.join(FORMATS)}")
    return found


def _open_text(path: Path) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _records(path: Path, fmt: str) -> Iterator[tuple[int, object]]:
    """(line, fields list or JSON value) per non-blank record; a str value is an error message."""
    with _open_text(path) as fh:
        if fmt == "csv":
            reader = csv.reader(fh, strict=True)
            while True:
                start = reader.line_num + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as err:
                    yield start, f"bad CSV ({err})"
                    return  # the reader cannot find its footing after a quoting error
                if any(f.strip() for f in fields):
                    yield start, fields
            return
        for number, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if fmt == "tsv":
                yield number, line.split("\t")
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as err:
                yield number, f"bad JSON ({err.msg} at column {err.colno})"
            except ValueError as err:  # a number too long for int(), say
                yield number, f"bad JSON ({err})"
            except RecursionError:
                yield number, "bad JSON (nested too deep)"


def _text_field(value, name: str, required: bool, limits: TextLimits) -> str | None:
    """The text as stored (text.py's rules), None for an optional one left empty, or ValueError."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValueError(f"empty {name}")
        return None
    if isinstance(value, (int, float)) and name == "group" and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    try:
        return clean(value, name, limits)
    except SamesenseError as err:
        raise ValueError(str(err)) from None


def _text_list(value, name: str, limits: TextLimits) -> list[str]:
    """`name`: paraphrases or tags; empty texts are left out."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list of texts")
    texts = [t for t in (_text_field(v, name.removesuffix("s"), False, limits) for v in value) if t]
    try:
        return clean_list(texts, name, limits)
    except SamesenseError as err:
        raise ValueError(str(err)) from None


def _row(number: int, record, fmt: str, first: bool, limits: TextLimits) -> FaqRow | None:
    """A FaqRow, None for a header line, or ValueError with what is wrong."""
    if isinstance(record, str):
        raise ValueError(record)
    if fmt != "jsonl":
        if first and [f.strip().lower() for f in record] in (["question", "answer"], ["question", "answer", "group"]):
            return None
        if len(record) not in (2, 3):
            raise ValueError(f"expected question, answer[, group]: found {len(record)} fields")
        record = dict(zip(("question", "answer", "group"), record))
    elif not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, found {type(record).__name__}")
    else:
        unknown = set(record) - JSON_FIELDS
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(sorted(map(repr, unknown)))}")  # repr: one line
    return FaqRow(question=_text_field(record.get("question"), "question", True, limits),
                  answer=_text_field(record.get("answer"), "answer", True, limits),
                  group=_text_field(record.get("group"), "group", False, limits),
                  paraphrases=_text_list(record.get("paraphrases"), "paraphrases", limits),
                  tags=_text_list(record.get("tags"), "tags", limits), line=number)


def check_on_error(on_error: str) -> None:
    """What an import does with a bad row: choices.ON_ERROR, else a SamesenseError."""
    if on_error not in ON_ERROR:
        raise SamesenseError(f"on_error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")


def held_elsewhere(row: FaqRow, owners: dict[str, tuple[tuple[str, str], int]]) -> None:
    """ValueError when one of the row's questions is already another entry's in this file (another
    group, or another row without one): one question, one entry, as FaqBank.add has it (two entries
    holding one question tie for ever: "too close to call 1.000 vs 1.000")."""
    for question in row.questions:
        key, line = owners.get(question, (row.key, None))
        if key != row.key:
            raise ValueError(f"question {question!r} is already on line {line}, in another entry: one question, "
                             "one entry (give the rows one group, or leave one out)")


def read_rows(path: str | os.PathLike, fmt: str = "auto", on_error: str = "reject",
              limits: TextLimits = DEFAULT_LIMITS) -> tuple[list[FaqRow], list[str]]:
    """The rows of an FAQ file and the messages of the malformed rows skipped. `limits`: the bank's
    (a row a bank would refuse is a malformed row, reported with its line)."""
    check_on_error(on_error)
    path = Path(path)
    if not path.is_file():
        raise DataError(path, None, "no such file" if not path.exists() else "not a file")
    fmt = file_format(path, fmt)
    rows, skipped = [], []
    answers: dict[tuple[str, str], tuple[str, int]] = {}  # group (or question) -> first answer, line
    owners: dict[str, tuple[tuple[str, str], int]] = {}  # question -> the key of its entry, its first line
    try:
        for number, record in _records(path, fmt):
            try:
                row = _row(number, record, fmt, not rows and not skipped, limits)
                if row is None:
                    continue
                kind, name = row.key
                answer, line = answers.setdefault((kind, name), (row.answer, number))
                if answer != row.answer:
                    raise ValueError(f"{kind} {name!r} has another answer on line {line}")
                held_elsewhere(row, owners)
            except ValueError as err:
                if on_error == "reject":
                    raise DataError(path, number, f"{err} (--on-error skip leaves such rows out)") from None
                skipped.append(f"{path}:{number}: {err}")
                continue
            rows.append(row)
            owners.update({question: (row.key, number) for question in row.questions if question not in owners})
    except (OSError, EOFError, zlib.error) as err:  # gzip.BadGzipFile is an OSError
        raise DataError(path, None, f"cannot read ({err})") from None
    return rows, skipped


FULL_STOPS = (".", "。", "．")  # how an answer ends, and a question does not


def swapped_columns(rows: list[FaqRow]) -> str | None:
    """A warning when the file's "questions" look like answers (the columns swapped: answer,
    question): in at least half its rows the question ends with a full stop and is more than twice
    as long as the answer. None when they look like questions. Read, never refused: an FAQ may
    hold a few such rows on purpose."""
    looking = [row for row in rows if row.question.endswith(FULL_STOPS) and len(row.question) > 2 * len(row.answer)]
    if not rows or len(looking) * 2 < len(rows):
        return None
    return (f"in {len(looking)} of {len(rows)} rows the question looks like an answer (a full stop at its end, more "
            f"than twice as long as the answer; e.g. line {looking[0].line}: {looking[0].question[:60]!r}): are the "
            "columns swapped? The columns are question, answer[, group]")


# ---------------------------------------------------------------------------------------------
# Export


def export_text(entries: list[Entry], fmt: str) -> str:
    """A file that imports back into the same entries (the group keeps paraphrases together)."""
    if fmt == "jsonl":
        return "".join(json.dumps(e.to_dict(), ensure_ascii=False) + "\n" for e in entries)
    out = io.StringIO()
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["question", "answer", "group"])
    else:
        out.write("question\tanswer\tgroup\n")
    for e in entries:
        group = e.group or (f"entry-{e.id}" if e.paraphrases else "")
        for question in e.questions:
            if fmt == "csv":
                writer.writerow([question, e.answer, group])
            else:  # a TSV field cannot hold a tab or a line break
                out.write("\t".join(" ".join(f.split()) for f in (question, e.answer, group)) + "\n")
    return out.getvalue()


def export_file(entries: list[Entry], path: str | os.PathLike, fmt: str = "auto") -> None:
    data = export_text(entries, file_format(path, fmt)).encode("utf-8")
    if str(path).endswith(".gz"):
        data = gzip.compress(data)
    atomic_write_bytes(path, data)
