"""SQLite's one writer: Database.write keeps one connection for every write transaction of the
process instead of taking one from the pool and giving it back each time, and never keeps a
connection whose transaction failed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from orderpilot.adapters.db import Database

FULL, NORMAL = 2, 1  # PRAGMA synchronous answers


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    made = Database(f"sqlite:///{tmp_path / 'writer.db'}")
    with made.write() as conn:
        conn.execute(sa.text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    yield made
    made.dispose()


def _driver(conn: sa.Connection) -> object:
    return conn.connection.dbapi_connection


def test_write_transactions_share_one_connection_that_stays_out_of_the_pool(
        db: Database) -> None:
    with db.write() as conn:
        first = _driver(conn)
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    checked_out = db.engine.pool.checkedout()  # type: ignore[attr-defined]
    with db.write() as conn:
        assert _driver(conn) is first
        conn.execute(sa.text("INSERT INTO t VALUES (2)"))
    assert db.engine.pool.checkedout() == checked_out == 1  # type: ignore[attr-defined]
    with db.read() as conn:  # both committed, seen from another connection
        assert _driver(conn) is not first
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 2


def test_a_failed_write_rolls_back_and_the_next_write_gets_another_connection(
        db: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError), db.write() as conn:
        failed = conn
        conn.execute(sa.text("INSERT INTO t VALUES (7)"))
        conn.execute(sa.text("INSERT INTO t VALUES (7)"))
    assert failed.closed  # given back to the pool, which rolls it back
    with db.write() as conn:
        assert conn is not failed
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0
        conn.execute(sa.text("INSERT INTO t VALUES (7)"))
    with pytest.raises(ValueError), db.write() as conn:  # any error, not only the database's
        conn.execute(sa.text("INSERT INTO t VALUES (8)"))
        raise ValueError("the caller gave up")
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT n FROM t")).scalars().all() == [7]
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_the_kept_writer_follows_bulk_load_and_dispose_closes_it(db: Database) -> None:
    def level() -> int:
        with db.write() as conn:
            return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())

    assert level() == FULL
    with db.bulk_load():
        assert level() == NORMAL
    assert level() == FULL
    with db.write() as conn:
        kept = conn
    db.dispose()
    assert kept.closed
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with db.write() as conn:  # a disposed database still works: it connects again
        conn.execute(sa.text("INSERT INTO t VALUES (3)"))
