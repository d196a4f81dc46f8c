"""Engines for the embedded default (SQLite) and for PostgreSQL, with their durability set-up."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from orderpilot.adapters.driver_sql import run_text

# The database cannot answer now (down, restarting, dropped connections, locked past the busy
# timeout, pool exhausted): the caller may try again shortly. SQL parameters (a buyer's phone
# and address) never appear in these errors' text: engines are made with hide_parameters.
UNAVAILABLE: tuple[type[Exception], ...] = (sa.exc.OperationalError, sa.exc.InterfaceError,
                                            sa.exc.TimeoutError)


@dataclass
class WriterTime:
    """Seconds this process's write transactions held SQLite's one writer slot, and spent
    waiting for it: ``held / elapsed`` near 1 means the embedded database is the limit (time
    to move to PostgreSQL). Only changed while the write lock is held, so never torn."""

    held_s: float = 0.0
    waited_s: float = 0.0
    transactions: int = 0


@dataclass
class StatementCount:
    """SQL statements this process sent to the database (SQLite's BEGIN IMMEDIATE included;
    the COMMIT the driver sends itself is not counted). Divided by the orders handled, it says
    what an order costs in round trips: `bench ingest` reports it per process."""

    sent: int = 0


class Database:
    """One engine and the write discipline of its dialect.

    SQLite allows one writer: writes take ``BEGIN IMMEDIATE`` (so a reader never has to upgrade
    to a writer and deadlock) and, inside one process, a lock so threads queue in Python instead
    of spinning in SQLite's busy handler. PostgreSQL writers run concurrently and lock rows.
    """

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False,
                 synchronous: str = "FULL") -> None:
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.synchronous = synchronous  # SQLite; see Settings.sqlite_synchronous
        self.bulk_loading = False  # see bulk_load()
        if self.is_sqlite:
            self.engine = sa.create_engine(
                url, echo=echo, pool_size=pool_size, max_overflow=20, hide_parameters=True,
                connect_args={"check_same_thread": False, "timeout": 30})
            _configure_sqlite(self.engine, self)
        else:
            # No pre-ping (a round trip per checkout, a fifth of an order's cost): connections
            # are recycled hourly, and a dropped one fails its command, which is retried. The
            # first error that shows a lost connection (a server restart) makes SQLAlchemy
            # drop every pooled connection, so the pool reconnects by itself; the restart test
            # (tests/reliability/test_database_restart.py) holds it to that. A server that does
            # not answer at all fails a new connection after connect_timeout seconds instead of
            # holding a request (or /readyz) for as long as TCP tries.
            self.engine = sa.create_engine(url, echo=echo, pool_size=pool_size,
                                           max_overflow=20, pool_recycle=3600,
                                           hide_parameters=True,
                                           connect_args={"connect_timeout": 10})
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._writer: Connection | None = None  # SQLite: the connection writes keep (write())
        self.writer_time = WriterTime()
        self.statements = StatementCount()
        counted = self.statements

        @sa.event.listens_for(self.engine, "before_cursor_execute")
        def _count(*_: Any) -> None:
            counted.sent += 1  # no call or jump between read and write: no thread switch

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def shown_url(self) -> str:
        """Where the data is, to tell a person (the SQLite file, or the server and database;
        never a password)."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def write_locked(self) -> bool:
        """A write transaction is open in this process (SQLite; always False on PostgreSQL,
        whose writers lock rows, not the database)."""
        return self._write_lock is not None and self._write_lock.locked()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A read-write transaction, committed when the block ends without error."""
        if self._write_lock is not None:
            asked = time.perf_counter()
            with self._write_lock:
                got = time.perf_counter()
                try:
                    yield from self._kept_writer()
                finally:
                    spent = self.writer_time
                    spent.waited_s += got - asked
                    spent.held_s += time.perf_counter() - got
                    spent.transactions += 1
        else:
            with self.engine.begin() as conn:
                yield conn

    def _kept_writer(self) -> Iterator[Connection]:
        """SQLite, under the write lock: a transaction on the one connection this process
        writes with, kept open between transactions instead of taken from the pool and given
        back each time (the pool's check-out, reset and check-in cost a tenth of placing an
        order: docs/performance.md, "One connection for SQLite's one writer"). Writes are one at
        a time here anyway. A transaction that fails in any way closes the connection, so a
        broken one is never used again; the next write opens a new one."""
        conn = self._writer
        if conn is None:
            conn = self._writer = self.engine.connect()
        else:
            _set_synchronous(conn.connection.dbapi_connection, conn.connection.info, self)
        try:
            with conn.begin():
                yield conn
        except BaseException:
            self._writer = None
            conn.close()
            raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A consistent read-only snapshot; never blocks writers."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(orderpilot_read_only=True)
            with conn.begin() as tx:
                yield conn
                tx.rollback()

    @contextmanager
    def autocommit(self, *, reading: bool = False) -> Iterator[Connection]:
        """A connection whose statements each commit on their own, for a unit of work of one
        statement (a claim, a poll) or of statements each safe to commit alone.

        PostgreSQL: no BEGIN and no COMMIT or ROLLBACK, two round trips that cost as much as
        the statement (measured: a look-up by key in a transaction 84 us client and 84 us
        server CPU, alone 23 and 20 us). A read gives up nothing: under READ COMMITTED each
        statement of a transaction takes its own snapshot anyway. SQLite: write() (read()
        when READING), since a writer there must hold the write lock."""
        if self._write_lock is not None:
            with self.read() if reading else self.write() as conn:
                yield conn
            return
        with self.engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            # On the driver, not through SQLAlchemy's isolation_level option: that one is
            # reset to READ COMMITTED on check-in, after which psycopg names the level in
            # every BEGIN of that pooled connection.
            raw.autocommit = True  # type: ignore[union-attr]
            try:
                yield conn
            finally:
                try:
                    raw.autocommit = False  # type: ignore[union-attr]
                except Exception:  # a transaction left open, say: drop it, never reuse it
                    conn.invalidate()

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """While a generated data set is loaded (the demo's history: thousands of small
        commits), SQLite commits without waiting for the disk (``synchronous=NORMAL``: in WAL
        mode a power cut may lose the last commits, never corrupt the file); ``FULL`` again
        afterwards. PostgreSQL: nothing changes."""
        self.bulk_loading = True
        try:
            yield
        finally:
            self.bulk_loading = False

    def dispose(self) -> None:
        if self._write_lock is not None and self._write_lock.acquire(timeout=30):
            try:
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
            finally:
                self._write_lock.release()
        self.engine.dispose()


def _set_synchronous(dbapi_conn: Any, info: dict[Any, Any], db: Database) -> None:
    """SQLite's ``synchronous`` as DB wants it now (NORMAL during a bulk load), on a connection
    taken from the pool or on the kept writer before its next transaction."""
    wanted = "NORMAL" if db.bulk_loading else db.synchronous
    if info.get("synchronous", db.synchronous) != wanted:
        dbapi_conn.execute(f"PRAGMA synchronous={wanted}")
        info["synchronous"] = wanted


def _configure_sqlite(engine: Engine, db: Database) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # We issue BEGIN/COMMIT ourselves; the driver's implicit transactions would fight us.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged order survives a power cut (NORMAL only if configured so)
        cur.execute(f"PRAGMA synchronous={db.synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        _set_synchronous(dbapi_conn, record.info, db)

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock at BEGIN, so a reader never has to upgrade and deadlock.
        # On the driver cursor (adapters/driver_sql.py): SQLAlchemy's execute cost a tenth of
        # what placing an order costs the service layer's Python here.
        if conn.get_execution_options().get("orderpilot_read_only"):
            run_text(conn, "BEGIN")
        else:
            run_text(conn, "BEGIN IMMEDIATE")
