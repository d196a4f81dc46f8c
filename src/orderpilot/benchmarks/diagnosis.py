"""`orderpilot bench diagnosis --orders N`: the proof pages' questions over N orders with ten
events each (order placed, paid, booked in the ERP, allocated, released, picked, packed,
shipped, in transit, delivered), written straight into orders, order_lines and events with
executemany in big transactions (a scratch database, never a real one).

The history has a known shape, so the flow's numbers can be checked against it:
- the ERP books ``600 + i % 241`` seconds after payment (uniform 10-14 min, mean 12 min);
- every 100th order's booking reaches the hub after the warehouse release: a late report;
- every 200th order (from the second) is packed 300 s before it is picked, and the packing is
  reported after the picking: one out-of-order WMS report each;
- every 50th order (from the third) has its WMS release reported twice: a duplicate;
- the ERP opens a receivable a minute after booking (an eleventh event), except for every
  1000th order from the twelfth (shipped without a receivable); every 1000th from the eighth
  has a receivable 1.00 below its total (an amount mismatch).

Then, on a fresh snapshot in the scratch data directory, it times the snapshot's load and each
measure in ``MEASURES``: ``(name, callable(snapshot) -> Any)``: the board, the seed's first
expectation (payment -> ERP booked within 15 min) evaluated over all history, and one three-way
reconciliation of the whole period.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from orderpilot.adapters.analytics import flow
from orderpilot.adapters.analytics.expectations import retroactive_breaches
from orderpilot.adapters.analytics.reconcile import reconcile
from orderpilot.adapters.analytics.snapshot import Snapshot
from orderpilot.benchmarks.scratch import open_hub, scratch_database
from orderpilot.domain import expectations
from orderpilot.domain.flow import FlowFilter

Progress = Callable[[str, int, int], None]
Measure = Callable[[Snapshot], Any]
START = datetime(2026, 10, 1, tzinfo=UTC)
CHANNELS = ("shopee", "lazada", "own_store", "youzan")
BATCH = 20_000  # orders per executemany round; a transaction commits every COMMIT_EVERY
COMMIT_EVERY = 200_000
LATE_EVERY, OUT_OF_ORDER_EVERY, DUPLICATE_EVERY = 100, 200, 50

# What loading includes besides the refresh: tables derived from the snapshot once (the
# board's ``flow.prepare``), so each measure below times only its question.
PREPARE: list[Measure] = [flow.prepare]
MEASURES: list[tuple[str, Measure]] = [
    ("flow_seconds", lambda snap: flow.board(snap, FlowFilter())),
    ("expectation_seconds", lambda snap: _expectation(snap)),
    ("reconcile_seconds", lambda snap: _reconcile(snap)),
]
PENDING: dict[str, str] = {}
WHOLE_HISTORY = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def _expectation(snapshot: Snapshot) -> Any:
    """The seed's first template (payment -> ERP booked within 15 min) over all history."""
    body = dict(expectations.TEMPLATES[0])
    template = expectations.parse(str(body.pop("code")), body)
    with snapshot.cursor() as cur:
        return retroactive_breaches(cur, template, *WHOLE_HISTORY)


def _reconcile(snapshot: Snapshot) -> Any:
    """One three-way reconciliation of the whole built period from what the systems reported."""
    with snapshot.cursor() as cur:
        return reconcile(cur, START.date() - timedelta(days=1), date(2100, 1, 1))


def erp_delay(i: int) -> int:
    """Seconds from payment to the ERP booking of order I."""
    return 600 + i % 241


def is_late(i: int) -> bool:
    return i % LATE_EVERY == 0


def is_out_of_order(i: int) -> bool:
    return i % OUT_OF_ORDER_EVERY == 1


def is_duplicated(i: int) -> bool:
    return i % DUPLICATE_EVERY == 2


def order_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def event_id(i: int, n: int) -> str:
    return f"00000000-0000-4000-9{n:03d}-{i:012d}"


# (type, source, system, node, seconds after the previous step, report lag in seconds)
STEPS: tuple[tuple[str, str, str, str, int, int], ...] = (
    ("payment.succeeded", "channel", "storefront", "paid", 60, 2),
    ("erp.booked", "kingdee", "erp", "erp_booked", 0, 30),  # delay: erp_delay(i)
    ("inventory.allocated", "hub", "hub", "allocated", 60, 0),
    ("wms.released", "wms", "wms", "released_to_wms", 600, 5),
    ("wms.picked", "wms", "wms", "picked", 1800, 5),
    ("wms.packed", "wms", "wms", "packed", 900, 5),
    ("shipment.shipped", "sf", "carrier", "shipped", 3600, 60),
    ("shipment.in_transit", "sf", "carrier", "in_transit", 7200, 60),
    ("shipment.delivered", "sf", "carrier", "delivered", 86400, 120),
)


_MOVED = {(a[3], b[3]): json.dumps({"data": {}, "from": a[3], "outcome": "moved", "to": b[3]})
          for a, b in zip((("", "", "", "placed", 0, 0), *STEPS), STEPS, strict=False)}


def _history(i: int) -> tuple[tuple[Any, ...], tuple[Any, ...], list[tuple[Any, ...]],
                              tuple[Any, ...] | None]:
    """Order I: its orders row, its line, its events, its duplicate report (or None); times
    as seconds after START."""
    channel = CHANNELS[i % len(CHANNELS)]
    oid, placed = order_id(i), i * 3
    price = 1000 + i % 900 * 100
    order = (oid, channel, f"{channel}-{i % 20}", f"B{i:09d}", placed, "CNY", "测试买家",
             f"138{i % 10**8:08d}", "CN", f"港城大道{i % 5000}号", price, "[]", "delivered",
             placed + 100_000, placed, placed + 100_000)
    line = (oid, 1, f"SKU-{i % 300}", 1, price)
    events: list[list[Any]] = [[event_id(i, 0), oid, "order.placed", channel, "storefront",
                                f"o-{i}", placed, placed + 1, json.dumps({"channel": channel})]]
    at, node, times = placed, "placed", {}
    for n, (type_, source, system, to, after, lag) in enumerate(STEPS, start=1):
        at += erp_delay(i) if type_ == "erp.booked" else after
        times[to] = at
        reported = at + lag + (i % 31 if type_ == "erp.booked" else 0)
        events.append([event_id(i, n), oid, type_, channel if source == "channel" else source,
                       system, f"{to}-{i}", at, reported, _MOVED[node, to]])
        node = to
    if is_late(i):  # the booking arrives after the release: late, and the order skips it
        booking, release = events[2], events[4]
        booking[7] = release[7] + 10
        booking[8] = json.dumps({"data": {}, "from": "released_to_wms", "outcome": "late"})
        events[2], events[3], events[4] = events[3], events[4], booking
    if is_out_of_order(i):  # packed 300 s before the picking, reported after it
        events[6][6] = times["picked"] - 300
        events[6][7] = times["picked"] + 10
    if not lacks_receivable(i):  # the ERP opens the receivable a minute after booking
        cents = price - (100 if has_wrong_receivable(i) else 0)
        opened = times["erp_booked"] + 60
        events.append([event_id(i, 90), oid, "erp.receivable_opened", "kingdee", "erp",
                       f"AR-{i}:open", opened, opened + 30, json.dumps({
                           "data": {"amount": f"{cents / 100:.2f}", "bill_no": f"AR-{i}"},
                           "from": "erp_booked", "outcome": "view"})])
    duplicate = (("wms", f"released_to_wms-{i}", oid, times["released_to_wms"] + 3600)
                 if is_duplicated(i) else None)
    return order, line, [tuple(e) for e in events], duplicate


def lacks_receivable(i: int) -> bool:
    """Every 1000th order (from the twelfth) ships without a receivable in the ERP."""
    return i % 1000 == 11


def has_wrong_receivable(i: int) -> bool:
    """Every 1000th order (from the eighth) has a receivable 1.00 below its total."""
    return i % 1000 == 7


def built_erp_delays(orders: int) -> list[int]:
    return [erp_delay(i) for i in range(orders)]


def quantile(values: list[int], q: float) -> float:
    """Linear interpolation between closest ranks (duckdb's quantile_cont, numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _chunks(orders: int) -> Iterator[range]:
    for start in range(0, orders, BATCH):
        yield range(start, min(orders, start + BATCH))


def build(db: Any, orders: int, progress: Progress) -> int:
    """Writes ORDERS orders; returns the number of events written."""
    is_sqlite = db.is_sqlite
    mark = "?" if is_sqlite else "%s"

    def when(seconds: int) -> Any:
        moment = START + timedelta(seconds=seconds)
        return f"{moment:%Y-%m-%d %H:%M:%S}.000000" if is_sqlite else moment

    def values(n: int) -> str:
        return "(" + ", ".join([mark] * n) + ")"

    order_sql = ("INSERT INTO orders (id, channel, shop_id, external_id, placed_at, currency, "
                 "customer_name, customer_phone, address_country, address_line1, total_cents, "
                 "tags, status, status_changed_at, created_at, updated_at) VALUES " + values(16))
    line_sql = ("INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents) "
                "VALUES " + values(5))
    event_sql = ("INSERT INTO events (id, order_id, type, source, system, source_event_id, "
                 "occurred_at, recorded_at, payload) VALUES " + values(9))
    dup_sql = ("INSERT INTO duplicate_reports (source, source_event_id, order_id, received_at) "
               "VALUES " + values(4))
    raw = db.engine.raw_connection()
    written = 0
    try:
        cur = raw.cursor()
        if is_sqlite:
            cur.execute("PRAGMA synchronous=OFF")  # a scratch file: speed over durability
            cur.execute("PRAGMA cache_size=-262144")  # 256 MiB: the indexes stay in memory
        for chunk in _chunks(orders):
            rows: list[tuple[Any, ...]] = []
            lines: list[tuple[Any, ...]] = []
            events: list[tuple[Any, ...]] = []
            dups: list[tuple[Any, ...]] = []
            for i in chunk:
                order, line, evs, dup = _history(i)
                rows.append((*order[:4], when(order[4]), *order[5:13], when(order[13]),
                             when(order[14]), when(order[15])))
                lines.append(line)
                events.extend((*e[:6], when(e[6]), when(e[7]), e[8]) for e in evs)
                if dup is not None:
                    dups.append((*dup[:3], when(dup[3])))
            cur.executemany(order_sql, rows)
            cur.executemany(line_sql, lines)
            cur.executemany(event_sql, events)
            if dups:
                cur.executemany(dup_sql, dups)
            written += len(events)
            if chunk.stop % COMMIT_EVERY == 0 or chunk.stop == orders:
                raw.commit()
            progress("building", chunk.stop, orders)
        raw.commit()
    finally:
        raw.close()
        # The pooled connection keeps its 256 MiB page cache: close it, so the build's cache
        # is not counted in the proof pages' memory.
        db.dispose()
    return written


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def run(orders: int, db_url: str | None, progress: Progress) -> dict[str, Any]:
    with scratch_database(db_url) as scratch:
        hub = open_hub(scratch)
        try:
            began = time.perf_counter()
            events = build(hub.db, orders, progress)
            build_seconds = time.perf_counter() - began
            snapshot = Snapshot(hub.db, scratch.data_dir / "analytics" / "snapshot.duckdb")

            def loaded(table: str, rows: int) -> None:
                progress(f"snapshot {table}", rows, events if table == "events" else orders)

            try:
                began = time.perf_counter()
                snapshot.refresh(loaded)
                refreshed = time.perf_counter() - began
                progress("preparing the board's tables", 0, 1)
                began = time.perf_counter()
                for prepare in PREPARE:
                    prepare(snapshot)
                prepared = time.perf_counter() - began
                result: dict[str, Any] = {
                    "benchmark": "diagnosis", "db": scratch.label, "orders": orders,
                    "events": events, "build_seconds": round(build_seconds, 1),
                    "snapshot_load_seconds": round(refreshed + prepared, 3),
                    "snapshot_refresh_seconds": round(refreshed, 3),
                    "derived_tables_seconds": round(prepared, 3)}
                answers: dict[str, Any] = {}
                for name, measure in MEASURES:
                    began = time.perf_counter()
                    answers[name] = measure(snapshot)
                    result[name] = round(time.perf_counter() - began, 3)
                for name in PENDING:
                    result.setdefault(name, None)
                result["pending"] = {k: v for k, v in PENDING.items() if result[k] is None}
                result["peak_rss_mb"] = _peak_rss_mb()
                result["flow_check"] = _check(orders, answers.get("flow_seconds"))
                breaches = answers["expectation_seconds"]
                result["expectation_check"] = {
                    "expectation": "paid_erp_booked", "breaches": breaches["count"],
                    "expected_breaches": 0}  # the built ERP books within 10-14 min
                found = answers["reconcile_seconds"]
                result["reconcile_check"] = {
                    "orders": found.orders, "discrepant_orders": found.discrepant_orders,
                    "per_mille": str(found.per_mille), "counts": found.counts(),
                    "expected": {
                        "amount_mismatch": sum(map(has_wrong_receivable, range(orders))),
                        "shipped_without_receivable": sum(map(lacks_receivable,
                                                              range(orders)))}}
                return result
            finally:
                snapshot.close()
        finally:
            hub.close()


def _check(orders: int, board: dict[str, Any] | None) -> dict[str, Any]:
    """The paid -> erp_booked edge as built and as the board measured it."""
    delays = built_erp_delays(orders)
    built = {"count": orders, "p50_seconds": round(quantile(delays, 0.5), 3),
             "p90_seconds": round(quantile(delays, 0.9), 3),
             "p99_seconds": round(quantile(delays, 0.99), 3),
             "mean_seconds": round(sum(delays) / orders, 3)}
    edge = next((t for t in (board or {}).get("transitions", [])
                 if (t["from"], t["to"]) == ("paid", "erp_booked")), None)
    measured = None if edge is None else {k: edge[k] for k in built}
    return {"edge": "paid->erp_booked", "built": built, "measured": measured,
            "equal": measured == built}
