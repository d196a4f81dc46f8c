"""The smallest server that takes an order the way `POST /api/v1/orders` must, for
`orderpilot bench floor`: what this machine and this stack (uvicorn, FastAPI, pydantic, the
database driver) can do before the hub adds anything.

It parses and validates the body with the hub's own `OrderIn` model and answers 201 with the
order, as the hub does; it has no authentication, no idempotency check, no audit trail and no
handlers. Three ways, one per process:

- ``validate``: an ``async`` route that only validates and answers (no database);
- ``insert``: a plain ``def`` route, run on FastAPI's thread pool as the hub's own placing
  route is, writing the order's five rows with hand-written SQL
  (:func:`orderpilot.benchmarks.ingest.insert_order_rows`) and committing each order on its
  own (SQLite: one writer at a time behind a lock, ``BEGIN IMMEDIATE``, ``synchronous=FULL``
  as the hub; PostgreSQL: a connection per thread);
- ``group_commit``: an ``async`` route that hands the order to one writer thread and waits;
  the writer commits every order waiting at that moment in one transaction and then answers
  them all: the most a durable write path can get out of each commit.

Run as ``python -m orderpilot.benchmarks.floor_app MODE PORT DATABASE`` (DATABASE: the SQLite
file, or a PostgreSQL URL). A benchmark tool: it listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import sys
import threading
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from orderpilot.benchmarks.ingest import insert_order_rows
from orderpilot.entrypoints.api.schemas import OrderIn

MODES = ("validate", "insert", "group_commit")


class _Store:
    """Connections to the scratch database, set up as the hub sets up its own."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.sqlite = not database.startswith("postgresql")
        self.lock = threading.Lock()  # SQLite's one writer, queued in Python as the hub does
        self._local = threading.local()

    def connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def _connect(self) -> Any:
        if self.sqlite:
            conn = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                           "busy_timeout=30000"):
                conn.execute(f"PRAGMA {pragma}")
            return conn
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.database).set(drivername="postgresql")
        return psycopg.connect(url.render_as_string(hide_password=False))

    def write(self, orders: list[dict[str, Any]]) -> list[str]:
        """The orders' rows in one transaction, committed before this returns."""
        conn = self.connection()
        if not self.sqlite:
            with conn.transaction():
                cur = conn.cursor()
                return [insert_order_rows(cur, b, sqlite=False, prefix="floor") for b in orders]
        with self.lock:
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                ids = [insert_order_rows(cur, b, sqlite=True, prefix="floor") for b in orders]
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
            return ids


class _GroupWriter:
    """One thread committing whatever orders are waiting, each batch in one transaction."""

    def __init__(self, store: _Store) -> None:
        self.store = store
        self.waiting: queue.SimpleQueue[tuple[dict[str, Any], asyncio.Future[str],
                                              asyncio.AbstractEventLoop]] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="group-writer", daemon=True).start()

    async def write(self, order: dict[str, Any]) -> str:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()
        self.waiting.put((order, answer, loop))
        return await answer

    def _run(self) -> None:
        while True:
            batch = [self.waiting.get()]
            while not self.waiting.empty():
                batch.append(self.waiting.get_nowait())
            try:
                ids = self.store.write([order for order, _, _ in batch])
            except Exception as error:  # every order of the batch hears of it
                for _, answer, loop in batch:
                    loop.call_soon_threadsafe(answer.set_exception, error)
                continue
            for (_, answer, loop), order_id in zip(batch, ids, strict=True):
                loop.call_soon_threadsafe(answer.set_result, order_id)


def app_for(mode: str, database: str) -> FastAPI:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    app = FastAPI(openapi_url=None)
    store = _Store(database)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    if mode == "validate":
        @app.post("/api/v1/orders", status_code=201)
        async def validate(order: OrderIn) -> JSONResponse:
            return JSONResponse(order.model_dump(mode="json"), status_code=201)
    elif mode == "insert":
        @app.post("/api/v1/orders", status_code=201)
        def insert(order: OrderIn) -> JSONResponse:
            body = order.model_dump(mode="json")
            body["id"] = store.write([body])[0]
            return JSONResponse(body, status_code=201)
    else:
        writer = _GroupWriter(store)

        @app.post("/api/v1/orders", status_code=201)
        async def group_commit(order: OrderIn) -> JSONResponse:
            body = order.model_dump(mode="json")
            body["id"] = await writer.write(body)
            return JSONResponse(body, status_code=201)
    return app


def main(argv: list[str]) -> None:
    import uvicorn

    mode, port, database = argv
    uvicorn.run(app_for(mode, database), host="127.0.0.1", port=int(port),
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])
