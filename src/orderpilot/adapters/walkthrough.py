"""The walkthrough's reads of the hub's history (services/walkthrough.py ``History``): the
orders of a period, one order as the hub has it, every report on it, and the WMS outbound row
the hub keeps (``wms_outbound``). A walkthrough reads at most a thousand orders one by one, so
this is plain SQL on the operational database, not the snapshot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.db import Database
from orderpilot.adapters.repository import OrderRepository
from orderpilot.domain.order import Order
from orderpilot.domain.walkthrough import HubOrder, SystemView
from orderpilot.domain.walkthrough_reports import Report


def hub_order(order: Order) -> HubOrder:
    quantities: dict[str, int] = {}
    for line in order.lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity \
            - line.cancelled_quantity
    a = order.shipping_address
    return HubOrder(order.id, order.external_id, order.channel, order.shop_id, order.status,
                    order.currency, order.total, quantities,
                    "".join(p for p in (a.province, a.city, a.district, a.line1) if p),
                    order.placed_at)


class SqlHistory:
    def __init__(self, db: Database) -> None:
        self.db = db

    def order_ids(self, since: datetime | None, until: datetime | None) -> list[str]:
        """The orders placed in [SINCE, UNTIL) (all of them without bounds)."""
        o = t.orders.c
        query = sa.select(o.id)
        if since is not None:
            query = query.where(o.placed_at >= since)
        if until is not None:
            query = query.where(o.placed_at < until)
        with self.db.read() as conn:
            return [r[0] for r in conn.execute(query)]

    def order(self, order_id: str) -> HubOrder | None:
        with self.db.read() as conn:
            order = OrderRepository(conn).get(order_id)
        return None if order is None else hub_order(order)

    def reports(self, order_id: str) -> list[Report]:
        e = t.events.c
        with self.db.read() as conn:
            rows = conn.execute(sa.select(e.type, e.system, e.source, e.occurred_at,
                                          e.recorded_at, e.payload)
                                .where(e.order_id == order_id).order_by(e.seq)).all()
        found = []
        for r in rows:
            payload: Any = r.payload if isinstance(r.payload, dict) else {}
            data = payload.get("data")
            found.append(Report(r.type, r.system, r.source, r.occurred_at, r.recorded_at,
                                str(payload.get("outcome") or ""),
                                data if isinstance(data, dict) else {}))
        return found

    def stored_views(self, order: HubOrder) -> list[SystemView]:
        """The WMS outbound order the hub pushed: a push that failed for good means the WMS
        has no outbound order for it (a finding once the hub says it was released)."""
        w = t.wms_outbound.c
        with self.db.read() as conn:
            row = conn.execute(sa.select(w.status, w.answer).where(
                w.order_id == order.id)).first()
        if row is None or row.status != "failed":
            return []
        return [SystemView("wms", "report", False, reference="")]
