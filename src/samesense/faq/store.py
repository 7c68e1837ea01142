"""The FAQ bank's store: one SQLite file (a path, the default) or one PostgreSQL database (a postgresql://
address), behind this one class. Its SQL, written once with `?` placeholders, is here (settings, reads) and in
store_writes.py (the writes, in one transaction of this store's); database.py's dialects carry what differs.

    settings(key, value)          JSON values: threshold, margin, model fingerprint, generation, ...
    entries(id, answer, grp, tags, created, updated)
    questions(id, entry_id, position, text, vector)
                                  position 0 is the entry's question, 1.. its paraphrases;
                                  vector is the model's float32 vector of the text

The unanswered-questions log (unanswered_store.py): a file beside a SQLite bank, tables in a PostgreSQL bank's.

Every question row is immutable: editing a question deletes its row and inserts a new one, and ids are never
reused (AUTOINCREMENT, identity columns). So a question id names one (text, vector) for good, and the vector index
only has to agree with the store on the set of ids, which makes checking and repairing it a set difference. Every
write also bumps `generation`: a process holding an index in memory notices others' writes with one cheap read.

A write is one transaction, one writer at a time (BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so
a process killed at any moment leaves the bank as it was before or after it; readers go on (WAL, MVCC).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from ..bounds import INT64_MAX
from ..errors import SamesenseError
from .choices import ANSWER_DEFAULTS
from .database import open_database

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer TEXT NOT NULL,
    grp TEXT UNIQUE,
    tags TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS questions_by_entry ON questions(entry_id, position);
"""
SCHEMA_VERSION = 1

# Visible defaults until `samesense calibrate` (or the user) sets them.
DEFAULT_SETTINGS = {
    "schema_version": SCHEMA_VERSION,
    "generation": 0,
    **ANSWER_DEFAULTS,  # threshold, margin, max_unknown: see choices.py
    "index": "auto",  # flat | hnsw | auto (hnsw above hnsw_above question vectors)
    "hnsw_above": 200_000,
    "calibration": None,
}


class NoSuchEntry(SamesenseError):
    def __init__(self, entry_id: int):
        super().__init__(f"no entry {entry_id}")


@dataclass
class Entry:
    id: int
    question: str
    answer: str
    paraphrases: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    group: str | None = None
    created: float = 0.0
    updated: float = 0.0

    @property
    def questions(self) -> list[str]:
        return [self.question, *self.paraphrases]

    def to_dict(self) -> dict:
        return {"id": self.id, "question": self.question, "answer": self.answer,
                "paraphrases": self.paraphrases, "tags": self.tags, "group": self.group,
                "created": self.created, "updated": self.updated}


SQLITE_INTEGERS = range(-INT64_MAX - 1, INT64_MAX + 1)  # an INTEGER column's: an id outside it is no row's


def storable(number: int) -> bool:
    """Whether SQLite can hold `number` (binding a larger one raises OverflowError)."""
    return int(number) in SQLITE_INTEGERS


class Store:
    """The bank's database (database.py). Thread-safe: one writer connection behind a lock, one reader per
    thread. `read_only`: every write is refused (a SamesenseError), so nothing can change the bank."""

    def __init__(self, path: str | os.PathLike, create: bool = True, read_only: bool = False):
        self.db = open_database(path)  # the dialect: a SQLite file, or a PostgreSQL database (database.py)
        self.path = self.db.location  # what messages name: the file, or the address without its password
        self.read_only = read_only
        if not self.db.exists() and (not create or read_only):
            raise SamesenseError(f"{self.path}: no such FAQ bank")
        if not self.db.shared:
            if self.path.is_dir():
                raise SamesenseError(f"{self.path}: is a folder, not an FAQ bank file")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.write_lock = threading.RLock()
        try:
            self._writer = self.db.connect()
            self._create_schema(create)
        except (sqlite3.DatabaseError, *self.db.errors) as err:
            self.db.close_all()
            raise SamesenseError(f"{self.path}: not an FAQ bank ({err})") from None
        version = self.setting("schema_version")
        if version != SCHEMA_VERSION:
            raise SamesenseError(f"{self.path}: bank format {version}, this samesense reads {SCHEMA_VERSION}")

    def _create_schema(self, create: bool = True) -> None:
        """Tables and default settings, once; an existing bank is not written to (opening it for
        reading must not look like a change to the processes that hold it open)."""
        conn = self._writer
        if self.db.has_table(conn, "settings"):
            return
        if self.read_only or (self.db.shared and not create):
            raise SamesenseError(f"{self.path}: no such FAQ bank (the database holds no FAQ tables)")
        self.db.prepare_new(conn)
        with self.write(bump=False):
            for statement in self.db.ddl(SCHEMA):  # executescript would commit
                conn.execute(statement)
            for key, value in DEFAULT_SETTINGS.items():
                conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                             (key, json.dumps(value)))

    @property
    def reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or not self.db.usable(conn):  # a database server restarted: connect again
            conn = self._local.conn = self.db.connect()
        return conn

    def close(self) -> None:
        with self.write_lock:
            self._writer.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        self.db.close_all()  # the other threads' readers, for a database server

    @contextlib.contextmanager
    def write(self, bump: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; it bumps the generation. Rolled back whole on any error."""
        if self.read_only:
            raise SamesenseError(f"{self.path}: opened read-only; open it writable to change it")
        with self.write_lock:
            if not self.db.usable(self._writer):  # a database server restarted: connect again
                self._writer = self.db.connect()
            conn = self._writer
            self.db.begin_write(conn)  # one writer at a time: SQLite's BEGIN IMMEDIATE, or a lock
            try:
                yield conn
                if bump:
                    conn.execute("UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
                    self.db.notify_change(conn)  # the other replicas learn of it at the commit
                conn.execute("COMMIT")
            except BaseException:
                self.db.rollback(conn)
                raise

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction on this thread's reader: what is read inside sees the bank as it
        was at the first read, whatever other processes commit meanwhile."""
        conn = self.reader
        if conn.in_transaction:  # inside another snapshot already: that one holds
            yield conn
            return
        self.db.begin_read(conn)
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    # -- settings -----------------------------------------------------------------------------

    def setting(self, key: str, conn: sqlite3.Connection | None = None):
        row = (conn or self.reader).execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else DEFAULT_SETTINGS.get(key)

    def settings(self) -> dict:
        rows = self.reader.execute("SELECT key, value FROM settings").fetchall()
        return {**DEFAULT_SETTINGS, **{k: json.loads(v) for k, v in rows}}

    @staticmethod
    def put_setting(conn: sqlite3.Connection, key: str, value) -> None:
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     (key, json.dumps(value)))

    def put_settings(self, **values) -> None:
        """Several settings in one write transaction."""
        with self.write() as conn:
            for key, value in values.items():
                Store.put_setting(conn, key, value)

    def generation(self) -> int:
        return int(self.setting("generation"))

    # -- reading ------------------------------------------------------------------------------

    def count(self, contains: str | None = None) -> tuple[int, int]:
        """(entries, question vectors); with `contains`, of the entries holding it (as list_entries)."""
        conn, (where, params) = self.reader, holding(contains)
        return (conn.execute(f"SELECT COUNT(*) FROM entries {where}", params).fetchone()[0],
                conn.execute(f"SELECT COUNT(*) FROM questions WHERE entry_id IN (SELECT id FROM entries {where})"
                             if where else "SELECT COUNT(*) FROM questions", params).fetchone()[0])

    def question_ids(self, above: int = 0) -> np.ndarray:
        """The question ids above `above` (ids start at 1: all by default)."""
        rows = self.reader.execute("SELECT id FROM questions WHERE id > ?", (int(above),)).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def vectors(self, ids: Sequence[int] | None = None, dim: int | None = None,
                chunk: int = 50_000) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of the given question ids (all when None), read in chunks."""
        conn = self.reader
        if ids is None:
            rows = conn.execute("SELECT id, vector FROM questions ORDER BY id").fetchall()
        else:
            ids = [int(i) for i in ids]
            rows = []
            for start in range(0, len(ids), 900):  # SQLite caps the number of parameters
                part = ids[start: start + 900]
                rows += conn.execute(f"SELECT id, vector FROM questions WHERE id IN ({','.join('?' * len(part))})",
                                     part).fetchall()
        out_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return out_ids, np.zeros((0, dim or 0), dtype=np.float32)
        flat = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4")
        return out_ids, flat.reshape(len(rows), -1).astype(np.float32, copy=False)

    def question_texts(self, conn: sqlite3.Connection | None = None,
                       ids: Sequence[int] | None = None) -> tuple[np.ndarray, list[str]]:
        """(ids, texts) of the given question ids (all when None), by id."""
        conn = conn or self.reader
        if ids is None:
            rows = conn.execute("SELECT id, text FROM questions ORDER BY id").fetchall()
        else:
            ids, rows = [int(i) for i in ids], []
            for start in range(0, len(ids), 900):  # SQLite caps the number of parameters
                part = ids[start: start + 900]
                rows += conn.execute(f"SELECT id, text FROM questions WHERE id IN ({','.join('?' * len(part))})",
                                     part).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def entries_of_questions(self, question_ids: Sequence[int]) -> dict[int, tuple[int, str, str]]:
        """question id -> (entry id, question text, answer)."""
        ids = [int(i) for i in question_ids]
        if not ids:
            return {}
        rows = self.reader.execute(
            f"SELECT q.id, q.entry_id, q.text, e.answer FROM questions q JOIN entries e ON e.id = q.entry_id "
            f"WHERE q.id IN ({','.join('?' * len(ids))})", ids).fetchall()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def _entries(self, where: str = "", params: Sequence = (), conn: sqlite3.Connection | None = None,
                 tail: str = "") -> list[Entry]:
        conn = conn or self.reader
        rows = conn.execute(f"SELECT id, answer, grp, tags, created, updated FROM entries {where} "
                            f"ORDER BY id {tail}", params).fetchall()
        entries = {r[0]: Entry(r[0], "", r[1], [], json.loads(r[3]), r[2], r[4], r[5]) for r in rows}
        ids = list(entries)
        for start in range(0, len(ids), 900):
            part = ids[start: start + 900]
            for entry_id, position, text in conn.execute(
                    f"SELECT entry_id, position, text FROM questions WHERE entry_id IN "
                    f"({','.join('?' * len(part))}) ORDER BY entry_id, position, id", part):
                entry = entries[entry_id]
                if position == 0:
                    entry.question = text
                else:
                    entry.paraphrases.append(text)
        return list(entries.values())

    def entry(self, entry_id: int, conn: sqlite3.Connection | None = None) -> Entry | None:
        if not storable(entry_id):
            return None
        found = self._entries("WHERE id = ?", (int(entry_id),), conn)
        return found[0] if found else None

    def entry_by_group(self, group: str, conn: sqlite3.Connection | None = None) -> Entry | None:
        found = self._entries("WHERE grp = ?", (group,), conn)
        return found[0] if found else None

    def entries_by_id(self, entry_ids: Sequence[int], conn: sqlite3.Connection | None = None) -> dict[int, Entry]:
        ids = [int(i) for i in entry_ids if storable(i)]
        found: dict[int, Entry] = {}
        for start in range(0, len(ids), 900):
            part = ids[start: start + 900]
            found.update((e.id, e) for e in self._entries(f"WHERE id IN ({','.join('?' * len(part))})", part, conn))
        return found

    def entry_ids_by_group(self, conn: sqlite3.Connection | None = None) -> dict[str, int]:
        return dict((conn or self.reader).execute("SELECT grp, id FROM entries WHERE grp IS NOT NULL"))

    def entry_ids_by_question(self, conn: sqlite3.Connection | None = None) -> dict[str, int]:
        """Question -> id of the entries without a group (their question is what names them)."""
        return dict((conn or self.reader).execute(
            "SELECT q.text, e.id FROM entries e JOIN questions q ON q.entry_id = e.id "
            "WHERE e.grp IS NULL AND q.position = 0"))

    def entry_ids_holding(self, texts: Sequence[str], conn: sqlite3.Connection | None = None) -> dict[str, int]:
        """Question or paraphrase text -> id of an entry holding it, for those of `texts` stored."""
        texts, found = list(texts), {}
        for start in range(0, len(texts), 900):  # SQLite caps the number of parameters
            part = texts[start: start + 900]
            found.update((conn or self.reader).execute(
                f"SELECT text, MIN(entry_id) FROM questions WHERE text IN ({','.join('?' * len(part))}) "
                "GROUP BY text", part))
        return found

    def list_entries(self, offset: int = 0, limit: int | None = None, contains: str | None = None) -> list[Entry]:
        """Entries by id, from the `offset`-th (none past the last), at most `limit` (None: all)."""
        offset, limit = max(int(offset), 0), INT64_MAX if limit is None else max(int(limit), 0)
        if not storable(offset):
            return []
        where, params = holding(contains)
        return self._entries(where, [*params, limit if storable(limit) else INT64_MAX, offset], tail="LIMIT ? OFFSET ?")

    def check(self) -> str:
        return self.db.integrity(self.reader)


def holding(contains: str | None) -> tuple[str, list]:
    """The WHERE clause (and parameters) of the entries whose answer, question or paraphrase holds `contains`."""
    if not contains:
        return "", []
    pattern = "%" + contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return ("WHERE answer LIKE ? ESCAPE '\\' OR id IN (SELECT entry_id FROM questions WHERE text LIKE ? ESCAPE '\\')",
            [pattern, pattern])
