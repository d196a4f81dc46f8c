"""Promotions and their claims on SQLAlchemy Core.

A claim bumps the claimed counter with ``... WHERE claimed < quota``: under any concurrency
the quota-plus-first order finds no row to update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import insert_ignore
from orderpilot.domain.inventory_records import ClaimView, Promotion, PromotionClaim
from orderpilot.services.unit_of_work import SharedReads

pr, pc = t.promotions, t.promotion_claims


# Run for every new order: built once.
_LIVE_FOR = (sa.select(pr).where(pr.c.status == "live",
                                 pr.c.trigger_sku.in_(sa.bindparam("skus", expanding=True)))
             .order_by(pr.c.started_at, pr.c.id))


_LIVE = sa.select(pr).where(pr.c.status == "live").order_by(pr.c.started_at, pr.c.id)


class PromotionRepository:
    def __init__(self, conn: Connection,
                 shared: Callable[[], SharedReads | None] = lambda: None) -> None:
        """``shared``: the dispatcher's batch reads (SharedReads), when there is one."""
        self.conn = conn
        self._shared = shared

    def _changed(self) -> None:
        reads = self._shared()
        if reads is not None:
            reads.forget()

    def add(self, row: Mapping[str, object]) -> None:
        self._changed()
        self.conn.execute(pr.insert().values(claimed=0, status="draft", **row))

    def get(self, promotion_id: str, *, for_update: bool = False) -> Promotion | None:
        query = sa.select(pr).where(pr.c.id == promotion_id)
        row = self.conn.execute(query.with_for_update() if for_update else query).first()
        return None if row is None else Promotion(*row)

    def set_status(self, promotion_id: str, from_status: str, to_status: str,
                   now: datetime) -> bool:
        self._changed()
        stamp = "started_at" if to_status == "live" else "ended_at"
        return bool(self.conn.execute(
            pr.update().where(pr.c.id == promotion_id, pr.c.status == from_status)
            .values({"status": to_status, stamp: now})).rowcount)

    def live_for(self, skus: list[str]) -> list[Promotion]:
        """The live promotions an order of SKUS may trigger, oldest started first. In a
        dispatcher's batch every live promotion is read once for all its orders (a claim
        never trusts the copy's counter: bump_claimed checks status and quota in SQL)."""
        reads = self._shared()
        if reads is None:
            return [Promotion(*r) for r in self.conn.execute(_LIVE_FOR, {"skus": skus})]
        live = reads.read(("promotions.live",),
                          lambda: [Promotion(*r) for r in self.conn.execute(_LIVE)])
        wanted = set(skus)
        return [p for p in live if p.trigger_sku in wanted]

    def live(self) -> list[Promotion]:
        return [Promotion(*r) for r in self.conn.execute(
            sa.select(pr).where(pr.c.status == "live"))]

    def recent(self, limit: int = 100) -> list[Promotion]:
        return [Promotion(*r) for r in self.conn.execute(
            sa.select(pr).order_by(pr.c.created_at.desc()).limit(limit))]

    def bump_claimed(self, promotion_id: str) -> bool:
        return bool(self.conn.execute(
            pr.update().where(pr.c.id == promotion_id, pr.c.status == "live",
                              pr.c.claimed < pr.c.quota)
            .values(claimed=pr.c.claimed + 1)).rowcount)

    def drop_claimed(self, promotion_id: str) -> None:
        self.conn.execute(pr.update().where(pr.c.id == promotion_id, pr.c.claimed > 0)
                          .values(claimed=pr.c.claimed - 1))

    def add_claim(self, promotion_id: str, order_id: str, gift_sku: str, quantity: int,
                  now: datetime) -> bool:
        return insert_ignore(self.conn, pc, {
            "promotion_id": promotion_id, "order_id": order_id, "gift_sku": gift_sku,
            "quantity": quantity, "status": "claimed", "claimed_at": now})

    def claims_of_order(self, order_id: str) -> list[PromotionClaim]:
        return [PromotionClaim(*r) for r in self.conn.execute(
            sa.select(pc).where(pc.c.order_id == order_id, pc.c.status == "claimed"))]

    def release_claim(self, promotion_id: str, order_id: str, now: datetime) -> bool:
        return bool(self.conn.execute(
            pc.update().where(pc.c.promotion_id == promotion_id, pc.c.order_id == order_id,
                              pc.c.status == "claimed")
            .values(status="released", released_at=now)).rowcount)

    def claims(self, promotion_id: str, limit: int = 500) -> list[ClaimView]:
        return [ClaimView(*r) for r in self.conn.execute(
            sa.select(pc, t.orders.c.channel, t.orders.c.external_id, t.orders.c.status
                      .label("order_status"))
            .join(t.orders, t.orders.c.id == pc.c.order_id)
            .where(pc.c.promotion_id == promotion_id)
            .order_by(pc.c.claimed_at, pc.c.order_id).limit(limit))]
