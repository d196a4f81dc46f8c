"""The shipments repository on SQLAlchemy Core (table in tables_shipments.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters.outbox import insert_ignore
from orderpilot.adapters.tables_shipments import shipments as s
from orderpilot.domain.shipments import Shipment


def _shipment(r: Any) -> Shipment:
    return Shipment(r.carrier, r.tracking_number, r.order_id, r.created_at, r.last_route_at,
                    r.outlet_code, r.delivered_at, r.polled_at)


class ShipmentRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, carrier: str, tracking_number: str, order_id: str, now: datetime) -> bool:
        """Follow a waybill; False when it is followed already (then nothing changes)."""
        return insert_ignore(self.conn, s, {"carrier": carrier,
                                            "tracking_number": tracking_number,
                                            "order_id": order_id, "created_at": now})

    def get(self, carrier: str, tracking_number: str) -> Shipment | None:
        row = self.conn.execute(sa.select(s).where(
            s.c.carrier == carrier, s.c.tracking_number == tracking_number)).first()
        return _shipment(row) if row else None

    def record_route(self, carrier: str, tracking_number: str, at: datetime,
                     outlet: str | None, delivered: bool) -> None:
        """A route node at AT: keeps the latest node's time and outlet, and delivery."""
        row = self.get(carrier, tracking_number)
        if row is None:
            return
        values: dict[str, Any] = {}
        if row.last_route_at is None or at >= row.last_route_at:
            values["last_route_at"] = at
            if outlet:
                values["outlet_code"] = outlet[:100]
        if delivered and row.delivered_at is None:
            values["delivered_at"] = at
        if values:
            self.conn.execute(s.update().where(
                s.c.carrier == carrier, s.c.tracking_number == tracking_number).values(values))

    def claim_due(self, carrier: str, due_before: datetime, now: datetime,
                  limit: int) -> list[str]:
        """Waybills not delivered and not polled since DUE_BEFORE, marked as polled NOW."""
        rows = self.conn.execute(
            sa.select(s.c.tracking_number).where(
                s.c.carrier == carrier, s.c.delivered_at.is_(None),
                sa.or_(s.c.polled_at.is_(None), s.c.polled_at <= due_before))
            .order_by(s.c.polled_at.is_not(None), s.c.polled_at, s.c.tracking_number)
            .limit(limit)).scalars().all()
        if rows:
            self.conn.execute(s.update().where(s.c.carrier == carrier,
                                               s.c.tracking_number.in_(rows))
                              .values(polled_at=now))
        return list(rows)
