"""A columnar copy of the hub's history in duckdb, loaded in chunks and refreshed
incrementally.

The operational database (SQLite or PostgreSQL) answers one order at a time; questions over a
million orders (the lifecycle board, retroactive expectations, reconciliation) read this copy
instead. duckdb cannot attach SQLite or PostgreSQL here (its extensions are downloaded at run
time, which this project does not rely on), so rows are streamed out of the database in chunks
of ``CHUNK`` through the driver and handed to duckdb as Arrow record batches.

Tables (times are naive UTC ``TIMESTAMP``; money in integer cents):

``events``       seq, id, order_id, type, source, system, source_event_id, occurred_at,
                 recorded_at, outcome (moved | late | view | ...), from_node, to_node,
                 amount_cents (``data.amount`` when given), data (``data`` as JSON text),
                 order_seq (the order's ``orders.seq``: an integer key that joins and groups
                 several times faster than the 36-character id at ten million events)
``orders``       id, seq, channel, shop_id, external_id, placed_at, status, currency,
                 total_cents, held, updated_at, tags (VARCHAR[])
``order_lines``  order_id, line_no, sku, quantity, unit_price_cents, discount_cents,
                 cancelled_quantity
``duplicate_reports``  source, source_event_id, order_id, received_at (reports the hub had
                 already recorded; see ``adapters/tables.py``)

Events are append-only, so a refresh loads those past the last ``seq`` it saw; orders (and
their lines) are reloaded when their ``updated_at`` is at or after the previous refresh.
``path=None`` keeps the copy in memory (tests, one-off CLI runs); the console and the API keep
it in ``<data_dir>/analytics/snapshot.duckdb`` so a refresh after the first costs only what
changed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlalchemy as sa

from orderpilot.adapters.db import Database

CHUNK = 100_000
# Bumped whenever a table's columns change: a copy written by another version is loaded again
# from the start (a refresh of a changed schema could not fill the new columns of old rows).
SCHEMA_VERSION = "2"

Progress = Callable[[str, int], None]  # (table, rows loaded so far)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq BIGINT, id VARCHAR, order_id VARCHAR, type VARCHAR, source VARCHAR, system VARCHAR,
    source_event_id VARCHAR, occurred_at TIMESTAMP, recorded_at TIMESTAMP, outcome VARCHAR,
    from_node VARCHAR, to_node VARCHAR, amount_cents BIGINT, data VARCHAR,
    order_seq BIGINT);
CREATE TABLE IF NOT EXISTS orders (
    id VARCHAR, seq BIGINT, channel VARCHAR, shop_id VARCHAR, external_id VARCHAR,
    placed_at TIMESTAMP, status VARCHAR, currency VARCHAR, total_cents BIGINT, held BOOLEAN,
    updated_at TIMESTAMP, tags VARCHAR[]);
CREATE TABLE IF NOT EXISTS order_lines (
    order_id VARCHAR, line_no INTEGER, sku VARCHAR, quantity INTEGER, unit_price_cents BIGINT,
    discount_cents BIGINT, cancelled_quantity INTEGER);
CREATE TABLE IF NOT EXISTS duplicate_reports (
    source VARCHAR, source_event_id VARCHAR, order_id VARCHAR, received_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS snapshot_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
"""


@dataclass(frozen=True)
class Refreshed:
    """What one refresh loaded, and how long it took."""

    events: int
    orders: int
    lines: int
    duplicates: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "orders": self.orders, "lines": self.lines,
                "duplicates": self.duplicates, "seconds": round(self.seconds, 3)}


def _time_text(db: Database, column: str) -> str:
    """A UTC time column as 'YYYY-MM-DD HH:MM:SS.ffffff' text, which duckdb casts in bulk
    (faster than making a Python datetime per value)."""
    if db.is_sqlite:
        return column  # stored as that text already (adapters/schema.py UtcDateTime)
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"


def _json_text(db: Database, column: str, key: str) -> str:
    if db.is_sqlite:
        return f"json_extract({column}, '$.{key}')"
    return f"({column}::jsonb #>> '{{{key.replace('.', ',')}}}')"


def _json_part(db: Database, column: str, key: str) -> str:
    if db.is_sqlite:
        return f"json(json_extract({column}, '$.{key}'))"
    return f"(({column}::jsonb) #> '{{{key}}}')::text"


# One chunk of events into the copy: the payload's fields taken out by duckdb; an amount is
# kept only when it is a plain decimal number (cents, half to even as ``cents`` rounds).
_INSERT_EVENTS = """
INSERT INTO events
SELECT b.seq, b.id, b.order_id, b.type, b.source, b.system, b.source_event_id,
       CAST(b.occurred_at AS TIMESTAMP), CAST(b.recorded_at AS TIMESTAMP),
       json_extract_string(b.payload, '$.outcome'), json_extract_string(b.payload, '$.from'),
       json_extract_string(b.payload, '$.to'),
       CAST(round_even(TRY_CAST(CASE WHEN regexp_full_match(
                a.amount, '\\s*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)\\s*')
            THEN a.amount END AS DECIMAL(38, 6)) * 100, 0) AS BIGINT),
       CAST(json_extract(b.payload, '$.data') AS VARCHAR), o.seq
FROM batch b
CROSS JOIN LATERAL (SELECT json_extract_string(b.payload, '$.data.amount') AS amount) a
LEFT JOIN orders o ON o.id = b.order_id
"""


def cents(text: Any) -> int | None:
    """'128.50' -> 12850; anything that is not a plain decimal amount -> None."""
    if text is None or text == "":
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return int((value * 100).to_integral_value())


class Snapshot:
    """``with snapshot.cursor() as cur: cur.execute(sql).fetchall()`` after ``refresh()``."""

    def __init__(self, db: Database, path: Path | None = None,
                 memory_limit: str = "1536MB") -> None:
        self.db, self.path = db, path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(str(path) if path is not None else ":memory:")
        self._con.execute(f"SET memory_limit = '{memory_limit}'")
        self._con.execute("SET preserve_insertion_order = false")
        self._upgrade()
        self._lock = threading.Lock()  # one refresh at a time; queries use their own cursors
        self.last_refresh: Refreshed | None = None

    def close(self) -> None:
        self._con.close()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own (duckdb cursors are not shared between threads)."""
        cur = self._con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def _upgrade(self) -> None:
        """Tables of this version; a copy of another version is dropped and loaded again."""
        tables = {r[0] for r in self._con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        version = None
        if "snapshot_meta" in tables:
            row = self._con.execute("SELECT value FROM snapshot_meta WHERE key = 'schema'"
                                    ).fetchone()
            version = None if row is None else str(row[0])
        if version != SCHEMA_VERSION:
            for table in sorted(tables):  # derived tables too (their rows came from these)
                self._con.execute(f'DROP TABLE IF EXISTS "{table}"')
        self._con.execute(_SCHEMA)
        self._con.execute("INSERT OR REPLACE INTO snapshot_meta VALUES ('schema', ?)",
                          [SCHEMA_VERSION])

    def _meta(self, key: str) -> str | None:
        row = self._con.execute("SELECT value FROM snapshot_meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._con.execute("INSERT OR REPLACE INTO snapshot_meta VALUES (?, ?)", [key, value])

    def refresh(self, progress: Progress | None = None) -> Refreshed:
        """Load what changed since the last refresh; returns what was loaded."""
        with self._lock:
            started = time.perf_counter()
            since_seq = int(self._meta("events_seq") or 0)
            since_time = self._meta("orders_updated_at")
            with self.db.read() as conn:
                top = int(conn.execute(sa.text("SELECT coalesce(max(seq), 0) FROM events"))
                          .scalar_one())
                if self._meta("database") != self.db.shown_url or since_seq > top:
                    # another database, or this one was reset: start the copy again
                    self._reset()
                    since_seq, since_time = 0, None
                # The latest update seen, read in the same snapshot: rows updated at or after
                # it are loaded again next time (>=), so a row never falls between two
                # refreshes (the hub's clock wrote updated_at, so it is compared with itself).
                latest = conn.execute(sa.text(
                    f"SELECT {_time_text(self.db, 'max(updated_at)')} FROM orders")).scalar()
                # orders first: each event takes its order's seq from the copy (order_seq)
                orders, lines = self._load_orders(conn, since_time, progress)
                events, top_seq = self._load_events(conn, since_seq, progress)
                duplicates = self._load_duplicates(conn, since_time)
            self._con.execute("BEGIN")
            try:
                self._set_meta("database", self.db.shown_url)
                if top_seq > since_seq:
                    self._set_meta("events_seq", str(top_seq))
                if latest is not None:
                    self._set_meta("orders_updated_at", str(latest))
                self._con.execute("COMMIT")
            except Exception:
                self._con.execute("ROLLBACK")
                raise
            self.last_refresh = Refreshed(events, orders, lines, duplicates,
                                          time.perf_counter() - started)
            return self.last_refresh

    def _reset(self) -> None:
        for table in ("events", "orders", "order_lines", "duplicate_reports"):
            self._con.execute(f"DELETE FROM {table}")
        self._con.execute("DELETE FROM snapshot_meta WHERE key <> 'schema'")

    def _load_events(self, conn: sa.Connection, since_seq: int,
                     progress: Progress | None) -> tuple[int, int]:
        """Events past SINCE_SEQ, in chunks. The payload travels as JSON text and duckdb
        takes it apart (vectorised, on every core), which is cheaper than asking SQLite or
        PostgreSQL for each field, row by row."""
        db = self.db
        payload = "payload" if db.is_sqlite else "payload::text"
        sql = sa.text(
            "SELECT seq, id, order_id, type, source, system, source_event_id, "
            f"{_time_text(db, 'occurred_at')}, {_time_text(db, 'recorded_at')}, {payload} "
            "FROM events WHERE seq > :since ORDER BY seq")
        names = ["seq", "id", "order_id", "type", "source", "system", "source_event_id",
                 "occurred_at", "recorded_at", "payload"]
        kinds = [pa.int64(), *([pa.string()] * 9)]
        loaded, top = 0, since_seq
        for rows in _stream(conn, sql, {"since": since_seq}):
            columns = list(zip(*rows, strict=True))
            batch = pa.table([pa.array(col, kind) for col, kind in  # noqa: F841 (read by duckdb)
                              zip(columns, kinds, strict=True)], names=names)
            self._con.execute(_INSERT_EVENTS)
            loaded += len(rows)
            top = max(top, int(columns[0][-1]))
            if progress is not None:
                progress("events", loaded)
        return loaded, top

    def _load_orders(self, conn: sa.Connection, since: str | None,
                     progress: Progress | None) -> tuple[int, int]:
        db = self.db
        where = "" if since is None else f"WHERE o.updated_at >= {_time_param(db)}"
        params = {} if since is None else {"since": since}
        order_sql = sa.text(
            "SELECT o.id, o.seq, o.channel, o.shop_id, o.external_id, "
            f"{_time_text(db, 'o.placed_at')}, o.status, o.currency, o.total_cents, o.held, "
            f"{_time_text(db, 'o.updated_at')}, o.tags FROM orders o {where} ORDER BY o.seq")
        names = ["id", "seq", "channel", "shop_id", "external_id", "placed_at", "status",
                 "currency", "total_cents", "held", "updated_at", "tags"]
        orders = 0
        for rows in _stream(conn, order_sql, params):
            columns = list(zip(*rows, strict=True))
            arrays = [pa.array([str(v) for v in col], pa.string()) if i in (5, 10)
                      else pa.array([bool(v) for v in col]) if i == 9
                      else pa.array([_tags(v) for v in col], pa.list_(pa.string())) if i == 11
                      else pa.array(list(col)) for i, col in enumerate(columns)]
            batch = pa.table(arrays, names=names)  # noqa: F841
            if since is not None:
                self._con.execute("DELETE FROM orders WHERE id IN (SELECT id FROM batch)")
                self._con.execute("DELETE FROM order_lines WHERE order_id IN "
                                  "(SELECT id FROM batch)")
            self._con.execute(
                "INSERT INTO orders SELECT id, seq, channel, shop_id, external_id, "
                "CAST(placed_at AS TIMESTAMP), status, currency, total_cents, held, "
                "CAST(updated_at AS TIMESTAMP), tags FROM batch")
            orders += len(rows)
            if progress is not None:
                progress("orders", orders)
        line_sql = sa.text(
            "SELECT l.order_id, l.line_no, l.sku, l.quantity, l.unit_price_cents, "
            "l.discount_cents, l.cancelled_quantity FROM order_lines l"
            + ("" if since is None else
               f" JOIN orders o ON o.id = l.order_id WHERE o.updated_at >= {_time_param(db)}"))
        line_names = ["order_id", "line_no", "sku", "quantity", "unit_price_cents",
                      "discount_cents", "cancelled_quantity"]
        lines = 0
        for rows in _stream(conn, line_sql, params):
            batch = pa.table([pa.array(list(col)) for col in zip(*rows, strict=True)],  # noqa: F841
                             names=line_names)
            self._con.execute("INSERT INTO order_lines SELECT * FROM batch")
            lines += len(rows)
            if progress is not None:
                progress("order_lines", lines)
        return orders, lines

    def _load_duplicates(self, conn: sa.Connection, since: str | None) -> int:
        db = self.db
        if not sa.inspect(conn).has_table("duplicate_reports"):
            return 0
        where = "" if since is None else f" WHERE received_at >= {_time_param(db)}"
        rows = conn.execute(sa.text(
            "SELECT source, source_event_id, order_id, "
            f"{_time_text(db, 'received_at')} FROM duplicate_reports{where}"),
            {} if since is None else {"since": since}).all()
        if not rows:
            return 0
        if since is not None:
            self._con.execute("DELETE FROM duplicate_reports WHERE received_at >= ?", [since])
        batch = pa.table([pa.array([str(v) for v in col]) for col in zip(*rows, strict=True)],  # noqa: F841
                         names=["source", "source_event_id", "order_id", "received_at"])
        self._con.execute("INSERT INTO duplicate_reports SELECT source, source_event_id, "
                          "order_id, CAST(received_at AS TIMESTAMP) FROM batch")
        return len(rows)


def _tags(value: Any) -> list[str]:
    """The tags column: JSON text on SQLite, a list already on PostgreSQL."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [str(v) for v in value] if isinstance(value, list) else []


def _stream(conn: sa.Connection, sql: sa.TextClause,
            params: dict[str, Any]) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows of SQL in chunks of CHUNK tuples. On SQLite straight from the driver's cursor
    (inside the same read transaction; sqlite3 takes the same :named parameters), which saves
    SQLAlchemy's row objects on ten million rows; on PostgreSQL a server-side cursor."""
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            cursor.execute(sql.text, params)
            while rows := cursor.fetchmany(CHUNK):
                yield rows
        finally:
            cursor.close()
        return
    result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(sql, params)
    yield from result.partitions(CHUNK)


def _time_param(db: Database) -> str:
    if db.is_sqlite:
        return ":since"
    return "CAST(:since AS TIMESTAMP) AT TIME ZONE 'UTC'"
