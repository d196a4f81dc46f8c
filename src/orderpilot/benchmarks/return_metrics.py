"""`orderpilot bench return-metrics`: how long the returns metrics take for a period holding
RETURNS returns (two SKUs per order, every return routed, each with its three step events, six
lifecycle events per order besides), written in bulk, then ANALYZE (the statistics that
autovacuum or a periodic ANALYZE gathers after such a load), then ``metrics()`` timed three
times.

Written in bulk, the rows also carry what the services keep beside them (migration 0022): each
return's step times (those of its step events), its reason tag row and the route's typed-address
baseline (domain/return_metrics.py typed_address_matches)."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from orderpilot.adapters import tables as t
from orderpilot.adapters.tables_return_routing import (
    return_centres,
    return_policy_rows,
    return_policy_versions,
    return_routes,
)
from orderpilot.adapters.tables_returns import return_lines, return_reason_tags, returns
from orderpilot.adapters.views import return_metrics as views
from orderpilot.benchmarks.scratch import scratch_database
from orderpilot.domain.return_metrics import typed_address, typed_address_matches

Progress = Callable[[str, int, int], None]
START = datetime(2026, 11, 1, tzinfo=UTC)
BATCH = 5000
LIFECYCLE = ("order.placed", "payment.succeeded", "wms.released", "shipment.shipped",
             "shipment.delivered", "return.requested")
STEPS = ("return.pickup_booked", "return.received", "refund.succeeded")
STEP_COLUMNS = ("pickup_booked_at", "received_at", "refunded_at")
CENTRE = {"province": "浙江省", "city": "金华市", "district": "义乌市", "line1": "路1号"}


def _rows(count: int) -> dict[Any, list[dict[str, Any]]]:
    rnd = random.Random(13)
    order_ids = [str(uuid.uuid4()) for _ in range(max(1, count * 7 // 10))]
    address = dict(CENTRE)
    matched = typed_address_matches(typed_address(address, address), CENTRE)
    rows: dict[Any, list[dict[str, Any]]] = {table: [] for table in (
        t.orders, t.order_lines, returns, return_reason_tags, return_lines, return_routes,
        t.events)}
    for i, oid in enumerate(order_ids):
        at = START + timedelta(minutes=i % 40_000)
        rows[t.orders].append(dict(
            id=oid, channel=rnd.choice(("shopee", "lazada")), shop_id="S", external_id=f"B{i}",
            placed_at=at, currency="CNY", customer_name="-", customer_phone="-",
            address_country="CN", address_line1="-", total_cents=1, tags=[],
            status="return_requested", status_changed_at=at, created_at=at, updated_at=at))
        rows[t.order_lines] += [dict(order_id=oid, line_no=n, sku=f"SKU-{rnd.randrange(500)}",
                                     quantity=2, unit_price_cents=1) for n in (1, 2)]
        rows[t.events] += [dict(id=str(uuid.uuid4()), order_id=oid, type=kind, source="hub",
                                system="hub", occurred_at=at, recorded_at=at,
                                payload={"data": {}}) for kind in LIFECYCLE]
    for k in range(count):
        rid, oid = str(uuid.uuid4()), order_ids[k % len(order_ids)]
        at = START + timedelta(minutes=k % 40_000)
        tag = rnd.choice(("quality_issue", "wrong_size", "changed_mind"))
        rows[returns].append(dict(
            id=rid, order_id=oid, status="refunded", source="api", reason_tags=[tag],
            reason_text="", reasons_from="given", customer_address=address, rejected=False,
            created_at=at, updated_at=at, version=1,
            **{column: at + timedelta(hours=5 * n + 1)
               for n, column in enumerate(STEP_COLUMNS)}))
        rows[return_reason_tags].append(dict(return_id=rid, tag=tag))
        rows[return_lines].append(dict(return_id=rid, line_no=1,
                                       sku=f"SKU-{rnd.randrange(500)}", quantity=1,
                                       restockable=0, damaged=0))
        rows[return_routes].append(dict(
            return_id=rid, order_id=oid, outlet_code=f"SF-{rnd.randrange(50)}",
            return_centre="YIWU", status="routed", decision_required=False, policy_version=1,
            routed_at=at, updated_at=at, customer_address=address,
            typed_address_matched=matched))
        rows[t.events] += [dict(id=str(uuid.uuid4()), order_id=oid, type=kind, source="hub",
                                system="hub", occurred_at=at + timedelta(hours=5 * n + 1),
                                recorded_at=at, payload={"data": {"return_id": rid}})
                           for n, kind in enumerate(STEPS)]
    return rows


def run(count: int, db: str | None, progress: Progress) -> dict[str, Any]:
    from orderpilot.adapters import migrations
    from orderpilot.bootstrap import bootstrap
    from orderpilot.config import Settings

    with scratch_database(db) as scratch:
        hub = bootstrap(Settings(data_dir=scratch.data_dir, database_url=scratch.database_url,
                                 log_level="WARNING", embedded_dispatcher=False,
                                 _env_file=None))
        migrations.upgrade(hub.db)
        try:
            rows = _rows(count)
            with hub.db.write() as conn:
                conn.execute(return_centres.insert().values(
                    code="YIWU", name_zh="义乌", name_en="Yiwu", country="CN",
                    **CENTRE,
                    postal_code="", phone="", updated_by="bench", updated_at=START))
                conn.execute(return_policy_versions.insert().values(
                    version=1, created_by="bench", created_at=START))
                conn.execute(return_policy_rows.insert(), [
                    dict(version=1, outlet_code=f"SF-{i}", return_centre="YIWU")
                    for i in range(50)])
                total = sum(len(r) for r in rows.values())
                done = 0
                for table, table_rows in rows.items():
                    for start in range(0, len(table_rows), BATCH):
                        conn.execute(table.insert(), table_rows[start:start + BATCH])
                        done += len(table_rows[start:start + BATCH])
                        progress("writing", done, total)
            with hub.db.write() as conn:  # the statistics autovacuum would have gathered
                conn.exec_driver_sql("ANALYZE")
            period = views.Period(START, START + timedelta(days=30))
            seconds = []
            for n in range(3):
                with hub.db.read() as conn:
                    began = time.perf_counter()
                    answer = views.metrics(conn, period)
                    seconds.append(time.perf_counter() - began)
                progress("metrics", n + 1, 3)
            return {"database": hub.db.dialect, "returns": answer["returns"],
                    "events": len(rows[t.events]), "metrics_seconds_median":
                        round(statistics.median(seconds), 3),
                    "metrics_seconds_best": round(min(seconds), 3),
                    "address_accuracy": answer["address_accuracy"]["rate"]}
        finally:
            hub.close()
