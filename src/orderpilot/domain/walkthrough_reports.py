"""A connected system's view of an order read from its last reports, for the walkthrough
(domain/walkthrough.py) when the system is not asked live: its latest status, and the amount,
quantities and address its reports carried (``data.amount``, ``data.lines`` or
``data.quantity``, ``data.address``); and the reports of lifecycle nodes with both times."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.domain import lifecycle
from orderpilot.domain.walkthrough import Finding, HubOrder, NodeReport, SystemView


@dataclass(frozen=True)
class Report:
    """One event the hub recorded for the order, as stored."""

    type: str
    system: str
    source: str
    occurred_at: datetime
    recorded_at: datetime
    outcome: str
    data: Mapping[str, Any]


RECEIVABLE_EVENTS = ("erp.receivable_opened", "erp.receivable_closed")


def view_key(report: Report) -> str:
    return "erp_receivable" if report.type in RECEIVABLE_EVENTS else report.system


def node_reports(reports: Iterable[Report]) -> list[NodeReport]:
    """The reports of lifecycle nodes (moving the order, or late for a node it had passed),
    in the order they happened."""
    found = []
    for r in reports:
        kind = lifecycle.EVENT_TYPES.get(r.type)
        if kind is None or kind.node is None or r.outcome not in ("moved", "late"):
            continue
        found.append(NodeReport(kind.node, r.type, r.system, r.source, r.occurred_at,
                                r.recorded_at))
    return sorted(found, key=lambda n: (n.occurred_at, n.recorded_at))


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return None
    return amount if amount.is_finite() else None


def quantities_of(data: Mapping[str, Any]) -> dict[str, int] | None:
    """``data.lines`` ([{"sku", "quantity"}]) per SKU, else ``data.quantity`` as a total
    (key ``*``); None when the report gives neither."""
    lines = data.get("lines")
    if isinstance(lines, list) and lines:
        found: dict[str, int] = {}
        for line in lines:
            if isinstance(line, Mapping) and isinstance(line.get("quantity"), int):
                sku = str(line.get("sku", ""))
                found[sku] = found.get(sku, 0) + int(line["quantity"])
        return found or None
    quantity = data.get("quantity")
    if isinstance(quantity, int) and not isinstance(quantity, bool):
        return {"*": quantity}
    return None


def report_views(reports: Iterable[Report]) -> list[SystemView]:
    """Each system's view from its last reports: its latest status (a lifecycle node when it
    is one), and the latest amount (``data.amount``), quantities (``data.lines`` or
    ``data.quantity``) and address (``data.address``) it reported. The hub's own events are
    not a connected system's view."""
    latest: dict[str, dict[str, Any]] = {}
    for r in sorted(reports, key=lambda r: (r.occurred_at, r.recorded_at)):
        key = view_key(r)
        if key == "hub":
            continue
        kind = lifecycle.EVENT_TYPES.get(r.type)
        view = latest.setdefault(key, {})
        status = str(r.data.get("status") or (kind.node or kind.view_status if kind else ""))
        if status:
            view["status"] = status
        amount = _decimal(r.data.get("amount"))
        if amount is not None:
            view["amount"] = amount
        # a return's lines are the units coming back (partial returns are normal), not the
        # order's quantities
        quantities = None if r.type.startswith("return.") else quantities_of(r.data)
        if quantities is not None:
            view["quantities"] = quantities
        address = address_text(r.data.get("address"))
        if address:
            view["address"] = address
        reference = r.data.get("bill_no") or r.data.get("tracking_number") or r.data.get(
            "outbound_id")
        if reference:
            view["reference"] = str(reference)
    return [SystemView(key, "report", True,
                       v.get("status") if v.get("status") in lifecycle.NODE_BY_ID else None,
                       v.get("status", ""), v.get("amount"), v.get("quantities"),
                       v.get("address"), v.get("reference", ""))
            for key, v in sorted(latest.items())]


def address_text(parts: Mapping[str, Any] | str | None) -> str | None:
    """A system's address as one line: a string as it is, a mapping's parts in order
    (province, city, district, street); None when it gives none."""
    if parts is None:
        return None
    if isinstance(parts, str):
        return parts
    keys = ("province", "city", "district", "line1", "line2", "street", "detail", "address")
    return "".join(str(parts[k]) for k in keys if parts.get(k))


__all__ = ["RECEIVABLE_EVENTS", "Report", "address_text", "node_reports", "quantities_of",
           "report_views", "view_key"]


# Once an order has shipped, these systems must have said their part: the ERP booked the sale,
# and the warehouse reported past the release (picked, packed or shipped). A silence there is
# a breakpoint (a lost callback, a sale never booked) even when nothing disagrees.
WMS_DONE = frozenset({"picked", "packed", "shipped"})


def missing_reports(order: HubOrder, reports: Sequence[NodeReport],
                    views: Sequence[SystemView], connected: Collection[str]) -> list[Finding]:
    """The reports a shipped order should have had and did not, from the CONNECTED systems
    only (a company without an ERP books nothing in one)."""
    passed = {r.node for r in reports}
    if "shipped" not in passed:
        return []
    found: list[Finding] = []
    erp_seen = "erp_booked" in passed or any(
        v.system in ("erp", "erp_receivable") and v.found for v in views)
    if not erp_seen and ({"erp", "erp_receivable"} & set(connected)):
        found.append(Finding(
            order.id, order.external_id, "erp", "erp_booked", "missing", "shipped", "", "report",
            f"订单 {order.external_id} 已发货，ERP 从未入账",
            f"Order {order.external_id} shipped but the ERP never booked it"))
    wms = {r.node for r in reports if r.system == "wms"}
    if "released_to_wms" in passed and not wms & WMS_DONE and "wms" in connected:
        found.append(Finding(
            order.id, order.external_id, "wms", "picked", "missing", "shipped",
            "released_to_wms", "report",
            f"订单 {order.external_id} 已由承运商发货，"
            "仓库在下发后再无回传（拣货、打包、出库均未上报）",
            f"Order {order.external_id} was shipped by the carrier, but the warehouse reported "
            "nothing after the release (no pick, pack or dispatch)"))
    return found
