"""The unanswered-questions log's SQLite file (unanswered.py says why it is a file of its own beside
the bank and what goes in it): its schema and every statement run on it.

    asked(id, time, question, grouped, outcome, reason, nearest, status, entry_id)
                                  a row a recorded question; `grouped` is the question as identical
                                  ones share it, `nearest` JSON; `status` open until the support team
                                  handles it (assigned to entry `entry_id` as a paraphrase, added as
                                  entry `entry_id`, or dismissed): handled rows stay, for counts and history

The file's format is its PRAGMA user_version; an empty file is given the table, any other SQLite file
is refused (a bank named by mistake). A format 1 file (no status) gains the two columns when opened
(MIGRATIONS: plain ALTER TABLE ... ADD COLUMN, as any SQL database takes it). Beside a PostgreSQL bank
the table is in the bank's database, its format a row of store_formats (database.py's dialects carry
the difference; the SQL, migrations included, is this one).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from typing import Iterator, Sequence

from ..errors import SamesenseError
from .database import open_database
from .store import storable

UNANSWERED_SCHEMA = """
CREATE TABLE asked (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    question TEXT NOT NULL,
    grouped TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    nearest TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    entry_id INTEGER);
CREATE INDEX asked_by_question ON asked(grouped);
CREATE INDEX asked_by_time ON asked(time)
"""
UNANSWERED_FORMAT = 2  # the log file's PRAGMA user_version
# format -> the statements that bring a file of that format to the next
MIGRATIONS = {1: ("ALTER TABLE asked ADD COLUMN status TEXT NOT NULL DEFAULT 'open'",
                  "ALTER TABLE asked ADD COLUMN entry_id INTEGER")}


class UnansweredStore:
    """The unanswered-questions log's file: one table, `asked`, a row a recorded question
    (`grouped`: the question as identical ones share it; `nearest`: JSON). Writes go through one
    connection behind a lock (a write is one row); each read opens its own, so that an
    administrator's read of a large log never holds up the recording of an answer (WAL)."""

    def __init__(self, path: str | os.PathLike, create: bool = True):
        self.db = open_database(path, purpose="unanswered", lock_wait=2)
        self.path = self.db.location
        if not self.db.shared and self.path.is_dir():
            raise SamesenseError(f"{self.path}: is a folder, not an unanswered-questions log")
        if not create and not self.db.shared and not self.path.exists():
            raise SamesenseError(f"{self.path}: no unanswered-questions log (nothing recorded yet)")
        self.lock = threading.Lock()
        try:
            # a short wait (lock_wait): a record is on the answering path, and is dropped rather than keep a
            # client waiting. As the bank's store: with WAL a killed process loses nothing committed, and a
            # commit does not wait for the disk (FULL synced every record: ~40 ms an abstention)
            self.conn = self.db.connect()
            self._create_schema(create)
        except (sqlite3.Error, *self.db.errors) as err:
            self.close()
            raise SamesenseError(f"{self.path}: cannot use it as the unanswered-questions log ({err})") from None

    def _create_schema(self, create: bool = True) -> None:
        """The table on a new (empty) file; refused on any other SQLite file (a bank named by mistake)."""
        conn, db = self.conn, self.db
        version = db.format_version(conn)
        if version == UNANSWERED_FORMAT:
            return
        if db.shared and not create and version not in MIGRATIONS:
            raise SamesenseError(f"{self.path}: no unanswered-questions log (nothing recorded yet)")
        if version not in MIGRATIONS and (version or not db.is_empty(conn)):  # a newer log, or not a log
            raise sqlite3.DatabaseError("another kind of SQLite file")
        db.prepare_new(conn)  # SQLite: WAL, writers in several processes, readers never blocked
        with self._transaction():  # looked at again inside: another process may have just made it
            version = db.format_version(conn)
            if version == 0:
                for statement in db.ddl(UNANSWERED_SCHEMA):
                    conn.execute(statement)
            while version in MIGRATIONS:  # an older log: its rows kept, open
                for statement in db.ddl(";".join(MIGRATIONS[version])):
                    conn.execute(statement)
                version += 1
            db.set_format_version(conn, UNANSWERED_FORMAT)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            if not self.db.usable(self.conn):  # a database server restarted: connect again
                self.conn = self.db.connect()
            self.db.begin_write(self.conn)
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                self.db.rollback(self.conn)
                raise

    @contextlib.contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        if self.db.shared:
            conn = self.db.connect()
        else:
            conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=rw", uri=True, timeout=2)  # never creates one
        try:
            yield conn
        finally:
            conn.close()

    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            with self.lock:
                conn.close()
        if hasattr(self, "db"):
            self.db.close_all()

    def add(self, time: float, question: str, grouped: str, outcome: str, reason: str | None, nearest: str,
            keep: int) -> None:
        """One row, and the oldest rows beyond the last `keep` dropped, in one transaction."""
        with self._transaction() as conn:
            cur = conn.execute("INSERT INTO asked (time, question, grouped, outcome, reason, nearest) "
                               "VALUES (?, ?, ?, ?, ?, ?)", (time, question, grouped, outcome, reason, nearest))
            conn.execute("DELETE FROM asked WHERE id <= ?", (cur.lastrowid - keep,))

    def mark(self, grouped: str, status: str, entry_id: int | None) -> int:
        """Give the open rows of a question (as `grouped`) `status` and `entry_id`; how many rows."""
        with self._transaction() as conn:
            return conn.execute("UPDATE asked SET status = ?, entry_id = ? WHERE grouped = ? AND status = 'open'",
                                (status, entry_id, grouped)).rowcount

    @staticmethod
    def _where(since: float, outcomes: Sequence[str], statuses: Sequence[str]) -> tuple[str, list]:
        return (f"WHERE time >= ? AND outcome IN ({','.join('?' * len(outcomes))}) "
                f"AND status IN ({','.join('?' * len(statuses))})", [since, *outcomes, *statuses])

    def count(self, since: float, outcomes: Sequence[str], statuses: Sequence[str]) -> tuple[int, int]:
        """(distinct questions, rows) asked since `since` with one of `outcomes` and of `statuses`."""
        where, params = self._where(since, outcomes, statuses)
        with self._reader() as conn:
            return tuple(conn.execute(f"SELECT COUNT(DISTINCT grouped), COUNT(*) FROM asked {where}",
                                      params).fetchone())

    def groups(self, since: float, outcomes: Sequence[str], statuses: Sequence[str], newest_first: bool,
               offset: int, limit: int) -> list[tuple]:
        """Identical questions together: (latest wording, count, first time, latest time, latest
        outcome, latest reason, latest nearest, latest status, its entry id), most asked first (or
        latest first)."""
        if not (storable(offset) and storable(limit)):
            return []
        where, params = self._where(since, outcomes, statuses)
        order = "g.last_id DESC" if newest_first else "g.n DESC, g.last_id DESC"
        with self._reader() as conn:
            return conn.execute(
                f"WITH g AS (SELECT grouped, COUNT(*) AS n, MIN(time) AS first, MAX(id) AS last_id FROM asked "
                f"{where} GROUP BY grouped) "
                f"SELECT a.question, g.n, g.first, a.time, a.outcome, a.reason, a.nearest, a.status, a.entry_id "
                f"FROM g JOIN asked a ON a.id = g.last_id ORDER BY {order} LIMIT ? OFFSET ?",
                [*params, limit, offset]).fetchall()
