"""Read-side queries shaped for the API and the console (no aggregates, plain dicts)."""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.inventory import allocations_for_detail, gifts_for_detail
from orderpilot.adapters.repository import OrderRepository
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.lifecycle import NODE_BY_ID, NODES
from orderpilot.domain.messages import note_text
from orderpilot.domain.money import from_cents, money_str
from orderpilot.domain.order import Order

PRE_SHIPMENT = tuple(n.id for n in NODES if n.pre_shipment)
MAX_PAGE = 500


def iso(value: datetime | None) -> str | None:
    """Times come back from the UtcDateTime columns already aware and in UTC."""
    return value.isoformat() if value else None


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"o:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, seq = raw.split(":", 1)
        value = int(seq)
        if kind != "o" or not 0 < value < 2**63:
            raise ValueError
        return value
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("cursor is not one this API returned", field="cursor",
                           zh="cursor 不是本 API 返回的游标") from error


def summary(r: Any, active_holds: list[str]) -> dict[str, Any]:
    return _headline(r.id, r.channel, r.shop_id, r.external_id, r.status, bool(r.held),
                     active_holds, r.placed_at, r.status_changed_at, r.currency,
                     from_cents(r.total_cents), r.customer_name, r.customer_phone, r.tags)


def _headline(order_id: str, channel: str, shop_id: str, external_id: str, status: str,
              held: bool, hold_reasons: list[str], placed_at: datetime,
              status_changed_at: datetime | None, currency: str, total: Decimal, name: str,
              phone: str, tags: list[str]) -> dict[str, Any]:
    """The fields every order listing shows, the same in a list and in the detail."""
    node = NODE_BY_ID.get(status)
    return {
        "id": order_id, "channel": channel, "shop_id": shop_id, "external_id": external_id,
        "status": status, "status_zh": node.zh if node else status,
        "status_en": node.en if node else status, "held": held, "hold_reasons": hold_reasons,
        "placed_at": iso(placed_at), "status_changed_at": iso(status_changed_at),
        "currency": currency, "total": money_str(total),
        "customer": {"name": name, "phone": phone}, "tags": list(tags),
    }


def active_hold_reasons(conn: Connection, order_ids: list[str]) -> dict[str, list[str]]:
    if not order_ids:
        return {}
    found: dict[str, list[str]] = {}
    for h in conn.execute(sa.select(t.holds.c.order_id, t.holds.c.reason)
                          .where(t.holds.c.order_id.in_(order_ids),
                                 t.holds.c.released_at.is_(None))
                          .order_by(t.holds.c.placed_at)):
        found.setdefault(h.order_id, []).append(h.reason)
    return found


def list_orders(conn: Connection, *, status: str | None = None, channel: str | None = None,
                held: bool | None = None, q: str | None = None, limit: int = 50,
                cursor: str | None = None,
                statuses: tuple[str, ...] | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, by arrival sequence: a page never repeats or skips a row."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit",
                           zh=f"limit 应在 1 到 {MAX_PAGE} 之间")
    o = t.orders
    query = sa.select(o)
    if status:
        if status not in NODE_BY_ID:
            raise InvalidInput(f"unknown status {status!r}", field="status",
                               zh=f"未知状态 {status!r}")
        query = query.where(o.c.status == status)
    if statuses:
        query = query.where(o.c.status.in_(statuses))
    if channel:
        query = query.where(o.c.channel == channel.lower())
    if held is not None:
        query = query.where(o.c.held == held)
    if q:
        text = q.strip()
        if len(text) > 100:
            raise InvalidInput("q is longer than 100 characters", field="q",
                               zh="q 超过 100 个字符")
        like = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(sa.or_(o.c.external_id == text, o.c.id == text,
                                   o.c.external_id.like(like), o.c.customer_name.like(like),
                                   o.c.customer_phone == text))
    if cursor:
        query = query.where(o.c.seq < decode_cursor(cursor))
    rows = conn.execute(query.order_by(o.c.seq.desc()).limit(limit + 1)).all()
    page = rows[:limit]
    holds = active_hold_reasons(conn, [r.id for r in page if r.held])
    items = [summary(r, holds.get(r.id, [])) for r in page]
    next_cursor = encode_cursor(page[-1].seq) if len(rows) > limit else None
    return items, next_cursor


_RAW_OF = sa.select(t.raw_payloads) \
    .where(t.raw_payloads.c.order_id == sa.bindparam("order_id")).order_by(t.raw_payloads.c.seq)


def order_detail(conn: Connection, order_id: str) -> dict[str, Any] | None:
    order = OrderRepository(conn).get(order_id)
    if order is None:
        return None
    raw = [{"source": p.source, "version": p.version, "received_at": iso(p.received_at),
            "payload": p.payload} for p in conn.execute(_RAW_OF, {"order_id": order_id})]
    return present(order, raw) | {"allocations": allocations_for_detail(conn, order_id),
                                  "gifts": gifts_for_detail(conn, order_id)}


def raw_payloads(conn: Connection, order_id: str) -> list[dict[str, Any]] | None:
    """Every raw payload kept beside the order, oldest first (None: no such order)."""
    if conn.execute(sa.select(t.orders.c.id).where(t.orders.c.id == order_id)).first() is None:
        return None
    return [{"seq": p.seq, "source": p.source, "version": p.version,
             "received_at": iso(p.received_at), "payload": p.payload}
            for p in conn.execute(_RAW_OF, {"order_id": order_id})]


def present(order: Order, raw_payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole order as the API and the console show it."""
    a = order.shipping_address
    detail = _headline(order.id, order.channel, order.shop_id, order.external_id, order.status,
                       order.held, [h.reason for h in order.active_holds], order.placed_at,
                       order.status_changed_at, order.currency, order.total,
                       order.customer.name, order.customer.phone, order.tags)
    detail.update({
        "shipping_fee": money_str(order.shipping_fee),
        "adjustments": {k: money_str(v) for k, v in order.adjustments.items()},
        "shipping_address": {"country": a.country, "province": a.province, "city": a.city,
                             "district": a.district, "line1": a.line1,
                             "postal_code": a.postal_code, "flags": list(a.flags)},
        "lines": [{"line_no": i + 1, "sku": ln.sku, "name": ln.name, "quantity": ln.quantity,
                   "unit_price": money_str(ln.unit_price), "discount": money_str(ln.discount),
                   "cancelled_quantity": ln.cancelled_quantity}
                  for i, ln in enumerate(order.lines)],
        "holds": [{"id": h.id, "reason": h.reason, "note": note_text(h.note, "en"),
                   "note_zh": note_text(h.note, "zh_CN"),
                   "placed_by": h.placed_by,
                   "placed_by_kind": h.placed_by_kind, "placed_at": iso(h.placed_at),
                   "released_at": iso(h.released_at), "released_by": h.released_by,
                   "release_reason": h.release_reason, "release_note": h.release_note,
                   "auto_release_at": iso(h.auto_release_at)} for h in order.holds],
        "system_views": {
            v.system: {"status": v.status, "event_type": v.event_type, "source": v.source,
                       "occurred_at": iso(v.occurred_at), "received_at": iso(v.received_at),
                       "lag_seconds": round((v.received_at - v.occurred_at).total_seconds(), 3)}
            for v in sorted(order.views.values(), key=lambda v: v.system)},
        "raw_payloads": raw_payloads,
        "version": order.version,
    })
    return detail


def timeline(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    return [{"id": e.id, "seq": e.seq, "type": e.type, "source": e.source, "system": e.system,
             "source_event_id": e.source_event_id, "occurred_at": iso(e.occurred_at),
             "recorded_at": iso(e.recorded_at), "causation_id": e.causation_id,
             "correlation_id": e.correlation_id, "payload": e.payload}
            for e in conn.execute(sa.select(t.events).where(t.events.c.order_id == order_id)
                                  .order_by(t.events.c.seq))]


def pending_shipment_exceptions(conn: Connection) -> list[dict[str, Any]]:
    """Held orders that have not shipped: a fixed filter and a fixed order, so one click gives
    the same rows every time (S11)."""
    o, h = t.orders, t.holds
    rows = conn.execute(
        sa.select(o, h.c.id.label("hold_id"), h.c.reason, h.c.note, h.c.placed_by,
                  h.c.placed_at.label("hold_placed_at"))
        .join(h, h.c.order_id == o.c.id)
        .where(o.c.held.is_(True), o.c.status.in_(PRE_SHIPMENT), h.c.released_at.is_(None))
        .order_by(o.c.placed_at, o.c.channel, o.c.external_id, h.c.placed_at, h.c.id)).all()
    return [{**summary(r, []), "hold_id": r.hold_id, "hold_reason": r.reason,
             "hold_note": r.note, "hold_placed_by": r.placed_by,  # coded: see note_text
             "hold_placed_at": iso(r.hold_placed_at)} for r in rows]


def dead_letters(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    ob, ev = t.outbox, t.events
    rows = conn.execute(sa.select(ob, ev.c.type, ev.c.order_id)
                        .join(ev, ev.c.id == ob.c.event_id).where(ob.c.status == "dead")
                        .order_by(ob.c.seq).limit(limit))
    dead = [{"kind": "event", "id": r.event_id, "event_type": r.type, "order_id": r.order_id,
             "attempts": r.attempts, "last_error": r.last_error} for r in rows]
    timers = conn.execute(sa.select(t.timers).where(t.timers.c.status == "dead")
                          .order_by(t.timers.c.fire_at).limit(limit))
    dead += [{"kind": "timer", "id": r.id, "event_type": r.kind, "order_id": r.order_id,
              "attempts": r.attempts, "last_error": r.last_error} for r in timers]
    return dead


def backlog(conn: Connection) -> dict[str, int]:
    ob, tm = t.outbox, t.timers
    counts: dict[str, int] = dict(
        conn.execute(sa.select(ob.c.status, sa.func.count()).group_by(ob.c.status)).all())
    pending_timers = conn.execute(sa.select(sa.func.count()).select_from(tm)
                                  .where(tm.c.status == "pending")).scalar_one()
    return {"outbox_pending": int(counts.get("pending", 0)),
            "outbox_dead": int(counts.get("dead", 0)), "timers_pending": int(pending_timers)}


def quarantined(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    q = t.quarantine
    return [{"seq": r.seq, "received_at": iso(r.received_at), "source": r.source,
             "endpoint": r.endpoint, "reason": note_text(r.reason, "en"),
             "reason_zh": note_text(r.reason, "zh_CN"), "field": r.field, "payload": r.payload}
            for r in conn.execute(sa.select(q).order_by(q.c.seq.desc()).limit(limit))]


def personal_data_of_orders(conn: Connection, order_ids: list[str]) -> dict[str, str]:
    """The buyers' names, phones and street lines of these orders (value -> what it is), to
    mask where text repeats them (a ticket body, an SMS parameter)."""
    o = t.orders
    found: dict[str, str] = {}
    for r in conn.execute(sa.select(o.c.customer_name, o.c.customer_phone, o.c.address_line1)
                          .where(o.c.id.in_(order_ids))):
        found.update({r.customer_name: "name", r.customer_phone: "phone",
                      r.address_line1: "address"})
    found.pop("", None)
    return found
