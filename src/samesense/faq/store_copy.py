"""A bank copied whole into an empty one (migrate.py: SQLite <-> PostgreSQL), in one write transaction
of the destination: its SQL, beside the store's (store.py, store_writes.py), as portable as theirs.
Rows keep their ids, and each id sequence its high-water mark (ids are never given again); vectors
are copied as stored, byte for byte.
"""

from __future__ import annotations

from .store import Store

CHUNK = 5000  # rows a statement batch


def copy_bank(src: Store, read, dst: Store) -> None:
    """Settings, entries, questions and id high-water marks, in one transaction of `dst`."""
    with dst.write() as conn:
        for key, value in src.settings().items():
            if key != "generation":  # the destination's own: every write bumps it
                Store.put_setting(conn, key, value)
        rows = read.execute("SELECT id, answer, grp, tags, created, updated FROM entries ORDER BY id").fetchall()
        for start in range(0, len(rows), CHUNK):
            conn.executemany("INSERT INTO entries (id, answer, grp, tags, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
                             rows[start: start + CHUNK])
        cursor = read.execute("SELECT id, entry_id, position, text, vector FROM questions ORDER BY id")
        while rows := cursor.fetchmany(CHUNK):
            conn.executemany("INSERT INTO questions (id, entry_id, position, text, vector) VALUES (?, ?, ?, ?, ?)",
                             [(*row[:4], bytes(row[4])) for row in rows])
        for table in ("entries", "questions"):  # ids deleted in the source are not given again either
            highest = read.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]
            dst.db.set_id_high_water(conn, table, max(highest, src.db.id_high_water(read, table)))
