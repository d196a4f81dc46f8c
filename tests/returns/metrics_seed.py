"""A set of returns whose metrics are known exactly (tests/returns/test_return_metrics_api.py
and the console tests): November 2026, Beijing time.

Orders (shipped unless said): O1 A×2 B×1, O2 A×1 C×1, O3 A×1 B×1 C×1, O4 B×4, O5 C×2, O6 A×2
(all shopee), O7 A×1 (lazada), O8 A×5 only paid (ships nothing). Shipped: A 7, B 6, C 4.

Returns in the period (R7 is in October):
  R1 O1 A1 B1 quality_issue      -> YIWU (SF-0278, v1), typed = Yiwu's address spelt loosely
  R2 O2 A1 wrong_size+quality    -> NINGBO (SF-0100, v1; v2 says YIWU), typed elsewhere
  R3 O3 A1 C1 wrong_item         -> decision: no_outlet
  R4 O3 B1 wrong_item            -> NINGBO though v1 says YIWU, no typed address
  R5 O4 B2 damaged_packaging     rejected, no route
  R6 O7 A1 quality_issue         -> decision: no_policy_row (lazada)
  R8 O6 A1 changed_mind          -> YIWU (SF-0278, v1), typed elsewhere
  R9 O2 C1 quality_issue         no route yet
Hours after the request: pickup booked R1 2 (and again at 5), R2 4, R4 6, R8 1; received R1
10, R2 30, R6 8; refunded R1 20, R8 50.

The rows are written directly, so the seed also sets what the services write beside them
(migration 0022): each return's first time at each step, its reason tag rows and each route's
typed-address baseline (domain/return_metrics.py typed_address_matches).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from orderpilot.adapters import tables as t
from orderpilot.adapters.tables_return_routing import (
    return_centres,
    return_policy_rows,
    return_policy_versions,
    return_routes,
)
from orderpilot.adapters.tables_returns import return_lines, return_reason_tags, returns
from orderpilot.bootstrap import Hub
from orderpilot.domain.return_metrics import typed_address, typed_address_matches
from orderpilot.domain.times import SHANGHAI

PLACED = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
REQUESTED = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)
YIWU = {"country": "CN", "province": "浙江省", "city": "金华市", "district": "义乌市",
        "line1": "稠江街道退货路88号", "postal_code": "322000"}
NINGBO = {"country": "CN", "province": "浙江省", "city": "宁波市", "district": "北仑区",
          "line1": "保税东区港城大道1号", "postal_code": "315800"}
TYPED_RIGHT = YIWU | {"province": " 浙江省", "line1": "稠江街道 退货路８８号"}
TYPED_WRONG = {"country": "CN", "province": "广东省", "city": "深圳市", "district": "南山区",
               "line1": "买家随手写的旧仓库地址 1 号", "postal_code": "518000"}
ORDERS: dict[str, tuple[str, str, list[tuple[str, int]]]] = {
    "O1": ("shopee", "return_requested", [("A", 2), ("B", 1)]),
    "O2": ("shopee", "return_requested", [("A", 1), ("C", 1)]),
    "O3": ("shopee", "return_requested", [("A", 1), ("B", 1), ("C", 1)]),
    "O4": ("shopee", "shipped", [("B", 4)]),
    "O5": ("shopee", "return_requested", [("C", 2)]),
    "O6": ("shopee", "delivered", [("A", 2)]),
    "O7": ("lazada", "return_requested", [("A", 1)]),
    "O8": ("shopee", "paid", [("A", 5)]),
}
STEP_COLUMNS = {"return.pickup_booked": "pickup_booked_at", "return.received": "received_at",
                "refund.succeeded": "refunded_at"}
# return: (order, lines, tags, rejected, requested at, route or None, {event type: [hours]})
Route = dict[str, Any]
RETURNS: dict[str, tuple[str, list[tuple[str, int]], list[str], bool, datetime, Route | None,
                         dict[str, list[float]]]] = {
    "R1": ("O1", [("A", 1), ("B", 1)], ["quality_issue"], False, REQUESTED,
           {"outlet_code": "SF-0278", "return_centre": "YIWU", "policy_version": 1,
            "customer_address": TYPED_RIGHT},
           {"return.pickup_booked": [2, 5], "return.received": [10], "refund.succeeded": [20]}),
    "R2": ("O2", [("A", 1)], ["wrong_size", "quality_issue"], False, REQUESTED,
           {"outlet_code": "SF-0100", "return_centre": "NINGBO", "policy_version": 1,
            "customer_address": TYPED_WRONG},
           {"return.pickup_booked": [4], "return.received": [30]}),
    "R3": ("O3", [("A", 1), ("C", 1)], ["wrong_item"], False, REQUESTED,
           {"decision_required": True, "exception_reason": "no_outlet",
            "customer_address": TYPED_WRONG}, {}),
    "R4": ("O3", [("B", 1)], ["wrong_item"], False, REQUESTED + timedelta(hours=1),
           {"outlet_code": "SF-0278", "return_centre": "NINGBO", "policy_version": 1,
            "customer_address": None},
           {"return.pickup_booked": [6]}),
    "R5": ("O4", [("B", 2)], ["damaged_packaging"], True, REQUESTED, None, {}),
    "R6": ("O7", [("A", 1)], ["quality_issue"], False, REQUESTED,
           {"outlet_code": "ZTO-9", "decision_required": True,
            "exception_reason": "no_policy_row", "customer_address": TYPED_WRONG},
           {"return.received": [8]}),
    "R7": ("O5", [("C", 1)], ["quality_issue"], False, datetime(2026, 10, 20, tzinfo=SHANGHAI),
           {"outlet_code": "SF-0278", "return_centre": "NINGBO", "policy_version": 1,
            "customer_address": TYPED_WRONG},
           {"return.pickup_booked": [100]}),
    "R8": ("O6", [("A", 1)], ["changed_mind"], False, REQUESTED,
           {"outlet_code": "SF-0278", "return_centre": "YIWU", "policy_version": 1,
            "customer_address": TYPED_WRONG},
           {"return.pickup_booked": [1], "refund.succeeded": [50]}),
    "R9": ("O2", [("C", 1)], ["quality_issue"], False, REQUESTED + timedelta(hours=2), None,
           {}),
}


def seed(hub: Hub) -> dict[str, str]:
    """Writes the set; answers the ids the names stand for (R1 -> its uuid...)."""
    ids = {name: str(uuid.uuid4()) for name in (*ORDERS, *RETURNS)}
    with hub.db.write() as conn:
        for code, address in (("YIWU", YIWU), ("NINGBO", NINGBO)):
            conn.execute(return_centres.insert().values(
                code=code, name_zh=code, name_en=code, phone="0579", updated_by="test",
                updated_at=PLACED, **address))
        for version, ningbo_outlet_to in ((1, "NINGBO"), (2, "YIWU")):
            conn.execute(return_policy_versions.insert().values(
                version=version, created_by="test", created_at=PLACED))
            conn.execute(return_policy_rows.insert(), [
                {"version": version, "outlet_code": "SF-0278", "return_centre": "YIWU"},
                {"version": version, "outlet_code": "SF-0100",
                 "return_centre": ningbo_outlet_to}])
        for name, (channel, status, lines) in ORDERS.items():
            conn.execute(t.orders.insert().values(
                id=ids[name], channel=channel, shop_id="S1", external_id=name, placed_at=PLACED,
                currency="CNY", customer_name="张三", customer_phone="13800000000",
                address_country="CN", address_line1="某路1号", total_cents=1000, tags=[],
                status=status, status_changed_at=PLACED, created_at=PLACED, updated_at=PLACED))
            conn.execute(t.order_lines.insert(), [
                {"order_id": ids[name], "line_no": i, "sku": sku, "quantity": qty,
                 "unit_price_cents": 100} for i, (sku, qty) in enumerate(lines, start=1)])
        for name, (order, lines, tags, rejected, at, route, steps) in RETURNS.items():
            rid = ids[name]
            conn.execute(returns.insert().values(
                id=rid, order_id=ids[order], status="rejected" if rejected else "requested",
                source="api", reason_tags=tags, reason_text="", reasons_from="given",
                customer_address=None, rejected=rejected, created_at=at, updated_at=at,
                version=1, **{STEP_COLUMNS[kind]: at + timedelta(hours=min(hours))
                              for kind, hours in steps.items()}))
            conn.execute(return_reason_tags.insert(), [
                {"return_id": rid, "tag": tag} for tag in dict.fromkeys(tags or ["other"])])
            conn.execute(return_lines.insert(), [
                {"return_id": rid, "line_no": i, "sku": sku, "quantity": qty, "restockable": 0,
                 "damaged": 0} for i, (sku, qty) in enumerate(lines, start=1)])
            if route is not None:
                conn.execute(return_routes.insert().values(
                    return_id=rid, order_id=ids[order], status="routed", routed_at=at,
                    updated_at=at, decision_required=route.get("decision_required", False),
                    address=(YIWU if route.get("return_centre") == "YIWU" else NINGBO)
                    if route.get("return_centre") else None,
                    typed_address_matched=typed_address_matches(
                        typed_address(route.get("customer_address"), None),
                        {"YIWU": YIWU, "NINGBO": NINGBO}.get(route.get("return_centre") or "")),
                    **{k: v for k, v in route.items() if k != "decision_required"}))
            for kind, hours in steps.items():
                for h in hours:
                    when = at + timedelta(hours=h)
                    conn.execute(t.events.insert().values(
                        id=str(uuid.uuid4()), order_id=ids[order], type=kind, source="hub",
                        system="hub", occurred_at=when, recorded_at=when,
                        payload={"data": {"return_id": rid}, "outcome": "recorded"}))
    return ids
