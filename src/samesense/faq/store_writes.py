"""The bank's writes to entries and questions: every statement runs inside the caller's one write
transaction (`with store.write() as conn`, store.py), so a failure anywhere leaves the bank as it was.
Question rows are never changed but for their position and, on a new model, their vector: editing a
question deletes its row and inserts a new one (store.py says why).
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Mapping, Sequence

import numpy as np

from .store import storable


def vector_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype="<f4").tobytes()


def matrix(vector_of: Mapping[str, np.ndarray], texts: Sequence[str], dim: int) -> np.ndarray:
    """The vectors of `texts`, one row each, from `vector_of`."""
    return np.array([vector_of[t] for t in texts], dtype=np.float32).reshape(len(texts), dim)


def insert_entry(conn: sqlite3.Connection, answer: str, tags: Sequence[str] = (),
                 group: str | None = None) -> int:
    now = time.time()
    cur = conn.execute("INSERT INTO entries (answer, grp, tags, created, updated) VALUES (?, ?, ?, ?, ?)",
                       (answer, group, json.dumps(list(tags), ensure_ascii=False), now, now))
    return int(cur.lastrowid)


def update_entry_fields(conn: sqlite3.Connection, entry_id: int, answer: str | None = None,
                        tags: Sequence[str] | None = None) -> None:
    if answer is not None:
        conn.execute("UPDATE entries SET answer = ? WHERE id = ?", (answer, entry_id))
    if tags is not None:
        conn.execute("UPDATE entries SET tags = ? WHERE id = ?",
                     (json.dumps(list(tags), ensure_ascii=False), entry_id))
    conn.execute("UPDATE entries SET updated = ? WHERE id = ?", (time.time(), entry_id))


def set_group(conn: sqlite3.Connection, entry_id: int, group: str | None) -> None:
    conn.execute("UPDATE entries SET grp = ? WHERE id = ?", (group, entry_id))


def insert_questions(conn: sqlite3.Connection, entry_id: int, texts: Sequence[str],
                     vectors: np.ndarray, first_position: int = 0) -> list[int]:
    ids = []
    for offset, (text, vector) in enumerate(zip(texts, vectors)):
        cur = conn.execute("INSERT INTO questions (entry_id, position, text, vector) VALUES (?, ?, ?, ?)",
                           (entry_id, first_position + offset, text, vector_blob(vector)))
        ids.append(int(cur.lastrowid))
    return ids


def question_rows(conn: sqlite3.Connection, entry_id: int) -> list[tuple[int, int, str]]:
    """(question id, position, text) of an entry."""
    if not storable(entry_id):
        return []
    return conn.execute("SELECT id, position, text FROM questions WHERE entry_id = ? ORDER BY position, id",
                        (entry_id,)).fetchall()


def delete_questions(conn: sqlite3.Connection, question_ids: Sequence[int]) -> None:
    conn.executemany("DELETE FROM questions WHERE id = ?", [(int(i),) for i in question_ids])


def set_positions(conn: sqlite3.Connection, positions: dict[int, int]) -> None:
    conn.executemany("UPDATE questions SET position = ? WHERE id = ?", [(p, i) for i, p in positions.items()])


def delete_entry(conn: sqlite3.Connection, entry_id: int) -> list[int]:
    """Delete an entry and its questions; return the deleted question ids."""
    if not storable(entry_id):
        return []
    ids = [r[0] for r in conn.execute("SELECT id FROM questions WHERE entry_id = ?", (entry_id,))]
    conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,))  # questions go by cascade
    return ids


def replace_vectors(conn: sqlite3.Connection, ids: np.ndarray, vectors: np.ndarray) -> None:
    conn.executemany("UPDATE questions SET vector = ? WHERE id = ?",
                     ((vector_blob(v), int(i)) for i, v in zip(ids, vectors)))
