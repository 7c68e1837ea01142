"""A bank's vector index (index.py) for this process's model: built from the store, kept agreeing with
it, and kept on disk beside the bank (BANK.hnsw) when it is an HNSW graph.

The index takes a stored vector only when the bank's model (read in the same snapshot as the vector)
is this process's; otherwise it encodes the question itself, in memory (a read-only open with another
model, or a process whose model another process has replaced). Nothing is written for a read-only
bank, nor by a process whose model is not the bank's (its graph would replace the bank's own).
FaqBank (bank.py) decides when: on open, after its own writes, and when another process has written.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..protocols import TextEncoder
from .database import is_postgres
from .index import VectorIndex
from .model_choice import is_bank_model
from .store import Store


def graph_path(bank_path: str | os.PathLike) -> Path | None:
    """Where a bank's HNSW graph is kept: beside it, BANK.hnsw; None for a PostgreSQL bank (each
    replica builds its graph in memory: there is no "beside" a database server)."""
    if is_postgres(bank_path):
        return None
    bank_path = Path(bank_path)
    return bank_path.with_name(bank_path.name + ".hnsw")


class IndexKeeper:
    def __init__(self, store: Store, model: TextEncoder, show_progress: bool | None = False):
        self.store, self.model, self.show_progress = store, model, show_progress
        self.path = None if store.db.shared else graph_path(store.path)
        self.index: VectorIndex | None = None

    def build(self, kind: str, store_ids: np.ndarray) -> None:
        """Load the saved graph (hnsw) or start an empty index of `kind`, and make it agree with the
        store's question ids."""
        dim, fingerprint = self.model.dim, self.model.fingerprint
        saved = VectorIndex.load(self.path, dim, kind, fingerprint) if kind == "hnsw" and self.path else None
        self.index = saved if saved is not None else VectorIndex(dim, kind)
        self.sync(store_ids)
        self.save()  # repaired: don't repeat the work next time
        if kind == "flat" and self.path and self.path.exists() and not self.store.read_only:
            self.path.unlink()  # a stale graph from when the bank was large

    def save(self) -> None:
        """Keep a changed HNSW graph on disk (it takes minutes to build; a flat index is rebuilt)."""
        if (self.path and self.index is not None and self.index.kind == "hnsw" and self.index.changed
                and not self.store.read_only
                and is_bank_model(self.store, self.model)):
            self.index.save(self.path, self.model.fingerprint)

    def sync(self, store_ids: np.ndarray | None = None) -> tuple[int, int]:
        """Add the questions the store has and the index lacks, drop the ones it lost; a graph with
        too many tombstones is built again. (added, removed)."""
        if store_ids is None:
            with self.store.snapshot():
                newer = self.only_added()
                if newer is not None:  # the common catch-up: new questions only, no need to read every id
                    self.index.add(*self.fetch_vectors(newer))
                    return len(newer), 0
                store_ids = self.store.question_ids()
        added, removed = self.index.sync(store_ids, self.fetch_vectors)
        if self.index.needs_rebuild():
            self.index = VectorIndex(self.index.dim, self.index.kind)
            self.index.sync(store_ids, self.fetch_vectors)
        return added, removed

    def only_added(self) -> np.ndarray | None:
        """Inside a snapshot: the ids of the questions added since the index last agreed with the
        store, when none was deleted meanwhile; else None (a full set difference is needed). Writes
        are one at a time and ids only grow, never reused (store.py), so every question added since
        has an id above the index's largest, and none was deleted when the count is the index's
        plus those."""
        held = self.index.ids()
        newer = self.store.question_ids(above=int(held.max()) if len(held) else 0)
        return newer if len(held) + len(newer) == self.store.count()[1] else None

    def fetch_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of these questions for the index: the stored vectors when the bank's model
        is this process's, else the stored questions encoded with this process's model, in memory
        only. The model and the vectors are read in one snapshot, so a re-encoding committed by
        another process in between cannot slip the other model's vectors in."""
        with self.store.snapshot():
            if is_bank_model(self.store, self.model):
                return self.store.vectors(ids, self.model.dim)
            ids, texts = self.store.question_texts(ids=ids)
        if not texts:
            return ids, np.zeros((0, self.model.dim), dtype=np.float32)
        return ids, self.model.encode(texts, show_progress=self.show_progress)
