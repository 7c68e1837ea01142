"""Copying a bank between stores: SQLite -> PostgreSQL, PostgreSQL -> SQLite (or a file to a file).

    report = migrate("support.faq", "postgresql://faq@db.internal/faq")

Everything the bank holds is copied as it is, in one write transaction of the destination: its
settings (the model fingerprint, the thresholds, the calibration), its entries and questions with
their ids (so clients' entry ids and the unanswered log's nearest entries still name the same
entries) and each id sequence's high-water mark (ids are never reused), and the stored vectors byte
for byte: the model is not run. Then both are read back and compared: the counts, every entry, and
every question's vector. The destination must hold no entry (a bank is copied whole, never merged).
The unanswered-questions log is not copied: it is a record of what was asked of the old service.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import SamesenseError
from .store import Store
from .store_copy import copy_bank


@dataclass
class MigrationReport:
    source: str
    destination: str
    entries: int
    questions: int

    def to_text(self) -> str:
        return (f"{self.source} -> {self.destination}: {self.entries} entries, {self.questions} questions copied; "
                "counts, entries and vectors verified identical")


def migrate(source: str | os.PathLike, destination: str | os.PathLike) -> MigrationReport:
    src = Store(source, create=False, read_only=True)
    try:
        dst = Store(destination, create=True)
        try:
            if dst.count()[0]:
                raise SamesenseError(f"{dst.path}: already holds {dst.count()[0]} entries; migrate into an empty "
                                     "bank (a bank is copied whole, never merged)")
            with src.snapshot() as read:
                copy_bank(src, read, dst)
            verify(src, dst)
            entries, questions = dst.count()
            return MigrationReport(str(src.path), str(dst.path), entries, questions)
        finally:
            dst.close()
    finally:
        src.close()


def verify(src: Store, dst: Store) -> None:
    """The copy reads back as the original: counts, entries (every field), and vectors, byte for byte."""
    if src.count() != dst.count():
        raise SamesenseError(f"{dst.path}: holds {dst.count()} (entries, questions) after the copy, "
                             f"{src.path} {src.count()}: the copy was rolled back? nothing is verified")
    src_ids, src_vectors = src.vectors()
    dst_ids, dst_vectors = dst.vectors()
    if not (np.array_equal(src_ids, dst_ids) and np.array_equal(src_vectors, dst_vectors)):
        raise SamesenseError(f"{dst.path}: the copied vectors differ from {src.path}'s")
    if [e.to_dict() for e in src.list_entries()] != [e.to_dict() for e in dst.list_entries()]:
        raise SamesenseError(f"{dst.path}: the copied entries differ from {src.path}'s")
