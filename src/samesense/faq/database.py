"""The thin layer under the bank's one store (store.py, store_writes.py, unanswered_store.py): what
differs between the databases a bank can live in, so that the store's SQL is written once.

    open_database("support.faq")                    SQLite: a file (the default for a path)
    open_database("postgresql://user@host/faq")     PostgreSQL (postgres.py), through psycopg 3

The store writes portable SQL with `?` placeholders (INSERT ... ON CONFLICT for upserts, `cur.lastrowid`
after an INSERT, LIMIT with a number); a dialect gives it
  - connections whose `execute` / `executemany` take that SQL (PostgreSQL's turn `?` into `%s`,
    add RETURNING id to an INSERT into a table with an id, so `lastrowid` works the same);
  - the schema's DDL in its own types (AUTOINCREMENT, BLOB, REAL: identity columns, BYTEA, DOUBLE);
  - the transactions: a write (`begin_write`: SQLite's BEGIN IMMEDIATE, PostgreSQL's BEGIN and an
    advisory lock, both one writer at a time) and a snapshot (`begin_read`);
  - what the store asks of the database itself (does a table exist, is it intact, the log's format);
  - `notify_change`: inside a write, tell the other replicas (PostgreSQL's NOTIFY; nothing for a file).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterator

from ..errors import BankUnavailable

__all__ = ["BankUnavailable", "SqliteDatabase", "file_beside", "is_postgres", "open_database"]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(address: str | os.PathLike) -> bool:
    return isinstance(address, str) and address.startswith(POSTGRES_SCHEMES)


def file_beside(address: str | os.PathLike, suffix: str) -> Path:
    """A file named after a bank: beside a SQLite bank (BANK + suffix), in the working folder for
    a PostgreSQL bank (its database's name + suffix)."""
    if is_postgres(address):
        name = str(address).split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        return Path((name or "bank") + suffix)
    return Path(str(address) + suffix)


def open_database(address: str | os.PathLike, purpose: str = "bank", lock_wait: float = 60.0):
    """The dialect object for a bank's address (`purpose`: "bank" or "unanswered", whose writes are
    serialised apart; `lock_wait`: seconds a write waits for another's before giving up)."""
    if is_postgres(address):
        from .postgres import PostgresDatabase  # psycopg is needed for a PostgreSQL bank alone

        return PostgresDatabase(address, purpose, lock_wait)
    return SqliteDatabase(address, lock_wait)


class SqliteDatabase:
    """A bank in one SQLite file: WAL, so readers go on while one writer writes."""

    dialect = "sqlite"
    shared = False  # one file per store: the unanswered log is a file of its own, beside the bank

    def __init__(self, path: str | os.PathLike, lock_wait: float = 60.0):
        self.path = Path(path)
        self.lock_wait = lock_wait
        self.errors = (sqlite3.DatabaseError,)

    @property
    def location(self) -> Path:
        """What messages name: the file."""
        return self.path

    def exists(self) -> bool:
        return self.path.exists()

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self.lock_wait)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(self.lock_wait * 1000)}")  # another process writing: wait, don't fail
        conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: a killed process loses nothing committed
        return conn

    @staticmethod
    def usable(conn) -> bool:
        return True  # a file never goes away under an open connection

    @staticmethod
    def ddl(schema: str) -> list[str]:
        return [s for s in schema.split(";") if s.strip()]

    @staticmethod
    def has_table(conn, name: str) -> bool:
        return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() \
            is not None

    @staticmethod
    def is_empty(conn) -> bool:
        return not conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]

    @staticmethod
    def prepare_new(conn) -> None:
        conn.execute("PRAGMA journal_mode=WAL")  # stays with the file

    @staticmethod
    def format_version(conn) -> int:
        return conn.execute("PRAGMA user_version").fetchone()[0]

    @staticmethod
    def set_format_version(conn, version: int) -> None:
        conn.execute(f"PRAGMA user_version = {int(version)}")

    @staticmethod
    def begin_write(conn) -> None:
        conn.execute("BEGIN IMMEDIATE")

    @staticmethod
    def begin_read(conn) -> None:
        conn.execute("BEGIN")

    @staticmethod
    def rollback(conn) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")

    @staticmethod
    def notify_change(conn) -> None:
        pass  # another process notices a file's generation at its next read

    @staticmethod
    def id_high_water(conn, table: str) -> int:
        """The last id `table`'s AUTOINCREMENT gave (0: none yet)."""
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        return row[0] if row else 0

    @staticmethod
    def set_id_high_water(conn, table: str, value: int) -> None:
        """After rows were inserted with their ids: the next id given is above `value`."""
        if not conn.execute("UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", (value, table)).rowcount:
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, value))

    @staticmethod
    def integrity(conn) -> str:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]

    @contextlib.contextmanager
    def listen(self) -> Iterator:
        """As PostgresDatabase.listen, but a file has no notifications: wait(timeout) sleeps, and
        the generation is read again."""
        def wait(timeout: float) -> list[int]:
            time.sleep(timeout)
            return []

        yield wait

    def close_all(self) -> None:
        pass  # each connection is closed by its owner
