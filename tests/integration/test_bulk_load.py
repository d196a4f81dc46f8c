"""Database.bulk_load: SQLite commits without waiting for the disk only while a generated data
set is loaded, and every connection is back to synchronous=FULL afterwards."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from orderpilot.adapters.db import Database

FULL, NORMAL = 2, 1  # PRAGMA synchronous answers


def level(db: Database) -> int:
    with db.read() as conn:
        return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())


def test_bulk_load_relaxes_sqlite_durability_only_inside(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'bulk.db'}")
    try:
        assert level(db) == FULL
        with db.bulk_load():
            assert level(db) == NORMAL
            with db.write() as conn:
                conn.execute(sa.text("CREATE TABLE t (n INTEGER)"))
            # a connection opened in another thread during the load is relaxed too
            seen: list[int] = []
            worker = threading.Thread(target=lambda: seen.append(level(db)))
            held = db.engine.connect()  # one pooled connection busy: the thread opens another
            worker.start()
            worker.join()
            held.close()
            assert seen == [NORMAL]
        assert level(db) == FULL
        with db.engine.connect() as first, db.engine.connect() as second:  # both pooled ones
            assert [c.execution_options(orderpilot_read_only=True)
                    .exec_driver_sql("PRAGMA synchronous").scalar_one()
                    for c in (first, second)] == [FULL, FULL]
    finally:
        db.dispose()
