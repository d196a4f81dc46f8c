"""The surge's orders and what each one's systems report, and the independent model of where
each order must end.

Pure: a seeded plan, no I/O. ``expected_state`` is deliberately NOT the hub's lifecycle code
(domain/lifecycle.py): it is a small table of the moves the surge's reports may make, written
from the documented lifecycle (docs/architecture.md), so a fault in the hub's state machine
shows up as a mismatch instead of being copied into the expectation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

CHANNELS = ("youzan", "shopee", "lazada", "shopify")  # four storefronts
SKUS = ("WIPES-80", "DIAPER-L", "CREAM-50", "FORMULA-2")
# Shares of the orders' fates (the rest are delivered).
UNPAID_CANCELLED = 0.04  # cancelled by the buyer before paying
PAID_CANCELLED = 0.04  # paid, then cancelled before the warehouse released it
RETURNED = 0.06  # delivered, then a return requested
TRANSIT_AFTER_DELIVERY = 0.10  # the carrier's in-transit scan arrives after the delivery
LATE_PAYMENT_COPY = 0.05  # the storefront sends the payment again after the order moved on
REPORT_TWICE = 0.04  # a report sent a second time at once (same source_event_id)
PLACE_TWICE = 0.03  # the order itself pushed twice

# The moves the surge's reports may make: node -> the nodes a report may take it to. Anything
# else (a late copy, a report of a node already passed) leaves the order where it is.
MOVES: dict[str, frozenset[str]] = {
    "placed": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"allocated", "released_to_wms", "cancelled"}),
    "allocated": frozenset({"released_to_wms", "cancelled"}),
    "released_to_wms": frozenset({"shipped", "cancelled"}),
    "shipped": frozenset({"in_transit", "delivered", "return_requested"}),
    "in_transit": frozenset({"delivered", "return_requested"}),
    "delivered": frozenset({"return_requested"}),
    "return_requested": frozenset(),
    "cancelled": frozenset(),
}
NODE_OF = {"payment.succeeded": "paid", "order.cancelled": "cancelled",
           "wms.released": "released_to_wms", "shipment.shipped": "shipped",
           "shipment.in_transit": "in_transit", "shipment.delivered": "delivered",
           "return.requested": "return_requested", "inventory.allocated": "allocated"}


@dataclass(frozen=True)
class Report:
    type: str
    source: str
    event_id: str
    gap_s: float  # seconds after the previous step of this order
    twice: bool = False  # sent again at once


@dataclass
class SurgeOrder:
    number: int
    channel: str
    external_id: str
    body: dict[str, Any]
    reports: list[Report]
    fate: str
    place_twice: bool = False
    order_id: str | None = None  # the hub's id, once acknowledged
    sent: list[str] = field(default_factory=list)  # report types the hub took (2xx)


def plan(orders: int, seed: int = 15) -> list[SurgeOrder]:
    rng = random.Random(seed)
    return [_order(i, rng) for i in range(orders)]


def _order(i: int, rng: random.Random) -> SurgeOrder:
    channel = CHANNELS[i % len(CHANNELS)]
    external_id = f"SURGE-{channel[:2].upper()}-{i:06d}"
    sku = SKUS[rng.randrange(len(SKUS))]
    quantity = rng.randint(1, 2)
    body = {"channel": channel, "shop_id": f"{channel}-surge", "external_id": external_id,
            "placed_at": "2026-11-11T00:00:00+08:00", "currency": "CNY",
            "customer": {"name": "王五", "phone": f"139{i:08d}"},
            "shipping_address": {"country": "CN", "province": "浙江省", "city": "杭州市",
                                 "district": "西湖区", "line1": f"文三路{i % 500 + 1}号",
                                 "postal_code": "310000"},
            "lines": [{"sku": sku, "quantity": quantity, "unit_price": "99.00"}],
            "total": f"{99 * quantity}.00"}

    def report(kind: str, source: str, gap: float) -> Report:
        return Report(kind, source, f"{external_id}:{kind}", gap, rng.random() < REPORT_TWICE)

    r = rng.random()
    pay = report("payment.succeeded", channel, rng.uniform(0.2, 1.0))
    if r < UNPAID_CANCELLED:
        fate, reports = "unpaid_cancelled", [report("order.cancelled", channel,
                                                    rng.uniform(0.5, 2.0))]
    elif r < UNPAID_CANCELLED + PAID_CANCELLED:
        fate, reports = "paid_cancelled", [pay, report("order.cancelled", channel,
                                                       rng.uniform(0.5, 2.0))]
    else:
        fate = "returned" if r < UNPAID_CANCELLED + PAID_CANCELLED + RETURNED else "delivered"
        transit = report("shipment.in_transit", "carrier", rng.uniform(0.2, 1.0))
        delivered = report("shipment.delivered", "carrier", rng.uniform(0.2, 1.0))
        reports = [pay, report("wms.released", "wms", rng.uniform(1.0, 3.0)),
                   report("shipment.shipped", "carrier", rng.uniform(0.5, 2.0)),
                   *((delivered, transit) if rng.random() < TRANSIT_AFTER_DELIVERY
                     else (transit, delivered))]
        if fate == "returned":
            reports.append(report("return.requested", channel, rng.uniform(0.5, 2.0)))
    if reports[0] is pay and rng.random() < LATE_PAYMENT_COPY:
        reports.append(Report(pay.type, pay.source, pay.event_id, rng.uniform(0.1, 1.0)))
    return SurgeOrder(i, channel, external_id, body, reports, fate,
                      rng.random() < PLACE_TWICE)


def expected_state(taken: list[str]) -> str:
    """Where an order must end after the hub took these report types, in this order (a
    report the hub refused is not in TAKEN): each report moves the order only if ``MOVES``
    allows it from where it is; a copy or a late report moves nothing. The hub's own
    ``inventory.allocated`` may come in between and changes no final state (every node the
    surge's reports reach from ``paid`` is reachable from ``allocated`` too)."""
    state = "placed"
    for kind in taken:
        node = NODE_OF.get(kind)
        if node is not None and node in MOVES[state]:
            state = node
    return state
