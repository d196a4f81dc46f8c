"""Stock sources, levels, strategies, allocations and sync runs on SQLAlchemy Core.

Taking stock is one conditional UPDATE (``... WHERE on_hand - reserved - safety >= :q``), so
two buyers can never both get the last unit: on SQLite the writer lock orders them, on
PostgreSQL the row lock does and the second re-checks the condition on the new row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import inventory_statements as q
from orderpilot.adapters import tables as t
from orderpilot.adapters.inventory_pulls import PullRepository
from orderpilot.adapters.outbox import insert_ignore
from orderpilot.adapters.promotions import PromotionRepository
from orderpilot.adapters.stock_waiters import StockWaiters
from orderpilot.adapters.tables_inventory import ACTIVE_ONLY
from orderpilot.domain.inventory import Source, Stock, Strategy, is_low
from orderpilot.domain.inventory_records import (
    ACTIVE,
    Allocation,
    Drift,
    Level,
    LevelState,
    LevelView,
    SourceTotals,
    SyncRun,
)
from orderpilot.services.unit_of_work import SharedReads, shared_or_fresh

lv, src, al = t.inventory_levels, t.inventory_sources, t.allocations
runs = t.inventory_sync_runs


def source_from_row(r: Any) -> Source:
    return Source(r.code, r.kind, r.name_zh, r.name_en, r.region, r.lead_time_days,
                  r.reservation_ttl_hours, dict(r.lead_times), r.sync_schedule, r.safety_stock,
                  r.low_threshold)


class TakeNeedsLock(RuntimeError):
    """A deferred stock take cannot stand as noted (see InventoryRepository.defer_takes)."""


class InventoryRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.promotions = PromotionRepository(conn, lambda: self.shared)
        self.pulls = PullRepository(conn)
        self.shared: SharedReads | None = None  # the dispatcher's batch (SharedReads)
        self.waiters = StockWaiters(conn)  # held out-of-stock orders, for the retry
        self._deferring = False  # see defer_takes
        self._deferred: dict[tuple[str, str], tuple[Source, int, LevelState]] = {}

    # --- sources and strategies ---

    def put_source(self, s: Source, now: datetime) -> None:
        if self.shared is not None:
            self.shared.forget()
        row = {"kind": s.kind, "name_zh": s.name_zh, "name_en": s.name_en, "region": s.region,
               "lead_time_days": s.lead_time_days, "lead_times": dict(s.lead_times),
               "reservation_ttl_hours": s.reservation_ttl_hours,
               "sync_schedule": s.sync_schedule, "safety_stock": s.safety_stock,
               "low_threshold": s.low_threshold, "updated_at": now}
        if not self.conn.execute(src.update().where(src.c.code == s.code).values(row)).rowcount:
            self.conn.execute(src.insert().values(code=s.code, **row))

    def sources(self) -> list[Source]:
        def read() -> list[Source]:
            return [source_from_row(r)
                    for r in self.conn.execute(sa.select(src).order_by(src.c.code))]

        return list(shared_or_fresh(self.shared, ("inventory.sources",), read, lasting=True))

    def source(self, code: str) -> Source | None:
        r = self.conn.execute(sa.select(src).where(src.c.code == code)).first()
        return None if r is None else source_from_row(r)

    def strategy(self, channel: str) -> Strategy | None:
        st = t.inventory_strategies
        r = self.conn.execute(sa.select(st).where(st.c.channel == channel)).first()
        if r is None:
            return None
        return Strategy(r.channel, tuple(r.tiers), r.allow_split, r.allocate_on,
                        r.reservation_ttl_hours)

    def strategy_for(self, channel: str) -> Strategy:
        """The channel's own strategy, else the one saved as ``default``, else the built-in."""
        def read() -> Strategy:
            rows = {r.channel: r for r in self.conn.execute(q.STRATEGIES, {"channel": channel})}
            r = rows.get(channel) or rows.get("default")
            if r is None:
                return Strategy(channel)
            return Strategy(r.channel, tuple(r.tiers), r.allow_split, r.allocate_on,
                            r.reservation_ttl_hours)

        return shared_or_fresh(self.shared, ("inventory.strategy", channel), read,
                               lasting=True)

    def put_strategy(self, s: Strategy, now: datetime) -> None:
        if self.shared is not None:
            self.shared.forget()
        st = t.inventory_strategies
        row = {"tiers": list(s.tiers), "allow_split": s.allow_split,
               "allocate_on": s.allocate_on, "reservation_ttl_hours": s.reservation_ttl_hours,
               "updated_at": now}
        if not self.conn.execute(st.update().where(st.c.channel == s.channel)
                                 .values(row)).rowcount:
            self.conn.execute(st.insert().values(channel=s.channel, **row))

    # --- levels ---

    def stock(self, skus: list[str], now: datetime) -> dict[tuple[str, str], Stock]:
        """Stock of ``skus`` at every source; reservations past reserved_until do not count,
        whether or not the sweeper has released them yet."""
        if not skus:
            return {}
        rows = q.stock_of(len(skus)).all(
            self.conn, {"now": now} | {f"sku{i}": sku for i, sku in enumerate(skus)})
        return {(r.source, r.sku): Stock(r.source, r.sku, r.on_hand,
                                         r.reserved - int(r.expired), r.safety, r.expected_at,
                                         int(r.expired))
                for r in rows}

    def expired_quantity(self, source: str, sku: str, now: datetime) -> int:
        return int(self.conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(al.c.quantity), 0))
            .where(al.c.source == source, al.c.sku == sku, al.c.status == ACTIVE,
                   al.c.reserved_until.is_not(None), al.c.reserved_until <= now)).scalar_one())

    def level(self, source: str, sku: str) -> Level | None:
        row = self.conn.execute(sa.select(lv).where(lv.c.source == source,
                                                    lv.c.sku == sku)).first()
        return None if row is None else Level(*row)

    def levels(self, *, sku: str | None = None, source: str | None = None,
               limit: int = 500) -> list[LevelView]:
        query = (sa.select(lv, src.c.kind, src.c.name_zh, src.c.name_en,
                           sa.func.coalesce(lv.c.safety_stock, src.c.safety_stock)
                           .label("safety"),
                           sa.func.coalesce(lv.c.low_threshold, src.c.low_threshold)
                           .label("threshold"))
                 .join(src, src.c.code == lv.c.source))
        if sku:
            query = query.where(lv.c.sku == sku)
        if source:
            query = query.where(lv.c.source == source)
        return [LevelView(*r) for r in self.conn.execute(
            query.order_by(lv.c.sku, lv.c.source).limit(limit))]

    def write_level(self, source: str, sku: str, on_hand: int, as_of: datetime,
                    expected_at: date | None, now: datetime, *, safety_stock: int | None = None,
                    low_threshold: int | None = None) -> None:
        values: dict[str, Any] = {"on_hand": on_hand, "as_of": as_of,
                                  "expected_at": expected_at, "updated_at": now}
        if safety_stock is not None:
            values["safety_stock"] = safety_stock
        if low_threshold is not None:
            values["low_threshold"] = low_threshold
        if not self.conn.execute(lv.update().where(lv.c.source == source, lv.c.sku == sku)
                                 .values(values)).rowcount:
            self.conn.execute(lv.insert().values(source=source, sku=sku, reserved=0, **values))

    def defer_takes(self) -> None:
        """From now on in this transaction, :meth:`take` only notes what it takes, and
        :meth:`settle_takes` takes it just before the commit (the dispatcher's bare delivery
        on PostgreSQL). A stock row is the hottest lock of a burst: every order of a
        best-selling SKU updates it, and the lock is held until the commit. Taken early, it
        was held across every later statement of the event's handlers; taken last, only
        across the commit."""
        self._deferring = True

    def settle_takes(self) -> None:
        """Take what was deferred, row by row in lock order (source, sku). Raises
        :class:`TakeNeedsLock` (nothing may commit then) when a row no longer has the units,
        or when what the takes left would have made the low-stock check decide or report
        otherwise than it did on the level read before (a low level must be exactly as
        noted): the caller delivers the event again with immediate takes."""
        deferred, self._deferred = self._deferred, {}
        self._deferring = False
        for (code, sku), (source, quantity, predicted) in sorted(deferred.items()):
            actual = self._take_now(source, sku, quantity)
            if actual is None:
                raise TakeNeedsLock(f"{code}/{sku} has fewer than {quantity} free units now")
            low = is_low(predicted.available, predicted.low_threshold)
            if is_low(actual.available, actual.low_threshold) != low:
                raise TakeNeedsLock(f"{code}/{sku} crossed its low threshold meanwhile")
            if low and actual.available != predicted.available:  # the low event tells it
                raise TakeNeedsLock(f"{code}/{sku} is low and moved meanwhile")

    def take(self, source: Source, sku: str, quantity: int) -> LevelState | None:
        """Reserve ``quantity`` if that much is free above safety stock: the level's counters
        right after (the row stays locked to this transaction on PostgreSQL, so a caller
        that checks for low stock needs no second read); None if not that much is free.
        Deferred (:meth:`defer_takes`): the counters as they will be, from a plain read; a
        take the read finds short raises TakeNeedsLock instead of answering None, so no
        order is ever found out of stock on a read that held no lock."""
        if not self._deferring:
            return self._take_now(source, sku, quantity)
        key = (source.code, sku)
        level = self.state(source.code, sku)
        noted = self._deferred.get(key)
        before = noted[1] if noted else 0
        if level is None or level.on_hand - level.reserved - before - level.safety_stock \
                < quantity:
            raise TakeNeedsLock(f"{source.code}/{sku}: not enough free units on the read")
        predicted = level._replace(reserved=level.reserved + before + quantity)
        self._deferred[key] = (source, before + quantity, predicted)
        return predicted

    def _take_now(self, source: Source, sku: str, quantity: int) -> LevelState | None:
        r = q.TAKE.first(self.conn, {"s": source.code, "k": sku, "q": quantity,
                                    "source_safety": source.safety_stock})
        if r is None:
            return None
        return LevelState(source.code, sku, r.on_hand, r.reserved,
                          source.safety_stock if r.safety_stock is None else r.safety_stock,
                          source.low_threshold if r.low_threshold is None else r.low_threshold,
                          bool(r.low))

    def give_back(self, source: str, sku: str, quantity: int) -> None:
        pg = self.conn.dialect.name == "postgresql"
        self.conn.execute(q.GIVE_BACK_PG if pg else q.GIVE_BACK,
                          {"s": source, "k": sku, "q": quantity})

    def consume(self, source: str, sku: str, quantity: int) -> None:
        """Shipped: the units leave the warehouse, out of reserved and out of on_hand."""
        pg = self.conn.dialect.name == "postgresql"
        floor = sa.func.greatest if pg else sa.func.max
        self.conn.execute(lv.update().where(lv.c.source == source, lv.c.sku == sku).values(
            reserved=floor(lv.c.reserved - quantity, 0),
            on_hand=floor(lv.c.on_hand - quantity, 0)))

    def lock_levels(self) -> None:
        """Lock every level row (PostgreSQL) so counters cannot move while they are recounted:
        an allocation that took stock commits first, and its allocation rows are counted."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(sa.select(lv.c.source).order_by(lv.c.source, lv.c.sku)
                              .with_for_update())

    def state(self, source: str, sku: str) -> LevelState | None:
        r = q.STATE.first(self.conn, {"s": source, "k": sku})
        return None if r is None else LevelState(*r)

    def flag_low(self, source: str, sku: str, low: bool) -> bool:
        """Set the low flag; True only for the one call that changed it."""
        return bool(self.conn.execute(
            lv.update().where(lv.c.source == source, lv.c.sku == sku, lv.c.low == (not low))
            .values(low=low)).rowcount)

    # --- allocations ---

    def add_allocations(self, allocations: Sequence[Allocation]) -> None:
        if allocations:
            q.ADD_ALLOCATIONS.run(self.conn, [
                {"id": a.id, "order_id": a.order_id, "line_no": a.line_no,
                 "promotion_id": a.promotion_id, "sku": a.sku, "source": a.source,
                 "quantity": a.quantity, "status": a.status,
                 "reserved_until": a.reserved_until, "created_at": a.created_at}
                for a in allocations])

    def allocations_of(self, order_id: str, *, active_only: bool = False) -> list[Allocation]:
        query = q.ACTIVE_ALLOCATIONS_OF if active_only else q.ALLOCATIONS_OF
        return [Allocation(*r) for r in query.all(self.conn, {"o": order_id})]

    def allocation(self, allocation_id: str) -> Allocation | None:
        r = self.conn.execute(sa.select(al).where(al.c.id == allocation_id)).first()
        return None if r is None else Allocation(*r)

    def end_allocation(self, allocation_id: str, status: str, now: datetime) -> bool:
        """Move an active allocation to ``status``; only one caller ever wins."""
        return bool(self.conn.execute(
            al.update().where(al.c.id == allocation_id, al.c.status == ACTIVE)
            .values(status=status, ended_at=now)).rowcount)

    def confirm(self, allocation_id: str) -> None:
        """The order moved on: the reservation no longer runs out."""
        self.conn.execute(al.update().where(al.c.id == allocation_id, al.c.status == ACTIVE)
                          .values(reserved_until=None))

    def due_reservations(self, now: datetime, *, source: str | None = None,
                         sku: str | None = None) -> list[Allocation]:
        query = sa.select(al).where(ACTIVE_ONLY, al.c.reserved_until.is_not(None),
                                    al.c.reserved_until <= now)
        if source is not None:
            query = query.where(al.c.source == source, al.c.sku == sku)
        return [Allocation(*r) for r in self.conn.execute(query.order_by(al.c.reserved_until))]

    def reconcile(self, promotion_locks: Mapping[tuple[str, str], int]) -> list[Drift]:
        """Set every level's reserved to what its active allocations and live promotions
        hold; returns the levels that had drifted."""
        held = dict(((r.source, r.sku), int(r.qty)) for r in self.conn.execute(
            sa.select(al.c.source, al.c.sku, sa.func.sum(al.c.quantity).label("qty"))
            .where(ACTIVE_ONLY).group_by(al.c.source, al.c.sku)))
        repaired: list[Drift] = []
        for r in self.conn.execute(sa.select(lv.c.source, lv.c.sku, lv.c.reserved)).all():
            key = (r.source, r.sku)
            right = held.get(key, 0) + promotion_locks.get(key, 0)
            if r.reserved != right:
                self.conn.execute(lv.update().where(lv.c.source == r.source, lv.c.sku == r.sku)
                                  .values(reserved=right))
                repaired.append({"source": r.source, "sku": r.sku, "was": r.reserved,
                                 "now": right})
        return repaired

    # --- sync runs ---

    def sync_run(self, source_event_id: str) -> SyncRun | None:
        row = self.conn.execute(sa.select(runs).where(
            runs.c.source_event_id == source_event_id)).first()
        return None if row is None else SyncRun(*row)

    def record_run(self, row: Mapping[str, object]) -> bool:
        """False when a run with the same source_event_id is already recorded."""
        return insert_ignore(self.conn, runs, row)

    def prune_quiet_pulls(self, before: datetime) -> int:
        """Forget scheduled pulls older than ``before`` that applied nothing (a pull every
        15 s writes thousands a day); failures and runs that changed stock stay."""
        return int(self.conn.execute(runs.delete().where(
            runs.c.method == "pull", runs.c.changes == 0, runs.c.status == "applied",
            runs.c.started_at < before)).rowcount)

    def sync_runs(self, *, source: str | None = None, limit: int = 50) -> list[SyncRun]:
        query = sa.select(runs)
        if source:
            query = query.where(runs.c.source == source)
        return [SyncRun(*r) for r in self.conn.execute(
            query.order_by(runs.c.started_at.desc()).limit(limit))]

    def source_totals(self) -> dict[str, SourceTotals]:
        return {r.source: SourceTotals(*r) for r in self.conn.execute(
            sa.select(lv.c.source, sa.func.count().label("skus"),
                      sa.func.sum(lv.c.on_hand).label("on_hand"),
                      sa.func.sum(lv.c.reserved).label("reserved"),
                      sa.func.sum(sa.case((lv.c.low.is_(True), 1), else_=0)).label("low"),
                      sa.func.max(lv.c.as_of).label("as_of"))
            .group_by(lv.c.source))}


def allocations_for_detail(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    """The order's allocations as GET /api/v1/orders/{id} shows them."""
    return [{"sku": a.sku, "source": a.source, "quantity": a.quantity, "status": a.status,
             "line_no": a.line_no, "promotion_id": a.promotion_id,
             "reserved_until": a.reserved_until.isoformat() if a.reserved_until else None}
            for a in InventoryRepository(conn).allocations_of(order_id)]


def gifts_for_detail(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    pc, pr = t.promotion_claims, t.promotions
    rows = conn.execute(sa.select(pc, pr.c.name).join(pr, pr.c.id == pc.c.promotion_id)
                        .where(pc.c.order_id == order_id).order_by(pc.c.claimed_at))
    return [{"promotion_id": r.promotion_id, "promotion": r.name, "sku": r.gift_sku,
             "quantity": r.quantity, "status": r.status,
             "claimed_at": r.claimed_at.isoformat()} for r in rows]
