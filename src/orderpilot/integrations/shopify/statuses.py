"""Shopify's order status, as the hub reads it: one text made of the order's two status
fields and its cancellation.

A Shopify order has no single status field. It has ``financial_status`` (pending,
authorized, partially_paid, paid, partially_refunded, refunded, voided; ``expired`` in the
newer API versions), ``fulfillment_status`` (null = unfulfilled, partial, fulfilled,
restocked; Shopify's own test webhook sends ``pending``) and ``cancelled_at``. The hub's
status for a Shopify order is:

* ``cancelled/<financial_status>`` when ``cancelled_at`` is set (e.g. ``cancelled/refunded``);
* ``<financial_status>/<fulfillment_status>`` otherwise, null written ``unfulfilled``
  (e.g. ``paid/unfulfilled``, ``partially_refunded/fulfilled``).

What each status means for the lifecycle (:data:`STATUS_ROWS`): a cancelled order is
``order.cancelled``; a (partly) refunded one ``refund.succeeded``; a voided one
``order.cancelled``; a paid, unfulfilled one ``payment.succeeded``; anything else (awaiting
payment, shipping progress of a paid order) is the storefront's view, ``system.status``: the
WMS and the carrier move the shipping nodes. The mapping adds ``payment.succeeded`` (at
``processed_at``) before the current status's event whenever a payment was taken, and
``order.completed`` at ``closed_at`` when a paid, fulfilled order is closed (archived).

Sources: financial_status and fulfillment_status values, REST Order resource
https://shopify.dev/docs/api/admin-rest/2026-04/resources/order ; ``expired``:
https://shopify.dev/docs/api/admin-graphql/unstable/enums/orderdisplayfinancialstatus ;
``restocked``:
https://shopify.dev/docs/api/admin-graphql/latest/enums/OrderCreateFulfillmentStatus ;
``pending`` fulfillment: Shopify's orders/create test payload (see mapping.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orderpilot.adapters.channels.base import StatusRow
from orderpilot.domain.channel_orders import unmappable

# financial_status -> (event when not cancelled, zh, en)
FINANCIAL: dict[str, tuple[str, str, str]] = {
    "pending": ("system.status", "待付款", "Payment pending"),
    "authorized": ("system.status", "已授权待扣款", "Payment authorized"),
    "partially_paid": ("system.status", "部分付款", "Partially paid"),
    "paid": ("payment.succeeded", "已付款", "Paid"),
    "partially_refunded": ("refund.succeeded", "部分退款", "Partially refunded"),
    "refunded": ("refund.succeeded", "已退款", "Refunded"),
    "voided": ("order.cancelled", "已作废", "Voided"),
    "expired": ("system.status", "授权已过期", "Authorization expired"),
}
# fulfillment_status (None -> "unfulfilled") -> (zh, en)
FULFILLMENT: dict[str, tuple[str, str]] = {
    "unfulfilled": ("未发货", "unfulfilled"),
    "pending": ("待发货", "fulfillment pending"),
    "partial": ("部分发货", "partially fulfilled"),
    "fulfilled": ("已发货", "fulfilled"),
    "restocked": ("已退回库存", "restocked"),
}
PAID = frozenset({"paid", "partially_refunded", "refunded"})  # a payment was taken
REFUNDED = frozenset({"partially_refunded", "refunded"})


def _rows() -> tuple[StatusRow, ...]:
    rows = []
    for financial, (event, fin_zh, fin_en) in FINANCIAL.items():
        for fulfillment, (ful_zh, ful_en) in FULFILLMENT.items():
            # paid and on its way: the shipping progress is the storefront's view
            shipped = event == "payment.succeeded" and fulfillment != "unfulfilled"
            rows.append(StatusRow(f"{financial}/{fulfillment}",
                                  "system.status" if shipped else event,
                                  f"{fin_zh}，{ful_zh}", f"{fin_en}, {ful_en}"))
        rows.append(StatusRow(f"cancelled/{financial}", "order.cancelled",
                              f"已取消（{fin_zh}）", f"Cancelled ({fin_en.lower()})"))
    return tuple(rows)


STATUS_ROWS = _rows()
EVENT_OF = {row.status: row.event_type for row in STATUS_ROWS}


def status_of(raw: Mapping[str, Any]) -> str:
    """The hub's status text for a raw Shopify order; MappingError on a value Shopify does
    not document."""
    financial = raw.get("financial_status") or "pending"
    if financial not in FINANCIAL:
        raise unmappable("financial_status", f"unknown Shopify financial_status {financial!r}",
                         f"未知的 Shopify 付款状态 {financial!r}")
    if raw.get("cancelled_at"):
        return f"cancelled/{financial}"
    fulfillment = raw.get("fulfillment_status") or "unfulfilled"
    if fulfillment not in FULFILLMENT:
        raise unmappable("fulfillment_status",
                         f"unknown Shopify fulfillment_status {fulfillment!r}",
                         f"未知的 Shopify 发货状态 {fulfillment!r}")
    return f"{financial}/{fulfillment}"
