"""A hand-made history whose outcome KPIs are known exactly (test_kpi_values.py, the API,
console and browser tests). Beijing times; the period is 2026-11-01 to 2026-11-08 (exclusive).

Orders (channel, shop, buyer phone, placed):
  A0  shopee SG-01 P4 10-31 23:59  (before the period)
  A1  shopee SG-01 P1 11-01 10:00  delivered 11-03 10:00 (48 h), promised 11-03 → on time;
                                   return R1 requested 11-05 10:00, refunded 11-06 16:00 (30 h)
  A2  shopee SG-01 P2 11-02 10:00  delivered 11-06 22:00 (108 h), promised 11-05 → late;
                                   a hold placed (out_of_stock) and released by a person
  A3  shopee SG-02 P3 11-03 08:00  delivered 11-04 08:00 (24 h; reported again 11-05), no
                                   promise; return R2 11-06 00:00 → refunded 12:00 (12 h)
  A4  lazada LZ-01 P1 11-04 10:00  not delivered, promised 11-06 → late
  A5  lazada LZ-01 P4 11-05 12:00  cancelled 超时未支付; a hold placed by a person (address)
  A6  shopee SG-01 P5 11-06 09:00  cancelled 买家取消
  A7  shopee SG-01 P2 11-07 23:00  delivered 11-09 11:00 (36 h), promised 11-10 → on time;
                                   return R3 requested 11-10, not refunded
  A10 shopee SG-02 P7 11-04 10:00  not delivered, promised 12-31 (stands until then)
  A8  shopee SG-01 P3 11-08 00:00  (after: until is exclusive) a person's note; return R4
  A9  shopee SG-01 P5 12-20 10:00  (44 days after P5's first order)
Reconciliation runs: 11-01..11-30 (100 orders, 5 discrepant), then 11-01..11-07 (8 orders,
1 discrepant: A2), then 11-02..11-07 (does not cover the period's first day).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.domain.times import SHANGHAI


def bj(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def end_of(month: int, day: int) -> datetime:
    return bj(month, day) + timedelta(days=1, seconds=-1)


SINCE, UNTIL = bj(11, 1), bj(11, 8)
# the day the 30-day windows have passed and the 90-day ones not; and when all have
EARLY_NOW, LATE_NOW = bj(12, 10), bj(3, 1, year=2027)
# name: (channel, shop, phone, placed_at, promised_by)
ORDERS: dict[str, tuple[str, str, str, datetime, datetime | None]] = {
    "A0": ("shopee", "SG-01", "13900000004", bj(10, 31, 23, 59), None),
    "A1": ("shopee", "SG-01", "13900000001", bj(11, 1, 10), end_of(11, 3)),
    "A2": ("shopee", "SG-01", "13900000002", bj(11, 2, 10), end_of(11, 5)),
    "A3": ("shopee", "SG-02", "13900000003", bj(11, 3, 8), None),
    "A4": ("lazada", "LZ-01", "13900000001", bj(11, 4, 10), end_of(11, 6)),
    "A5": ("lazada", "LZ-01", "13900000004", bj(11, 5, 12), None),
    "A6": ("shopee", "SG-01", "13900000005", bj(11, 6, 9), None),
    "A7": ("shopee", "SG-01", "13900000002", bj(11, 7, 23), end_of(11, 10)),
    "A10": ("shopee", "SG-02", "13900000007", bj(11, 4, 10), end_of(12, 31)),
    "A8": ("shopee", "SG-01", "13900000003", bj(11, 8), None),
    "A9": ("shopee", "SG-01", "13900000005", bj(12, 20, 10), None),
}
# (order, type, occurred_at, payload)
EVENTS: list[tuple[str, str, datetime, dict[str, Any]]] = [
    ("A1", "shipment.delivered", bj(11, 3, 10), {}),
    ("A2", "shipment.delivered", bj(11, 6, 22), {}),
    ("A3", "shipment.delivered", bj(11, 4, 8), {}),
    ("A3", "shipment.delivered", bj(11, 5, 8), {}),
    ("A7", "shipment.delivered", bj(11, 9, 11), {}),
    ("A5", "order.cancelled", bj(11, 5, 12, 30),
     {"data": {"reason": "超时未支付"}, "outcome": "moved"}),
    ("A6", "order.cancelled", bj(11, 6, 10), {"data": {"reason": "买家取消"}}),
    # reported after the order had moved on: changed nothing, not a cancellation
    ("A1", "order.cancelled", bj(11, 4, 10), {"data": {"reason": "x"}, "outcome": "late"}),
]
# (return, order, requested, refunded)
RETURNS: list[tuple[str, str, datetime, datetime | None]] = [
    ("R1", "A1", bj(11, 5, 10), bj(11, 6, 16)),
    ("R2", "A3", bj(11, 6), bj(11, 6, 12)),
    ("R3", "A7", bj(11, 10), None),
    ("R4", "A8", bj(11, 9), bj(11, 9, 5)),
]
# (order, action, before, after)
AUDIT: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = [
    ("A2", "hold.place", {"held": False}, {"held": True, "reason": "out_of_stock"}),
    ("A2", "hold.release", {"held": True, "reason": "out_of_stock"}, {"held": False}),
    ("A5", "hold.place", {"held": False}, {"held": True, "reason": "address_incomplete"}),
    ("A8", "order.note", None, {"note": "x"}),
]
# (since, until, orders, discrepant orders, discrepancies' orders, created)
RUNS: list[tuple[datetime, datetime, int, int, list[str], datetime]] = [
    (bj(11, 1), bj(11, 30), 100, 5, [], bj(12, 1)),
    (bj(11, 1), bj(11, 7), 8, 1, ["A2"], bj(12, 2)),
    (bj(11, 2), bj(11, 7), 6, 6, ["A1", "A2"], bj(12, 3)),
]


def seed(hub: Hub) -> dict[str, str]:
    """Writes the history; answers the order ids the names stand for."""
    ids = {name: str(uuid.uuid4()) for name in ORDERS}
    delivered: dict[str, datetime] = {}  # what appending the events keeps (adapters/outbox.py)
    for order, kind, at, _payload in EVENTS:
        if kind == "shipment.delivered":
            delivered[order] = min(at, delivered.get(order, at))
    with hub.db.write() as conn:
        for name, (channel, shop, phone, placed, promised) in ORDERS.items():
            conn.execute(t.orders.insert().values(
                id=ids[name], channel=channel, shop_id=shop, external_id=name,
                placed_at=placed, currency="CNY", customer_name="张三", customer_phone=phone,
                phone_tail=phone[-4:], address_country="CN", address_line1="某路1号",
                total_cents=1000, tags=[], status="paid", status_changed_at=placed,
                created_at=placed, updated_at=placed, promised_by=promised,
                delivered_at=delivered.get(name)))
            conn.execute(t.order_lines.insert().values(
                order_id=ids[name], line_no=1, sku="DIAPER-L", quantity=1,
                unit_price_cents=1000))
        conn.execute(t.events.insert(), [
            {"id": str(uuid.uuid4()), "order_id": ids[order], "type": kind, "source": "test",
             "system": "carrier", "source_event_id": f"{order}:{kind}:{i}",
             "occurred_at": at, "recorded_at": at, "payload": payload}
            for i, (order, kind, at, payload) in enumerate(EVENTS)])
        for name, order, asked, refunded in RETURNS:
            conn.execute(t.returns.insert().values(
                id=str(uuid.uuid4()), order_id=ids[order], status="requested", source="api",
                reason_tags=[], reason_text=name, reasons_from="given", customer_address=None,
                rejected=False, created_at=asked, updated_at=asked, version=1,
                refunded_at=refunded))
        conn.execute(t.audit_log.insert(), [
            {"at": ORDERS[order][3] + timedelta(hours=1), "actor": "ops1", "role": "ops",
             "actor_kind": "user", "via": "console", "action": action, "subject_type": "hold",
             "order_id": ids[order], "before": before, "after": after}
            for order, action, before, after in AUDIT])
        for n, (since, until, orders, discrepant, behind, created) in enumerate(RUNS):
            run_id = str(uuid.uuid4())
            conn.execute(t.reconciliation_runs.insert().values(
                id=run_id, since=since.date(), until=until.date(), sources={}, files=[],
                findings=[], counts={}, orders=orders, discrepant_orders=discrepant,
                per_mille=str(discrepant * 1000 / orders), created_by="test",
                created_at=created))
            conn.execute(t.reconciliation_discrepancies.insert(), [
                {"run_id": run_id, "n": i + 1, "kind": "status_mismatch",
                 "order_id": ids[order], "order_ref": f"{order}-{n}"}
                for i, order in enumerate(behind)] or [
                {"run_id": run_id, "n": 1, "kind": "missing_in_hub", "order_id": None,
                 "order_ref": "outside"}])
    return ids
