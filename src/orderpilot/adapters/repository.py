"""Loading and saving the order aggregate with SQLAlchemy Core."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.driver_sql import DriverInsert, DriverQuery
from orderpilot.domain.address import Address, Customer
from orderpilot.domain.errors import ConcurrentUpdate
from orderpilot.domain.money import from_cents
from orderpilot.domain.money import to_cents as cents
from orderpilot.domain.order import Hold, Order, OrderLine, SystemView
from orderpilot.domain.records import ExistingOrder


def order_row(order: Order, now: datetime) -> dict[str, Any]:
    a = order.shipping_address
    return {
        "id": order.id, "channel": order.channel, "shop_id": order.shop_id,
        "external_id": order.external_id, "placed_at": order.placed_at,
        "currency": order.currency, "customer_name": order.customer.name,
        "customer_phone": order.customer.phone,
        "phone_tail": phone_tail(order.customer.phone), "address_country": a.country,
        "address_province": a.province, "address_city": a.city, "address_district": a.district,
        "address_line1": a.line1, "address_postal_code": a.postal_code,
        "address_flags": ",".join(a.flags), "total_cents": cents(order.total),
        "shipping_fee_cents": cents(order.shipping_fee), "tags": list(order.tags),
        "adjustments": {k: cents(v) for k, v in order.adjustments.items()} or None,
        "status": order.status, "status_changed_at": order.status_changed_at or now,
        "held": order.held, "version": order.version, "created_at": now, "updated_at": now,
    }


def phone_tail(phone: str) -> str:
    """The last 4 digits (a masked platform phone may have fewer: then none)."""
    digits = "".join(c for c in phone if c.isdigit())
    return digits[-4:] if len(digits) >= 4 and phone[-1:].isdigit() else ""


def hold_row(order_id: str, h: Hold) -> dict[str, Any]:
    return {"id": h.id, "order_id": order_id, "reason": h.reason, "note": h.note,
            "placed_by": h.placed_by, "placed_by_kind": h.placed_by_kind,
            "placed_at": h.placed_at, "released_at": h.released_at,
            "released_by": h.released_by, "auto_release_at": h.auto_release_at,
            "release_reason": h.release_reason, "release_note": h.release_note}


def hold_from_row(r: Any) -> Hold:
    return Hold(r.reason, r.placed_at, r.placed_by, r.placed_by_kind, r.note, r.released_at,
                r.released_by, r.auto_release_at, r.id, r.release_reason, r.release_note)


_INSERT_ORDER = DriverInsert(t.orders, (
    "id", "channel", "shop_id", "external_id", "placed_at", "currency", "customer_name",
    "customer_phone", "phone_tail", "address_country", "address_province", "address_city",
    "address_district", "address_line1", "address_postal_code", "address_flags",
    "total_cents", "shipping_fee_cents", "tags", "adjustments", "status", "status_changed_at",
    "held", "version", "created_at", "updated_at", "idempotency_key", "request_hash"))
_INSERT_LINES = DriverInsert(t.order_lines, (
    "order_id", "line_no", "sku", "name", "quantity", "unit_price_cents", "discount_cents",
    "cancelled_quantity"))
_INSERT_RAW = DriverInsert(t.raw_payloads,
                           ("order_id", "source", "version", "received_at", "payload"))
_REF = sa.and_(t.orders.c.channel == sa.bindparam("channel"),
               t.orders.c.shop_id == sa.bindparam("shop_id"),
               t.orders.c.external_id == sa.bindparam("external_id"))
_EXISTING_COLUMNS = (t.orders.c.id, t.orders.c.idempotency_key, t.orders.c.request_hash)
_BY_REF = DriverQuery(sa.select(*_EXISTING_COLUMNS).where(_REF).limit(2))
# A UNION of two unique-index lookups, not an OR: PostgreSQL's planner may answer an OR with a
# sequential scan, which grows with the table.
_BY_KEY_OR_REF = DriverQuery(sa.union_all(
    sa.select(*_EXISTING_COLUMNS).where(t.orders.c.idempotency_key == sa.bindparam("key")),
    sa.select(*_EXISTING_COLUMNS).where(_REF)).limit(2))


# Loading an order is on the path of every report and every API answer: statements are built
# once so each call skips construction and cache-key generation.
_OID: sa.BindParameter[str] = sa.bindparam("order_id")
_ORDER_BY_ID_STATEMENT = sa.select(t.orders).where(t.orders.c.id == _OID)
_ORDER_BY_ID = DriverQuery(_ORDER_BY_ID_STATEMENT)
# Built once: on every event's path, where building costs more than the query on SQLite.
_SAVE = DriverQuery(t.orders.update()
         .where(t.orders.c.id == sa.bindparam("o"), t.orders.c.version == sa.bindparam("v"))
         .values(status=sa.bindparam("new_status"),
                 status_changed_at=sa.bindparam("changed_at"), held=sa.bindparam("is_held"),
                 tags=sa.bindparam("new_tags", type_=t.orders.c.tags.type),
                 version=sa.bindparam("new_version"), updated_at=sa.bindparam("now")))
_PROMISE = DriverQuery(t.orders.update()
            .where(t.orders.c.id == sa.bindparam("o"), t.orders.c.promised_by.is_(None))
            .values(promised_by=sa.bindparam("by")))
_ORDER_BY_ID_FOR_UPDATE = DriverQuery(_ORDER_BY_ID_STATEMENT.with_for_update())
_LINES_OF = DriverQuery(sa.select(t.order_lines).where(t.order_lines.c.order_id == _OID)
                        .order_by(t.order_lines.c.line_no))
_HOLDS_OF = DriverQuery(sa.select(t.holds).where(t.holds.c.order_id == _OID)
                        .order_by(t.holds.c.placed_at, t.holds.c.id))
_VIEWS_OF = DriverQuery(sa.select(t.system_views).where(t.system_views.c.order_id == _OID)
                        .order_by(t.system_views.c.system))
_DELETE_VIEW = t.system_views.delete().where(
    t.system_views.c.order_id == sa.bindparam("order_id"),
    t.system_views.c.system == sa.bindparam("system"))


class OrderRepository:
    """Orders in one transaction. An order read twice in it is read from the database once:
    ``get`` keeps a copy of what it read and hands out copies of it, so a handler changing its
    order without saving changes nothing for the next. Saving or adding an order forgets it
    (the next ``get`` reads it again), and so does a rolled-back savepoint (``forget_all``).
    Every write of an order's loaded fields goes through this class. Within a transaction an
    order so reads as of its first read (as under REPEATABLE READ); a save still checks the
    version, so a change committed by someone else in between is never overwritten."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._read: dict[str, Order] = {}

    def forget_all(self) -> None:
        self._read.clear()

    def add(self, order: Order, now: datetime, *, idempotency_key: str | None = None,
            request_hash: str | None = None, raw: tuple[str, str, object] | None = None) -> None:
        self._read.pop(order.id, None)
        row = order_row(order, now) | {"idempotency_key": idempotency_key,
                                       "request_hash": request_hash}
        _INSERT_ORDER.run(self.conn, [row])
        _INSERT_LINES.run(self.conn, [
            {"order_id": order.id, "line_no": i + 1, "sku": ln.sku, "name": ln.name,
             "quantity": ln.quantity, "unit_price_cents": cents(ln.unit_price),
             "discount_cents": cents(ln.discount), "cancelled_quantity": ln.cancelled_quantity}
            for i, ln in enumerate(order.lines)])
        if raw is not None:
            source, version, payload = raw
            _INSERT_RAW.run(self.conn, [{
                "order_id": order.id, "source": source, "version": version,
                "received_at": now, "payload": payload}])
        self._write_holds(order)
        self._write_views(order)

    def save(self, order: Order, now: datetime) -> None:
        self._read.pop(order.id, None)
        changed = _SAVE.changed(self.conn, {
            "o": order.id, "v": order.version, "new_status": order.status,
            "changed_at": order.status_changed_at or now, "is_held": order.held,
            "new_tags": list(order.tags), "new_version": order.version + 1, "now": now})
        if changed != 1:
            raise ConcurrentUpdate(f"order {order.id} was changed by someone else; try again",
                                   zh=f"订单 {order.id} 已被他人修改，请重试")
        order.version += 1
        if order.changed_details:
            self._write_details(order)
        self._write_holds(order)
        self._write_views(order)

    def promise_delivery(self, order_id: str, promised_by: datetime) -> None:
        """The first promise an order is given stays (the on-time rate judges against it)."""
        _PROMISE.changed(self.conn, {"o": order_id, "by": promised_by})

    def _write_details(self, order: Order) -> None:
        """The address, the buyer once readable and the lines' cancelled units, which a
        channel's update may change."""
        a = order.shipping_address
        self.conn.execute(t.orders.update().where(t.orders.c.id == order.id).values(
            customer_name=order.customer.name, customer_phone=order.customer.phone,
            address_country=a.country, address_province=a.province, address_city=a.city,
            address_district=a.district, address_line1=a.line1,
            address_postal_code=a.postal_code, address_flags=",".join(a.flags)))
        for i, line in enumerate(order.lines):
            self.conn.execute(t.order_lines.update().where(
                t.order_lines.c.order_id == order.id, t.order_lines.c.line_no == i + 1)
                .values(cancelled_quantity=line.cancelled_quantity))
        order.changed_details = False

    def _write_holds(self, order: Order) -> None:
        for hold in order.changed_holds:
            row = hold_row(order.id, hold)
            updated = self.conn.execute(t.holds.update().where(t.holds.c.id == hold.id)
                                        .values(released_at=hold.released_at,
                                                released_by=hold.released_by,
                                                release_reason=hold.release_reason,
                                                release_note=hold.release_note))
            if updated.rowcount == 0:
                self.conn.execute(t.holds.insert(), row)
        order.changed_holds.clear()

    def _write_views(self, order: Order) -> None:
        for system in sorted(order.changed_views):
            v = order.views[system]
            self.conn.execute(_DELETE_VIEW, {"order_id": order.id, "system": system})
            self.conn.execute(t.system_views.insert(), {
                "order_id": order.id, "system": system, "status": v.status,
                "event_type": v.event_type, "source": v.source, "occurred_at": v.occurred_at,
                "received_at": v.received_at})
        order.changed_views.clear()

    def get(self, order_id: str, *, for_update: bool = False) -> Order | None:
        if not for_update and order_id in self._read:
            return copy_of(self._read[order_id])
        query = _ORDER_BY_ID_FOR_UPDATE if for_update else _ORDER_BY_ID
        row = query.first(self.conn, {"order_id": order_id})
        if row is None:
            return None
        order = self._load(row)
        self._read[order_id] = copy_of(order)
        return order

    def find_existing(self, idempotency_key: str | None, channel: str, shop_id: str,
                      external_id: str) -> ExistingOrder | None:
        """The order this request already made, by its key or by the channel's reference.
        A match on the key wins, so a reused key is told apart from a re-delivery."""
        ref = {"channel": channel, "shop_id": shop_id, "external_id": external_id}
        found = [ExistingOrder(*row) for row in (
            _BY_KEY_OR_REF.all(self.conn, {**ref, "key": idempotency_key}) if idempotency_key
            else _BY_REF.all(self.conn, ref))]
        keyed = [r for r in found if idempotency_key and r.idempotency_key == idempotency_key]
        return (keyed or found)[0] if found else None

    def _load(self, r: Any) -> Order:
        key = {"order_id": r.id}
        lines = [OrderLine(ln.sku, ln.quantity, from_cents(ln.unit_price_cents), ln.name,
                           from_cents(ln.discount_cents), ln.cancelled_quantity)
                 for ln in _LINES_OF.all(self.conn, key)]
        holds = [hold_from_row(h) for h in _HOLDS_OF.all(self.conn, key)]
        views = {v.system: SystemView(v.system, v.status, v.event_type, v.occurred_at,
                                      v.received_at, v.source)
                 for v in _VIEWS_OF.all(self.conn, key)}
        flags = tuple(f for f in r.address_flags.split(",") if f)
        address = Address(r.address_country, r.address_province, r.address_city,
                          r.address_district, r.address_line1, r.address_postal_code, flags)
        return Order(id=r.id, channel=r.channel, shop_id=r.shop_id, external_id=r.external_id,
                     placed_at=r.placed_at, currency=r.currency,
                     customer=Customer(r.customer_name, r.customer_phone),
                     shipping_address=address, lines=lines, total=from_cents(r.total_cents),
                     shipping_fee=from_cents(r.shipping_fee_cents), tags=list(r.tags),
                     adjustments={k: from_cents(v) for k, v in (r.adjustments or {}).items()},
                     status=r.status, status_changed_at=r.status_changed_at, holds=holds,
                     views=views, version=r.version)


def copy_of(order: Order) -> Order:
    """A copy of a freshly read ORDER that shares nothing mutable with it."""
    return replace(order, lines=list(order.lines), tags=list(order.tags),
                   adjustments=dict(order.adjustments),
                   holds=[replace(h) for h in order.holds],
                   views={k: replace(v) for k, v in order.views.items()},
                   events=[], changed_holds=[], changed_views=set(), changed_details=False)
