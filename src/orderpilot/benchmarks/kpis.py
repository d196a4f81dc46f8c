"""`orderpilot bench kpis`: how long the outcome KPIs take (docs/outcomes.md) for a period of
ORDERS orders placed over 30 days, written in bulk: each order with its lifecycle events (paid,
shipped; delivered for 85%, cancelled for 5%), a delivery promise for 90%, buyers drawn from a
pool so some come back, a refunded return for 5%, audit rows on 10% (manual interventions), and
a reconciliation run covering the month; then ANALYZE (what autovacuum or a periodic ANALYZE
gathers after such a load); then ``outcome_kpis`` timed three times, and the per-day trend, the
per-channel figures and the manual-intervention breakdown once each."""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from orderpilot.adapters import tables as t
from orderpilot.adapters.views import kpi_details as details
from orderpilot.adapters.views.kpis import Scope, outcome_kpis
from orderpilot.benchmarks.scratch import scratch_database

Progress = Callable[[str, int, int], None]
START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30
BATCH = 5000
CHANNELS = ("shopee", "lazada", "tiktok", "youzan")


def _rows(count: int) -> dict[Any, list[dict[str, Any]]]:
    rnd = random.Random(14)
    rows: dict[Any, list[dict[str, Any]]] = {table: [] for table in (
        t.orders, t.events, t.returns, t.audit_log)}
    minutes = DAYS * 24 * 60

    def event(oid: str, kind: str, at: datetime, data: dict[str, Any]) -> None:
        rows[t.events].append(dict(id=str(uuid.uuid4()), order_id=oid, type=kind,
                                   source="hub", system="hub", occurred_at=at, recorded_at=at,
                                   payload={"data": data, "outcome": "moved"}))

    for i in range(count):
        oid = str(uuid.uuid4())
        at = START + timedelta(minutes=i * minutes // count)
        channel = CHANNELS[i % len(CHANNELS)]
        promised = at + timedelta(days=3) if rnd.random() < 0.9 else None
        rows[t.orders].append(dict(
            id=oid, channel=channel, shop_id=f"{channel}-{i % 3}", external_id=f"K{i}",
            placed_at=at, currency="CNY", customer_name="-",
            customer_phone=f"139{rnd.randrange(count * 6 // 10):08d}", address_country="CN",
            address_line1="-", total_cents=1, tags=[], status="delivered",
            status_changed_at=at, created_at=at, updated_at=at, promised_by=promised,
            delivered_at=None))
        event(oid, "order.placed", at, {})
        event(oid, "payment.succeeded", at + timedelta(minutes=2), {})
        fate = rnd.random()
        if fate < 0.05:
            event(oid, "order.cancelled", at + timedelta(hours=1),
                  {"reason": rnd.choice(("超时未支付", "买家取消", "缺货"))})
        else:
            event(oid, "shipment.shipped", at + timedelta(hours=20), {})
            if fate < 0.90:
                delivered = at + timedelta(hours=rnd.uniform(30, 110))
                event(oid, "shipment.delivered", delivered, {})
                rows[t.orders][-1]["delivered_at"] = delivered
        if rnd.random() < 0.05:
            rows[t.returns].append(dict(
                id=str(uuid.uuid4()), order_id=oid, status="refunded", source="api",
                reason_tags=[], reason_text="", reasons_from="given", customer_address=None,
                rejected=False, created_at=at + timedelta(days=5),
                updated_at=at + timedelta(days=5), version=1,
                refunded_at=at + timedelta(days=5, hours=rnd.uniform(2, 60))))
        if rnd.random() < 0.10:
            rows[t.audit_log].append(dict(
                at=at + timedelta(hours=1), actor="ops", role="ops", actor_kind="user",
                via="console", action="hold.place", subject_type="hold", order_id=oid,
                before={"held": False},
                after={"held": True, "reason": rnd.choice(("out_of_stock", "price_error"))}))
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
                total = sum(len(r) for r in rows.values())
                done = 0
                for table, table_rows in rows.items():
                    for start in range(0, len(table_rows), BATCH):
                        conn.execute(table.insert(), table_rows[start:start + BATCH])
                        done += len(table_rows[start:start + BATCH])
                        progress("writing", done, total)
                conn.execute(t.reconciliation_runs.insert().values(
                    id=str(uuid.uuid4()), since=START.date(),
                    until=(START + timedelta(days=DAYS)).date(), sources={}, files=[],
                    findings=[], counts={}, orders=count, discrepant_orders=count // 5000,
                    per_mille="0.2", created_by="bench", created_at=START + timedelta(DAYS)))
            with hub.db.write() as conn:  # the statistics autovacuum would have gathered
                conn.exec_driver_sql("ANALYZE")
            now = START + timedelta(days=DAYS + 100)
            scope = Scope(START, START + timedelta(days=DAYS))
            seconds = []
            for n in range(3):
                with hub.db.read() as conn:
                    began = time.perf_counter()
                    answer = outcome_kpis(conn, since=scope.since, until=scope.until, now=now)
                    seconds.append(time.perf_counter() - began)
                progress("kpis", n + 1, 3)
            timed: dict[str, float] = {}
            for name, call in (
                    ("trend_per_day", lambda c: details.trend(c, scope, "day", now)),
                    ("per_channel", lambda c: details.by_channel(c, scope, now)),
                    ("manual_interventions", lambda c: details.manual_interventions(c, scope))):
                with hub.db.read() as conn:
                    began = time.perf_counter()
                    call(conn)
                    timed[f"{name}_seconds"] = round(time.perf_counter() - began, 3)
                progress(name, 1, 1)
            return {"database": hub.db.dialect, "orders": answer["orders"],
                    "events": len(rows[t.events]),
                    "kpis_seconds_median": round(statistics.median(seconds), 3),
                    "kpis_seconds_best": round(min(seconds), 3), **timed, "kpis": answer}
        finally:
            hub.close()
