"""Orders waiting for stock: held ``out_of_stock`` and not yet moved past allocation, found by
the SKU they want, oldest first (docs/exceptions-retry-and-refusals.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.domain.inventory_records import Waiting

OUT_OF_STOCK = "out_of_stock"
# The statuses allocation still acts on (services/inventory/allocation.py NOT_MOVED_ON).
WAITING_STATUSES = ("placed", "paid", "validated", "erp_booked", "allocated")

o, h, ln = t.orders, t.holds, t.order_lines
_HELD = sa.exists().where(h.c.order_id == o.c.id, h.c.reason == OUT_OF_STOCK,
                          h.c.released_at.is_(None))


class StockWaiters:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def skus_waited_for(self, skus: Sequence[str]) -> list[str]:
        """Which of ``skus`` at least one held out-of-stock order wants."""
        if not skus:
            return []
        rows = self.conn.execute(
            sa.select(ln.c.sku).distinct().join(o, o.c.id == ln.c.order_id)
            .where(ln.c.sku.in_(sorted(set(skus))), o.c.held.is_(True),
                   o.c.status.in_(WAITING_STATUSES), _HELD))
        return sorted(r.sku for r in rows)

    def oldest(self, sku: str, limit: int,
               after: tuple[datetime, int] | None = None) -> list[Waiting]:
        """Held out-of-stock orders wanting ``sku``, oldest first (placed_at, then seq),
        after the cursor ``after`` (placed_at, seq) when given."""
        query = (sa.select(o.c.id, o.c.placed_at, o.c.seq)
                 .where(o.c.held.is_(True), o.c.status.in_(WAITING_STATUSES), _HELD,
                        sa.exists().where(ln.c.order_id == o.c.id, ln.c.sku == sku))
                 .order_by(o.c.placed_at, o.c.seq).limit(limit))
        if after is not None:
            placed_at, seq = after
            query = query.where(sa.or_(o.c.placed_at > placed_at,
                                       sa.and_(o.c.placed_at == placed_at, o.c.seq > seq)))
        return [Waiting(r.id, r.placed_at, int(r.seq)) for r in self.conn.execute(query)]

    def needs(self, order_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Units each order wants, by SKU (all its lines)."""
        found: dict[str, dict[str, int]] = {}
        if not order_ids:
            return found
        rows = self.conn.execute(
            sa.select(ln.c.order_id, ln.c.sku, sa.func.sum(ln.c.quantity).label("units"))
            .where(ln.c.order_id.in_(sorted(set(order_ids))))
            .group_by(ln.c.order_id, ln.c.sku))
        for r in rows:
            found.setdefault(r.order_id, {})[r.sku] = int(r.units or 0)
        return found
