"""`orderpilot bench floor`: how fast this machine takes orders over HTTP before the hub adds
anything, and what one SQL statement costs through the hub's own engine.

`bench ingest` says how fast the hub is; this says how fast it could be at most with the same
stack on the same machine, so a missed target can be read as "the hub costs too much" or "the
machine cannot". The same orders, the same lean load generator and the same number of clients
as `bench ingest` drive the three servers of :mod:`orderpilot.benchmarks.floor_app` (validate
only; the order's five rows committed one order at a time through FastAPI's thread pool; the
same rows with group commit). Then the hub's engine (SQLAlchemy Core on the same driver) runs
a look-up by key and a one-row write transaction, timed and with their CPU on both sides.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.driver_sql import DriverQuery
from orderpilot.benchmarks import cpu
from orderpilot.benchmarks.floor_app import MODES
from orderpilot.benchmarks.ingest import order_bodies, post_orders
from orderpilot.benchmarks.scratch import child_process, free_port, open_hub, scratch_database

Progress = Callable[[str, int, int], None]
WARM_UP = 200


def floor_process(mode: str, port: int, database: str) -> Any:
    """One floor server in a child process; yields its base URL once it answers."""
    return child_process([mode, str(port), database], port, what=f"the {mode} floor server",
                         module="orderpilot.benchmarks.floor_app")


def over_http(mode: str, database: str, bodies: list[dict[str, Any]],
              clients: int) -> dict[str, Any]:
    with floor_process(mode, free_port(), database) as base:
        asyncio.run(post_orders(base, "floor", bodies[:WARM_UP], clients))
        with cpu.measure() as used:
            rate, latencies, errors = asyncio.run(post_orders(base, "floor",
                                                              bodies[WARM_UP:], clients))
    latencies.sort()
    figures = used.as_json(len(bodies) - WARM_UP)
    per_order = figures.get("ms_per_order", {})
    return {"orders_per_s": round(rate, 1),
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2),
            "errors": errors,
            "server_cpu_ms_per_order": per_order.get("serve"),
            "database_cpu_ms_per_order": per_order.get("postgresql"),
            "load_generator_cpu_ms_per_order": per_order.get("load_generator"),
            "machine_busy_cores": figures.get("machine_busy_cores")}


def statements(hub: Any, repeat: int) -> dict[str, Any]:
    """A look-up of an order by key, and a write transaction of one row's update, through
    the hub's engine (``Connection.execute``) and on the driver cursor as the hub's hot
    statements run (adapters/driver_sql.py, the ``_on_driver`` figures): wall time, this
    process's CPU and the database server's, per statement (PostgreSQL; SQLite runs inside
    this process)."""
    with hub.db.read() as conn:
        order_id = conn.execute(sa.select(t.orders.c.id).limit(1)).scalar_one()
    look_up = sa.select(t.orders).where(t.orders.c.id == sa.bindparam("oid"))
    touch = (t.orders.update().where(t.orders.c.id == sa.bindparam("oid"))
             .values(version=t.orders.c.version + 1))
    look_up_on_driver, touch_on_driver = DriverQuery(look_up), DriverQuery(touch)

    def reads() -> None:
        with hub.db.read() as conn:
            for _ in range(repeat):
                conn.execute(look_up, {"oid": order_id}).first()

    def writes() -> None:
        for _ in range(repeat):
            with hub.db.write() as conn:
                conn.execute(touch, {"oid": order_id})

    def reads_on_driver() -> None:
        with hub.db.read() as conn:
            for _ in range(repeat):
                look_up_on_driver.first(conn, {"oid": order_id})

    def writes_on_driver() -> None:
        for _ in range(repeat):
            with hub.db.write() as conn:
                touch_on_driver.changed(conn, {"oid": order_id})

    figures = {}
    for name, run in (("select_by_key", reads), ("one_row_write_transaction", writes),
                      ("select_by_key_on_driver", reads_on_driver),
                      ("one_row_write_transaction_on_driver", writes_on_driver)):
        run()  # warm: statements compiled and cached, connections open
        with cpu.measure() as used:
            wall, mine = time.perf_counter(), time.process_time()
            run()
            wall, mine = time.perf_counter() - wall, time.process_time() - mine
        database = used.as_json(repeat).get("ms_per_order", {}).get("postgresql", 0.0)
        figures[name] = {"per_s": round(repeat / wall, 1),
                         "client_cpu_us": round(mine * 1e6 / repeat, 1),
                         "database_cpu_us": round(database * 1000, 1)}
    return figures


def orders_written(hub: Any, prefix: str) -> int:
    """Orders a floor server committed (each mode's external ids start with its letter)."""
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.orders).where(
            t.orders.c.external_id.startswith(prefix, autoescape=True))).scalar_one())


def run(requests: int, clients: int, db_url: str | None, progress: Progress,
        repeat: int = 2000) -> dict[str, Any]:
    bodies = order_bodies(requests + WARM_UP, 4, "F")
    with scratch_database(db_url) as scratch:
        hub = open_hub(scratch)  # migrated: the floor servers write the hub's own tables
        try:
            database = scratch.database_url or str(scratch.data_dir / "orderpilot.db")
            http = {}
            for i, mode in enumerate(MODES):
                progress("HTTP floor", i, len(MODES))
                # each mode writes orders of its own numbers (the external id is unique)
                numbered = [{**b, "external_id": f"{mode[0]}{b['external_id']}"} for b in bodies]
                http[mode] = over_http(mode, database, numbered, clients)
                http[mode]["orders_written"] = orders_written(hub, f"floor{mode[0]}")
            progress("statements", 0, 1)
            figures = statements(hub, repeat)
        finally:
            hub.close()
    return {"benchmark": "floor", "db": scratch.label, "requests": requests,
            "clients": clients, "http": http, "statements": figures}
