"""The vector index over a bank's question vectors: FAISS, inner product on unit vectors (= cosine).

Two kinds, one interface, both keyed by the store's question ids (int64, never reused):
  flat  IndexIDMap over IndexFlatIP: exact. Adds and removes by id in place. Never saved: it is
        built from the store's vectors when the bank opens (a copy of the blobs, well under a second
        for 100,000 questions), so there is nothing on disk that could disagree with the store.
  hnsw  IndexIDMap over IndexHNSWFlat: approximate, sub-linear, for large banks. Building it takes
        minutes for a million vectors, so it is saved beside the bank (one file: a JSON header with
        the model fingerprint, then the FAISS bytes, written atomically) and repaired on open.
        HNSW cannot remove a vector, so a deleted id becomes a tombstone: searches pass FAISS an
        IDSelector that skips tombstones, which keeps results exact in count (no over-fetching and
        hoping), and the graph is rebuilt when tombstones pass a quarter of it.

Agreement with the store is a matter of id sets (question rows are immutable): `sync` adds the ids
the store has and the index lacks, and removes (or tombstones) the ones the index has and the
store lost.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import faiss
import numpy as np

from ..errors import SamesenseError
from ..files import atomic_write_bytes
from .choices import INDEX_KINDS as KINDS  # kept apart for --help; the name it had here

HNSW_M = 32  # links per node: the usual recall/memory balance for 100-300-d vectors
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
REBUILD_AT_TOMBSTONES = 0.25
MAGIC = b"SSFAQIDX"


def kind_for(setting: str, hnsw_above: int, questions: int) -> str:
    """The kind a bank of `questions` vectors should have under its `index` setting (flat, hnsw, or
    auto: hnsw above `hnsw_above`)."""
    if setting == "auto":
        return "hnsw" if questions > int(hnsw_above) else "flat"
    return setting


class VectorIndex:
    def __init__(self, dim: int, kind: str = "flat"):
        if kind not in KINDS:
            raise SamesenseError(f"unknown index kind {kind!r}: choose from {', '.join(KINDS)}")
        self.dim, self.kind = dim, kind
        self.index = self._empty()
        self.tombstones: set[int] = set()
        self.changed = False  # since built, loaded or saved: whether a save has anything to keep
        self._params = self._selector = None  # FAISS search parameters that skip tombstones (hnsw)

    def _empty(self):
        if self.kind == "flat":
            return faiss.IndexIDMap(faiss.IndexFlatIP(self.dim))
        graph = faiss.IndexHNSWFlat(self.dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        graph.hnsw.efSearch = HNSW_EF_SEARCH
        return faiss.IndexIDMap(graph)

    def __len__(self) -> int:
        """Live vectors (tombstones not counted)."""
        return self.index.ntotal - len(self.tombstones)

    def ids(self) -> np.ndarray:
        """Live ids held by the index."""
        ids = faiss.vector_to_array(self.index.id_map).astype(np.int64)
        return ids[~np.isin(ids, list(self.tombstones))] if self.tombstones else ids

    # -- changes ------------------------------------------------------------------------------

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.changed = True
            self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                    np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids) -> None:
        ids = np.asarray(list(ids), dtype=np.int64)
        if not len(ids):
            return
        self.changed = True
        if self.kind == "flat":
            self.index.remove_ids(ids)
            return
        held = faiss.vector_to_array(self.index.id_map)
        self.tombstones.update(int(i) for i in ids[np.isin(ids, held)])  # only what the graph holds
        self._params = None

    def needs_rebuild(self) -> bool:
        return self.kind == "hnsw" and len(self.tombstones) > REBUILD_AT_TOMBSTONES * max(self.index.ntotal, 1)

    def sync(self, store_ids: np.ndarray, fetch_vectors) -> tuple[int, int]:
        """Make the live ids equal to `store_ids`; `fetch_vectors(ids)` gives (ids, vectors) from the
        store. Returns (added, removed)."""
        held = self.ids()
        missing = np.setdiff1d(store_ids, held, assume_unique=True)
        extra = np.setdiff1d(held, store_ids, assume_unique=True)
        self.remove(extra)
        for start in range(0, len(missing), 50_000):
            self.add(*fetch_vectors(missing[start: start + 50_000]))
        return len(missing), len(extra)

    # -- search -------------------------------------------------------------------------------

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (n, k), best first; missing results have id -1."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            return np.full((len(queries), 1), -np.inf, np.float32), np.full((len(queries), 1), -1, np.int64)
        if self.kind == "flat" or not self.tombstones:
            return self.index.search(queries, k)
        if self._params is None:
            batch = faiss.IDSelectorBatch(np.fromiter(self.tombstones, dtype=np.int64))
            self._params = faiss.SearchParametersHNSW(sel=faiss.IDSelectorNot(batch), efSearch=HNSW_EF_SEARCH)
            self._selector = batch  # the Not selector holds a raw pointer to it: keep it alive
        return self.index.search(queries, k, params=self._params)

    # -- files (hnsw) ---------------------------------------------------------------------------

    def save(self, path: str | os.PathLike, fingerprint: str) -> None:
        header = json.dumps({"kind": self.kind, "dim": self.dim, "fingerprint": fingerprint,
                             "tombstones": sorted(self.tombstones)}).encode()
        body = faiss.serialize_index(self.index).tobytes()
        atomic_write_bytes(path, MAGIC + struct.pack("<Q", len(header)) + header + body)
        self.changed = False

    @classmethod
    def load(cls, path: str | os.PathLike, dim: int, kind: str, fingerprint: str) -> "VectorIndex | None":
        """The saved index, or None when it is missing, damaged, or for another model, size or kind."""
        path = Path(path)
        try:
            data = path.read_bytes()
            if data[:8] != MAGIC:
                return None
            (size,) = struct.unpack("<Q", data[8:16])
            header = json.loads(data[16: 16 + size])
            if (header["kind"], header["dim"], header["fingerprint"]) != (kind, dim, fingerprint):
                return None
            index = faiss.deserialize_index(np.frombuffer(data[16 + size:], dtype=np.uint8))
        except (OSError, ValueError, KeyError, struct.error, RuntimeError):
            return None
        loaded = cls(dim, kind)
        loaded.index = index
        loaded.tombstones = set(header["tombstones"])
        return loaded
