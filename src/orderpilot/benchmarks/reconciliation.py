"""`orderpilot bench reconcile --orders N`: one reconciliation over a snapshot of N orders with
about 10 events each, after the snapshot is loaded (the snapshot's own load from the database
is timed by the snapshot's benchmark, not here).

The snapshot is written straight into duckdb (the tables of adapters/analytics/snapshot.py)
with known faults, one in a thousand orders each: never booked in the ERP, no WMS outbound
report, a receivable of another amount, a second receivable, a return with the receivable
open, a receivable without shipment (cancelled). The counts found are in the JSON next to the
counts injected, so a fast wrong answer shows.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb

from orderpilot.adapters.analytics.reconcile import reconcile
from orderpilot.adapters.analytics.snapshot import _SCHEMA

Progress = Callable[[str, int, int], None]
DAYS = 30
# (fault, order number modulo 1000)
FAULTS = {"missing_in_erp": 1, "missing_in_wms": 2, "amount_mismatch": 3,
          "duplicate_receivable": 4, "returned_but_receivable_open": 5,
          "receivable_without_shipment": 6}


def _fill(con: duckdb.DuckDBPyConnection, n: int) -> None:
    con.execute(_SCHEMA)
    con.execute(f"""INSERT INTO orders SELECT 'o' || i, i, 'shopee', 'S1', 'X' || i,
        TIMESTAMP '2026-10-31 16:00:00' + to_seconds(i % ({DAYS} * 86400)),
        'delivered', 'CNY', 25800, false, TIMESTAMP '2026-12-01', [] FROM range({n}) t(i)""")
    con.execute(f"""INSERT INTO order_lines SELECT 'o' || i, 1, 'SKU-' || (i % 500), 2, 12900,
        0, 0 FROM range({n}) t(i)""")
    f = {k: f"i % 1000 = {v}" for k, v in FAULTS.items()}
    cancelled = f["receivable_without_shipment"]
    steps = [  # (k, type, system, condition, amount, bill)
        (0, "payment.succeeded", "storefront", "true", "25800", "NULL"),
        (1, "erp.booked", "erp", f"NOT ({f['missing_in_erp']})", "NULL", "NULL"),
        (2, "wms.released", "wms", f"NOT ({cancelled})", "NULL", "NULL"),
        (3, "wms.packed", "wms", f"NOT ({f['missing_in_wms']} OR {cancelled})", "NULL", "NULL"),
        (4, "shipment.shipped", "carrier", f"NOT ({cancelled})", "NULL", "NULL"),
        (5, "shipment.in_transit", "carrier", f"NOT ({cancelled})", "NULL", "NULL"),
        (6, "shipment.delivered", "carrier", f"NOT ({cancelled})", "NULL", "NULL"),
        (7, "erp.receivable_opened", "erp", f"NOT ({f['missing_in_erp']})",
         f"CASE WHEN {f['amount_mismatch']} THEN 25000 ELSE 25800 END", "'AR-' || i"),
        (8, "erp.receivable_opened", "erp", f["duplicate_receivable"], "25800",
         "'AR2-' || i"),
        (8, "return.requested", "storefront", f["returned_but_receivable_open"], "NULL",
         "NULL"),
        (8, "order.cancelled", "storefront", cancelled, "NULL", "NULL"),
        (9, "order.completed", "storefront", f"NOT ({cancelled} OR "
         f"{f['returned_but_receivable_open']})", "NULL", "NULL"),
    ]
    for k, type_, system, condition, amount, bill in steps:
        data = (f"CASE WHEN {bill} IS NULL THEN '{{}}' "
                f"ELSE '{{\"bill_no\": \"' || {bill} || '\"}}' END")
        con.execute(f"""INSERT INTO events SELECT i * 10 + {k}, 'e' || (i * 10 + {k}), 'o' || i,
            '{type_}', '{system}', '{system}', '{type_}-' || i,
            TIMESTAMP '2026-10-31 16:00:00' + to_seconds(i % ({DAYS} * 86400) + {k} * 600),
            TIMESTAMP '2026-10-31 16:00:00' + to_seconds(i % ({DAYS} * 86400) + {k} * 600),
            'moved', NULL, NULL, {amount}, {data}, i FROM range({n}) t(i) WHERE {condition}""")


def run(orders: int, repeat: int, progress: Progress) -> dict[str, Any]:
    con = duckdb.connect(":memory:")
    con.execute("SET memory_limit = '1536MB'")
    progress("snapshot", 0, 1)
    started = time.perf_counter()
    _fill(con, orders)
    filled = time.perf_counter() - started
    progress("snapshot", 1, 1)
    events = con.execute("SELECT count(*) FROM events").fetchone()
    timings, cpu = [], []
    result = None
    for i in range(repeat):
        cur = con.cursor()
        began, began_cpu = time.perf_counter(), time.process_time()
        result = reconcile(cur, date(2026, 11, 1), date(2026, 11, DAYS))
        timings.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        cur.close()
        progress("reconcile", i + 1, repeat)
    assert result is not None
    con.close()
    expected = {k: sum(1 for i in range(orders) if i % 1000 == v) for k, v in FAULTS.items()}
    found = result.counts()
    return {"benchmark": "reconcile", "orders": orders, "events": int(events[0]) if events else 0,
            "snapshot_fill_seconds": round(filled, 3),
            "reconcile_seconds": round(min(timings), 3),
            "reconcile_seconds_max": round(max(timings), 3),
            # CPU seconds of all duckdb threads: on a shared machine wall time waits for others
            "reconcile_cpu_seconds": round(min(cpu), 3), "threads": _threads(),
            "repeat": repeat,
            "orders_in_period": result.orders, "per_mille": str(result.per_mille),
            "found": {k: found[k] for k in FAULTS}, "injected": expected,
            "exact": all(found[k] == expected[k] for k in FAULTS),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _threads() -> int:
    con = duckdb.connect(":memory:")
    found = con.execute("SELECT current_setting('threads')").fetchone()
    con.close()
    return int(found[0]) if found else 0
