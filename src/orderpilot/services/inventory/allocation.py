"""Allocation, reservations and their expiry, delivery promises, and the handlers wiring them.

Stock sync (level reports, sync runs, sources, strategies) lives in ``inventory_sync``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from orderpilot.domain import inventory as inv
from orderpilot.domain import lifecycle
from orderpilot.domain.errors import Conflict, InvalidInput, NotFound
from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.inventory_records import ACTIVE, Allocation, Drift, LevelState
from orderpilot.domain.messages import coded_note
from orderpilot.domain.order import Order
from orderpilot.domain.records import JsonObject
from orderpilot.services.inventory import promotions
from orderpilot.services.inventory.stock_arrivals import wake_retry
from orderpilot.services.repositories import Inventory
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

EXPIRY_TIMER = "inventory.reservation_expiry"
OUT_OF_STOCK = "out_of_stock"
# Until released to the warehouse an order may still lose an expired reservation.
NOT_MOVED_ON = frozenset({"placed", "paid", "validated", "erp_booked", "allocated"})
MAX_PLAN_ATTEMPTS = 8


@dataclass(frozen=True)
class AllocationResult:
    order_id: str
    outcome: str  # allocated | already_allocated | out_of_stock | not_allocatable | untracked
    allocations: tuple[dict[str, object], ...] = ()
    short: dict[str, int] | None = None


class _StockTaken(Exception):
    """Someone else took the stock the plan counted on: plan again."""


def allocate_order(order_id: str, uow_factory: UowFactory, clock: Clock) -> AllocationResult:
    """Allocate one order now (the handlers, tests and the benchmark all come through here)."""
    def attempt() -> AllocationResult:
        with uow_factory() as uow:
            order = _load(uow, order_id)
            return allocate_in(uow, order, clock())

    return retrying(attempt)


def allocate_in(uow: UnitOfWork, order: Order, now: datetime) -> AllocationResult:
    """Allocate inside an open unit of work; a no-op when the order already holds stock."""
    held = [a for a in uow.inventory.allocations_of(order.id, active_only=True)
            if a.promotion_id is None]
    if held:
        _report_allocated(uow, order, now, held, fresh=False)
        return AllocationResult(order.id, "already_allocated", tuple(_shown(a) for a in held))
    if order.status not in NOT_MOVED_ON:
        return AllocationResult(order.id, "not_allocatable")
    strategy = uow.inventory.strategy_for(order.channel)
    sources = {s.code: s for s in uow.inventory.sources()}
    lines = [(i + 1, ln.sku, ln.quantity) for i, ln in enumerate(order.lines)]
    skus = sorted({ln.sku for ln in order.lines})
    region = order.shipping_address.province or None
    stock: dict[tuple[str, str], inv.Stock] | None = uow.inventory.stock(skus, now)
    tracked = {sku for _source, sku in stock or {}}
    if len(tracked) < len(skus):
        # Stock the hub has never been told about is not managed here (no source reports
        # it): say so on the order, and allocate the rest.
        untracked = [sku for sku in skus if sku not in tracked]
        if not uow.events.happened_since(order.id, "inventory.untracked"):  # said once
            order.record("inventory.untracked", "hub", now, now, {"skus": untracked})
            uow.events.append(order.events)
        lines = [line for line in lines if line[1] in tracked]
        skus = sorted(tracked)
        if not lines:
            return AllocationResult(order.id, "untracked")
    for _ in range(MAX_PLAN_ATTEMPTS):
        stock = stock or uow.inventory.stock(skus, now)  # the first read serves the first plan
        chosen = inv.plan(lines, stock, list(sources.values()), strategy, region)
        if not chosen.complete:
            return _out_of_stock(uow, order, now, chosen.short)
        try:
            held = _take(uow, order, chosen, stock, sources, strategy, now)
        except _StockTaken:
            stock = None
            continue
        promised = inv.promised_by(chosen, sources, region, now)
        if promised is not None:
            uow.orders.promise_delivery(order.id, promised)
        for a in held:
            if a.reserved_until is not None:
                uow.timers.schedule(f"inventory:reservation:{a.id}", EXPIRY_TIMER,
                                    a.reserved_until,
                                    {"order_id": order.id, "allocation_id": a.id},
                                    now, order_id=order.id)
        for hold in order.active_holds:
            if hold.reason == OUT_OF_STOCK:
                order.release_hold(hold.id, "inventory", now, coded_note("hold.stock_allocated"))
        _report_allocated(uow, order, now, held, fresh=True)
        return AllocationResult(order.id, "allocated", tuple(_shown(a) for a in held))
    raise Conflict("stock kept changing while allocating; try again", code="concurrent_update",
                   zh="分配期间库存不断变化，请重试")


def _take(uow: UnitOfWork, order: Order, chosen: inv.Plan,
          stock: dict[tuple[str, str], inv.Stock], sources: dict[str, inv.Source],
          strategy: inv.Strategy, now: datetime) -> list[Allocation]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for pick in chosen.picks:
        totals[(pick.source, pick.sku)] += pick.quantity
    # A fixed lock order (source, sku): two orders never wait on each other's rows in a cycle.
    # A row found short after others were taken gives those back (no savepoint, two round
    # trips fewer an order): nothing of the attempt is left but the expiries it applied, which
    # stand either way. Low stock is checked once every row is taken, so a given-back take
    # never said "low".
    levels: list[LevelState] = []
    for source_code, sku in sorted(totals):
        if stock[(source_code, sku)].expired:
            expire_due(uow, now, source=source_code, sku=sku)
        level = uow.inventory.take(sources[source_code], sku, totals[(source_code, sku)])
        if level is None:
            for row in levels:
                uow.inventory.give_back(row.source, row.sku, totals[(row.source, row.sku)])
            raise _StockTaken
        levels.append(level)
    for level in levels:
        check_low(uow, level.source, level.sku, now, level)
    taken = []
    for pick in chosen.picks:
        source = sources[pick.source]
        until = (now + timedelta(hours=strategy.ttl_hours(source))
                 if source.reserves_with_ttl else None)
        taken.append(Allocation(new_id(), order.id, pick.line_no, None, pick.sku, pick.source,
                                pick.quantity, ACTIVE, until, now, None))
    uow.inventory.add_allocations(taken)
    return taken


def _shown(a: Allocation) -> dict[str, object]:
    return {"sku": a.sku, "source": a.source, "quantity": a.quantity, "line_no": a.line_no,
            "reserved_until": a.reserved_until.isoformat() if a.reserved_until else None}


def _report_allocated(uow: UnitOfWork, order: Order, now: datetime, held: list[Allocation],
                      *, fresh: bool) -> None:
    """Move the order to "allocated" when its lifecycle allows. Allocated before payment
    (strategy "placed"), the allocation is only recorded; payment then moves it."""
    data = {"allocations": [_shown(a) for a in held]}
    if lifecycle.can_move(order.status, "allocated"):
        order.report("inventory.allocated", "hub", now, now, data)
    elif fresh:
        order.record("inventory.allocated", "hub", now, now,
                     {"data": data, "from": order.status, "outcome": "recorded"})
    if order.events or order.changed_holds:
        uow.orders.save(order, now)
        uow.events.append(order.events)


def _out_of_stock(uow: UnitOfWork, order: Order, now: datetime,
                  short: dict[str, int]) -> AllocationResult:
    if not any(h.reason == OUT_OF_STOCK for h in order.active_holds):
        wanted = ", ".join(f"{sku} x{qty}" for sku, qty in sorted(short.items()))
        order.place_hold(OUT_OF_STOCK, coded_note("hold.cannot_allocate", items=wanted),
                         "inventory", "system", now)
        order.record("inventory.out_of_stock", "hub", now, now, {"short": short})
        uow.orders.save(order, now)
        uow.events.append(order.events)
    return AllocationResult(order.id, "out_of_stock", short=short)


def check_low(uow: UnitOfWork, source: str, sku: str, now: datetime,
              state: LevelState | None = None) -> None:
    """Emit inventory.low once when a level falls to its threshold; re-arm when it recovers.
    STATE: the level as the change that called left it, when the change returned it."""
    if state is None:
        state = uow.inventory.state(source, sku)
    if state is None:
        return
    if inv.is_low(state.available, state.low_threshold):
        if uow.inventory.flag_low(source, sku, True):
            uow.events.append([OrderEvent(
                None, "inventory.low", "hub", now, now,
                {"sku": sku, "source": source, "available": state.available,
                 "threshold": state.low_threshold})])
    elif state.low:
        uow.inventory.flag_low(source, sku, False)


def release_order(uow: UnitOfWork, order_id: str, now: datetime, reason: str,
                  *, keep_gifts: bool = False) -> list[Allocation]:
    """Give back every active allocation of the order (gifts go back to their promotion)."""
    released = []
    for a in uow.inventory.allocations_of(order_id, active_only=True):
        if a.promotion_id is not None and keep_gifts:
            continue
        if not uow.inventory.end_allocation(a.id, "released", now):
            continue
        uow.timers.cancel(f"inventory:reservation:{a.id}")
        if a.promotion_id is None or not promotions.return_to_pool(uow, a, now):
            uow.inventory.give_back(a.source, a.sku, a.quantity)
            check_low(uow, a.source, a.sku, now)
        released.append(a)
    if released:
        wake_retry(uow, [a.sku for a in released if a.promotion_id is None], now)
        uow.events.append([OrderEvent(order_id, "inventory.released", "hub", now, now,
                                      {"reason": reason,
                                       "allocations": [_shown(a) for a in released]})])
    return released


def expire_due(uow: UnitOfWork, now: datetime, *, source: str | None = None,
               sku: str | None = None) -> list[Allocation]:
    """Release reservations past reserved_until (all, or one level's)."""
    expired = []
    for a in uow.inventory.due_reservations(now, source=source, sku=sku):
        if uow.inventory.end_allocation(a.id, "expired", now):
            uow.inventory.give_back(a.source, a.sku, a.quantity)
            expired.append(a)
            wake_retry(uow, [a.sku], now)
            uow.events.append([OrderEvent(
                a.order_id, "inventory.reservation_expired", "hub", now, now,
                {"sku": a.sku, "source": a.source, "quantity": a.quantity,
                 "reserved_until": a.reserved_until.isoformat() if a.reserved_until else None})])
    return expired


def on_reservation_timer(payload: JsonObject, uow: UnitOfWork, clock: Clock) -> None:
    """A reservation's time is up: keep it if the order moved on, else release and redo."""
    now = clock()
    allocation = uow.inventory.allocation(str(payload["allocation_id"]))
    order = uow.orders.get(str(payload["order_id"]), for_update=True)
    if allocation is None or order is None:
        return
    if allocation.status == "active":
        if order.status not in NOT_MOVED_ON:
            uow.inventory.confirm(allocation.id)
            return
        if allocation.reserved_until is None or allocation.reserved_until > now:
            return
        expire_due(uow, now, source=allocation.source, sku=allocation.sku)
    if allocation.status in ("active", "expired") and order.status in NOT_MOVED_ON:
        release_order(uow, order.id, now, "reservation expired", keep_gifts=True)
        allocate_in(uow, order, now)


def sweep(uow_factory: UowFactory, clock: Clock) -> Swept:
    """Release overdue reservations and repair drifted reserved counters (CLI or timer)."""
    def attempt() -> Swept:
        with uow_factory() as uow:
            return sweep_in(uow, clock())

    return retrying(attempt)


SYNC_RUNS_KEPT = timedelta(days=7)  # pulls that changed nothing; the rest are kept


class Swept(TypedDict):
    expired: int
    repaired: list[Drift]
    pruned_sync_runs: int


def sweep_in(uow: UnitOfWork, now: datetime) -> Swept:
    expired = expire_due(uow, now)
    uow.inventory.lock_levels()  # recount only once no allocation is half way
    repaired = uow.inventory.reconcile(promotions.locked_units(uow))
    pruned = uow.inventory.prune_quiet_pulls(now - SYNC_RUNS_KEPT)
    return {"expired": len(expired), "repaired": repaired, "pruned_sync_runs": pruned}


def availability(repo: Inventory, sku: str, quantity: int, region: str | None,
                 channel: str | None, now: datetime) -> dict[str, object]:
    """The delivery promise for ``quantity`` of ``sku``: the allocation's own plan."""
    if quantity < 1:
        raise InvalidInput("quantity must be a whole number from 1", field="quantity",
                           zh="数量应为从 1 开始的整数")
    stock = repo.stock([sku], now)
    if not stock:
        raise NotFound(f"no source has ever reported stock of SKU {sku}", field="sku",
                       zh=f"没有任何来源上报过 SKU {sku} 的库存")
    sources = repo.sources()
    strategy = repo.strategy_for(channel or "default")
    answer = inv.promise(sku, quantity, stock, sources, strategy, region, now)
    return {"sku": sku, "quantity": quantity, "region": region, "channel": channel,
            "sellable": answer.sellable, "source": answer.source, "kind": answer.kind,
            "available": sum(s.available for s in stock.values()
                             if s.source in {x.code for x in sources if x.sellable}),
            "promise": {"zh": answer.zh, "en": answer.en,
                        "date": answer.date.isoformat() if answer.date else None}}


# --- handlers ---

def _allocate_on(event: OrderEvent, uow: UnitOfWork, clock: Clock, when: str) -> None:
    if event.order_id is None:
        return
    if when == "placed":  # the event names the channel: no need to load the order first
        channel = str(event.payload.get("channel", ""))
        if uow.inventory.strategy_for(channel).allocate_on != "placed":
            return
    order = uow.orders.get(event.order_id, for_update=True)
    if order is not None:  # on payment always: allocates, or moves an order allocated at placing
        allocate_in(uow, order, clock())


def allocate_when_paid(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    # Always on payment: allocates, or (allocated at placing) moves the order to allocated.
    _allocate_on(event, uow, clock, "paid")


def allocate_when_placed(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    _allocate_on(event, uow, clock, "placed")


def release_when_cancelled(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    if event.order_id is not None:
        release_order(uow, event.order_id, clock(), "order cancelled")
        promotions.release_claims(uow, event.order_id, clock())


def confirm_when_released(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """Released to the warehouse: the reservation is the order's for good."""
    if event.order_id is None:
        return
    for a in uow.inventory.allocations_of(event.order_id, active_only=True):
        if a.reserved_until is not None:
            uow.inventory.confirm(a.id)
            uow.timers.cancel(f"inventory:reservation:{a.id}")


def consume_when_shipped(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """Shipped: the order's stock (gifts too) leaves the warehouse, reserved and on hand."""
    if event.order_id is None:
        return
    now = clock()
    for a in uow.inventory.allocations_of(event.order_id, active_only=True):
        if uow.inventory.end_allocation(a.id, "consumed", now):
            uow.timers.cancel(f"inventory:reservation:{a.id}")
            uow.inventory.consume(a.source, a.sku, a.quantity)


def _load(uow: UnitOfWork, order_id: str) -> Order:
    order: Order | None = uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound.coded("order.not_found", field="order_id", order_id=order_id)
    return order
