"""The one dictionary a rule sees: the order as it is now, the event, and the time.

Money is a number (yuan, as staff write it) beside a fixed-point text; dates are ISO text with
an epoch-seconds twin under ``<name>_ts`` that conditions compare.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypedDict

from orderpilot.domain.after_sales_books import RETURNS_WINDOW
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.order import Order
from orderpilot.domain.records import JsonObject
from orderpilot.domain.times import SHANGHAI
from orderpilot.services.unit_of_work import UnitOfWork


class OrderContext(TypedDict):
    """What a rule sees of an order (``order.*`` in conditions; see domain/rules/fields.py)."""

    id: str
    channel: str
    shop_id: str
    external_id: str
    status: str
    total: float
    total_text: str
    shipping_fee: float
    currency: str
    tags: list[str]
    held: bool
    hold_reasons: list[str]
    quantity: int
    line_count: int
    skus: list[str]
    lines: list[JsonObject]
    placed_at: str
    placed_at_ts: float
    customer: JsonObject
    address: JsonObject
    attributes: JsonObject


def order_context(order: Order, attributes: JsonObject,
                  customer_tags: list[str], returns_90d: int = 0) -> OrderContext:
    a = order.shipping_address
    return {
        "id": order.id, "channel": order.channel, "shop_id": order.shop_id,
        "external_id": order.external_id, "status": order.status,
        "total": float(order.total), "total_text": f"{order.total:.2f}",
        "shipping_fee": float(order.shipping_fee), "currency": order.currency,
        "tags": list(order.tags), "held": order.held,
        "hold_reasons": [h.reason for h in order.active_holds],
        "quantity": sum(ln.quantity for ln in order.lines), "line_count": len(order.lines),
        "skus": [ln.sku for ln in order.lines],
        "lines": [{"sku": ln.sku, "name": ln.name, "quantity": ln.quantity,
                   "unit_price": float(ln.unit_price)} for ln in order.lines],
        "placed_at": order.placed_at.isoformat(), "placed_at_ts": order.placed_at.timestamp(),
        "customer": {"name": order.customer.name, "phone": order.customer.phone,
                     "tags": customer_tags, "returns_90d": returns_90d},
        "address": {"country": a.country, "province": a.province, "city": a.city,
                    "district": a.district, "line1": a.line1, "postal_code": a.postal_code,
                    "flags": list(a.flags)},
        "attributes": attributes,
    }


# What a rule sees of an event's payload is bounded, because an expression's cost grows with
# the texts and lists it walks (the expression guard counts loops, not their contents): a
# reporting system may send a 1 MiB text, and two nested loops over a 100,000-item list take
# hours. Rules compare codes, names and amounts; these bounds are far beyond them.
MAX_TEXT = 4000
MAX_ITEMS = 500
MAX_DEPTH = 8


def bounded(value: object, depth: int = 0) -> object:
    """The payload with texts cut to MAX_TEXT characters, lists and objects to MAX_ITEMS
    entries and nesting to MAX_DEPTH levels."""
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if depth >= MAX_DEPTH and isinstance(value, dict | list):
        return None
    if isinstance(value, list):
        return [bounded(v, depth + 1) for v in value[:MAX_ITEMS]]
    if isinstance(value, dict):
        return {str(k)[:MAX_TEXT]: bounded(v, depth + 1)
                for k, v in list(value.items())[:MAX_ITEMS]}
    return value


def event_context(event: OrderEvent) -> dict[str, object]:
    payload = bounded(event.payload or {})
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        data = {}
    return {"id": event.id, "type": event.type, "source": event.source,
            "system": event.system, "order_id": event.order_id,
            "occurred_at": event.occurred_at.isoformat(),
            "occurred_at_ts": event.occurred_at.timestamp(),
            "recorded_at": event.recorded_at.isoformat(),
            "data": data, "payload": payload}


def channel_of(event: OrderEvent) -> str | None:
    """The channel an event names in its payload (order.placed does), if any."""
    channel = event.payload.get("channel")
    return channel if isinstance(channel, str) else None


def time_context(now: datetime) -> dict[str, object]:
    local = now.astimezone(SHANGHAI)
    return {"now": {"iso": now.isoformat(), "hour": local.hour,
                    "weekday": local.isoweekday(), "date": local.date().isoformat()},
            "now_ts": now.timestamp()}


def load_order_context(uow: UnitOfWork, order_id: str | None,
                       now: datetime | None = None) -> OrderContext | None:
    """The order as a rule sees it at NOW (default: the present); ``customer.returns_90d``
    counts the customer's return requests in the RETURNS_WINDOW before NOW."""
    if order_id is None:
        return None
    order: Order | None = uow.orders.get(order_id)
    if order is None:
        return None
    at = now or datetime.now(UTC)
    phone = order.customer.phone
    return order_context(order, uow.attributes.of(order_id), uow.customers.tags(phone),
                         uow.customers.returns_between(phone, at - RETURNS_WINDOW, at))


def build(event: OrderEvent | None, order: OrderContext | None,
          now: datetime) -> dict[str, object]:
    context: dict[str, object] = {"order": order, "event": event_context(event) if event else None}
    context.update(time_context(now))
    return context
