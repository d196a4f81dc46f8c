"""The built-in ticket queue, customer tags kept in the hub, and order attributes."""

from __future__ import annotations

from builtins import list as List  # noqa: N812  (``list`` is a method name below)
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import insert_ignore
from orderpilot.adapters.repository import phone_tail
from orderpilot.domain.records import JsonObject
from orderpilot.domain.rules.records import CustomerTag, Ticket

# Read for the rule context of every event: built once (statements built per call cost more
# client CPU than they take to run).
_TAGS = sa.select(t.customer_tags.c.tag).where(
    t.customer_tags.c.phone == sa.bindparam("phone")).order_by(
    t.customer_tags.c.created_at, t.customer_tags.c.tag)
_RETURNS_BETWEEN = sa.select(sa.func.count()).select_from(
    t.events.join(t.orders, t.orders.c.id == t.events.c.order_id)).where(
    t.orders.c.phone_tail == sa.bindparam("tail"),
    t.orders.c.customer_phone == sa.bindparam("phone"), t.events.c.type == "return.requested",
    t.events.c.recorded_at > sa.bindparam("since"),
    t.events.c.recorded_at <= sa.bindparam("until"))
_ATTRIBUTES_OF = sa.select(t.order_attributes).where(
    t.order_attributes.c.order_id == sa.bindparam("order_id"))


class TicketRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, row: Mapping[str, object]) -> Ticket:
        """Open a ticket once per idempotency key; returns the ticket (new or earlier)."""
        if row.get("idempotency_key"):
            insert_ignore(self.conn, t.tickets, row)
            return Ticket(*self.conn.execute(sa.select(t.tickets).where(
                t.tickets.c.idempotency_key == row["idempotency_key"])).one())
        self.conn.execute(t.tickets.insert(), row)
        return Ticket(*self.conn.execute(
            sa.select(t.tickets).where(t.tickets.c.id == row["id"])).one())

    def get(self, ticket_id: str) -> Ticket | None:
        row = self.conn.execute(sa.select(t.tickets).where(t.tickets.c.id == ticket_id)).first()
        return None if row is None else Ticket(*row)

    def list(self, *, order_id: str | None = None, status: str | None = None,
             before_seq: int | None = None, limit: int = 50) -> List[Ticket]:
        query = sa.select(t.tickets).order_by(t.tickets.c.seq.desc()).limit(limit)
        if order_id is not None:
            query = query.where(t.tickets.c.order_id == order_id)
        if status is not None:
            query = query.where(t.tickets.c.status == status)
        if before_seq is not None:
            query = query.where(t.tickets.c.seq < before_seq)
        return [Ticket(*r) for r in self.conn.execute(query)]

    def update(self, ticket_id: str, now: datetime, **values: Any) -> bool:
        return bool(self.conn.execute(t.tickets.update().where(t.tickets.c.id == ticket_id)
                                      .values(updated_at=now, **values)).rowcount == 1)

    def counts(self) -> dict[str, int]:
        query = sa.select(t.tickets.c.status, sa.func.count()).group_by(t.tickets.c.status)
        return {status: int(n) for status, n in self.conn.execute(query)}


class CustomerRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add_tags(self, phone: str, tags: list[str], source: str, now: datetime) -> list[str]:
        return [tag for tag in tags if insert_ignore(self.conn, t.customer_tags, {
            "phone": phone, "tag": tag, "source": source, "created_at": now})]

    def tags(self, phone: str) -> list[str]:
        return [r.tag for r in self.conn.execute(_TAGS, {"phone": phone})]

    def returns_between(self, phone: str, since: datetime, until: datetime) -> int:
        """How many returns the customer with PHONE requested, over all their orders, with
        the request recorded in (SINCE, UNTIL]: ``return.requested`` events (each return is
        one, a second return of an order included)."""
        if not phone:
            return 0
        return int(self.conn.execute(_RETURNS_BETWEEN, {
            "tail": phone_tail(phone), "phone": phone, "since": since, "until": until}
        ).scalar_one())

    def tag_rows(self, phone: str) -> list[CustomerTag]:
        return [CustomerTag(*r) for r in self.conn.execute(
            sa.select(t.customer_tags).where(t.customer_tags.c.phone == phone)
            .order_by(t.customer_tags.c.created_at))]


class AttributeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def set(self, order_id: str, name: str, value: object, by: str, now: datetime) -> None:
        self.conn.execute(t.order_attributes.delete().where(
            t.order_attributes.c.order_id == order_id, t.order_attributes.c.name == name))
        self.conn.execute(t.order_attributes.insert(), {
            "order_id": order_id, "name": name, "value": value, "set_by": by, "set_at": now})

    def of(self, order_id: str) -> JsonObject:
        return {r.name: r.value for r in self.conn.execute(_ATTRIBUTES_OF,
                                                           {"order_id": order_id})}
