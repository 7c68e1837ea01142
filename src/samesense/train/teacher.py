"""A teacher's vectors for every training row, computed once and kept on disk.

A teacher (e5-small, MiniLM, a fine-tuned transformer, any encoder with `encode`) is slow: e5-small
encodes about 110 sentences a second on 2 cores, so the 170,000 Chinese sentences of the shared
data take half an hour. Its vectors are kept in a SQLite file, one row per (teacher fingerprint,
sha256 of the text):

    teacher_vectors(teacher TEXT, text_sha256 BLOB, dim INTEGER, vector BLOB, PRIMARY KEY (teacher, text_sha256))

- keyed by the text itself, so a changed sentence is a new key and is encoded again, and a file
  edited between runs costs only its changed lines;
- written a chunk at a time, each chunk one transaction, so a killed pass keeps every chunk it
  finished and the next run encodes only what is missing (at most one chunk is lost);
- keyed by the teacher's fingerprint too, so one cache folder can serve several teachers
  (--teacher-cache DIR shared by runs), and another teacher's vectors are never taken.

The run's own cache is run/teacher_vectors.sqlite; the student never needs the teacher afterwards.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..console import progress, say
from ..errors import SamesenseError

CACHE_FILE = "teacher_vectors.sqlite"
CHUNK = 1024  # sentences encoded and committed at a time: what a kill can lose


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class TeacherCache:
    def __init__(self, path: str | os.PathLike, fingerprint: str):
        self.path, self.fingerprint = Path(path), fingerprint
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS teacher_vectors (teacher TEXT NOT NULL, text_sha256 BLOB NOT NULL, "
                          "dim INTEGER NOT NULL, vector BLOB NOT NULL, PRIMARY KEY (teacher, text_sha256))")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "TeacherCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, texts: Sequence[str]) -> dict[bytes, np.ndarray]:
        """The kept vectors of these texts, by text key (texts not kept are left out)."""
        keys = list(dict.fromkeys(text_key(t) for t in texts))
        found: dict[bytes, np.ndarray] = {}
        for start in range(0, len(keys), 900):  # SQLite caps the number of parameters
            part = keys[start: start + 900]
            rows = self.conn.execute(
                f"SELECT text_sha256, dim, vector FROM teacher_vectors WHERE teacher = ? AND text_sha256 IN "
                f"({','.join('?' * len(part))})", [self.fingerprint, *part]).fetchall()
            for key, dim, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape != (dim,):
                    raise SamesenseError(f"{self.path}: a damaged teacher vector; delete the file to encode again")
                found[key] = vector
        return found

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep these texts' vectors: one transaction."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = [(self.fingerprint, text_key(t), vectors.shape[1], v.tobytes()) for t, v in zip(texts, vectors)]
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany("INSERT OR REPLACE INTO teacher_vectors VALUES (?, ?, ?, ?)", rows)


def teacher_vectors(teacher, texts: Sequence[str], cache_path: str | os.PathLike, batch_size: int = 128,
                    show_progress: bool | None = None) -> np.ndarray:
    """(len(texts), teacher dim) float32: the teacher's vector of each text, from the cache, the
    missing ones encoded a chunk at a time (a progress bar over them) and kept as they come."""
    with TeacherCache(cache_path, teacher.fingerprint) as cache:
        found = cache.get(texts)
        missing = list(dict.fromkeys(t for t in texts if text_key(t) not in found))
        if missing:
            say(f"teacher: encoding {len(missing)} of {len(set(texts))} distinct sentences "
                f"({len(set(texts)) - len(missing)} kept in {cache_path})")
            bar = progress(range(0, len(missing), CHUNK), desc="teacher", unit="chunk", show=show_progress)
            for start in bar:
                chunk = missing[start: start + CHUNK]
                vectors = np.asarray(teacher.encode(chunk, batch_size=batch_size), dtype=np.float32)
                cache.put(chunk, vectors)
                found.update(zip((text_key(t) for t in chunk), vectors))
            bar.close()
    if not texts:
        return np.zeros((0, teacher.dim), np.float32)
    return np.stack([found[text_key(t)] for t in texts])


@dataclass(frozen=True)
class Taught:
    """A teacher's unit vectors of every training row (TrainData.row_texts), and which teacher."""

    vectors: np.ndarray  # (rows, dim) float32
    fingerprint: str
    name: str | None  # how the run names it (cfg.distil.teacher, or a given encoder's spec)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]


def resolve_teacher(cfg, spec: str):
    """The encoder a run learns from (--teacher, --init-from), on the run's threads."""
    from ..encoder_spec import resolve_encoder

    return resolve_encoder(spec, threads=cfg.run.threads, need_vectors="a teacher")


def cache_file(cfg, run: Path) -> Path:
    """The run's teacher cache: in cfg.distil.teacher_cache, shared by runs, else in the run folder."""
    return (Path(cfg.distil.teacher_cache) if cfg.distil.teacher_cache else run) / CACHE_FILE


def teach(cfg, data, run: Path, teacher=None) -> Taught | None:
    """The teacher's vectors of every row of `data` (TrainData), when the config names a teacher (or
    `teacher`, any encoder with `encode`, `dim` and `fingerprint`, is given): loaded, encoded
    through the cache (cfg.distil.teacher_cache, else the run folder) and L2-normalised."""
    if teacher is None and not cfg.distil.teacher:
        return None
    teacher = teacher or resolve_teacher(cfg, cfg.distil.teacher)
    vectors = teacher_vectors(teacher, data.row_texts, cache_file(cfg, run), show_progress=cfg.run.show_progress)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return Taught((vectors / np.maximum(norms, 1e-12)).astype(np.float32), teacher.fingerprint,
                  cfg.distil.teacher or getattr(teacher, "spec", None))
