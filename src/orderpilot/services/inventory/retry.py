"""Retrying the allocation of orders held out of stock: when stock arrives (a timer per SKU,
oldest orders first, first-fit within what is sellable) and when a person asks (one order, a
list of orders, or every order waiting for a SKU).

First-fit in age order: the orders wanting the SKU are tried oldest first (placed_at, then
seq); one that does not fit what is left is skipped and stays held, and the next one, which
may be smaller, is tried. Strict FIFO would leave the 3 units unsold behind an order for 5.
Allocation itself is the existing one (``allocation.allocate_in``): it takes stock with a
conditional UPDATE, so no retry can oversell, and releases the ``out_of_stock`` hold on success.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from orderpilot.domain import inventory as inv
from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.domain.records import JsonObject, text
from orderpilot.services import audit_trail
from orderpilot.services.inventory.allocation import AllocationResult, allocate_in
from orderpilot.services.inventory.stock_arrivals import RETRY_TIMER
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

log = structlog.get_logger("orderpilot.inventory.retry")

PER_WAKE_UP = 200  # orders tried per wake-up; a wake-up that stops short re-arms itself
MAX_ORDERS = 500  # orders per request of the bulk retry


def retry_order(order_id: str, uow_factory: UowFactory, clock: Clock) -> AllocationResult:
    """A person retries one order's allocation: allocated, or still out of stock with what is
    short. Recorded in the audit trail (``allocation.retry``) in the same transaction."""
    def attempt() -> AllocationResult:
        with uow_factory() as uow:
            return retry_in(uow, order_id, clock)

    return retrying(attempt)


def retry_in(uow: UnitOfWork, order_id: str, clock: Clock) -> AllocationResult:
    """Retry one order's allocation inside an open unit of work (the workbench's bulk
    "retry allocation" runs its whole selection in one), recorded in the audit trail."""
    order = uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound.coded("order.not_found", field="order_id", order_id=order_id)
    before = {"status": order.status, "held": order.held,
              "holds": sorted(h.reason for h in order.active_holds)}
    result = allocate_in(uow, order, clock())
    audit_trail.record(uow, clock, "allocation.retry", subject_type="order",
                       subject_id=order.id, order_id=order.id, before=before,
                       after={"outcome": result.outcome, "status": order.status,
                              "held": order.held, "short": result.short})
    return result


def retry_orders(order_ids: Sequence[str], uow_factory: UowFactory,
                 clock: Clock) -> list[AllocationResult]:
    """Retry several orders (the exceptions workbench's bulk bar): each in its own unit of work,
    oldest first, each recorded in the audit trail. An unknown id answers ``not_found`` in its
    place instead of stopping the others."""
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        raise InvalidInput("order_ids is empty", field="order_ids", zh="order_ids 为空")
    if len(ids) > MAX_ORDERS:
        raise InvalidInput(f"at most {MAX_ORDERS} orders per retry", field="order_ids",
                           zh=f"每次最多重试 {MAX_ORDERS} 个订单")
    results = []
    for order_id in _oldest_first(ids, uow_factory):
        try:
            results.append(retry_order(order_id, uow_factory, clock))
        except NotFound:
            results.append(AllocationResult(order_id, "not_found"))
    return results


def retry_sku(sku: str, uow_factory: UowFactory, clock: Clock,
              limit: int = PER_WAKE_UP) -> list[AllocationResult]:
    """A person retries every order waiting for ``sku`` (at most ``limit``), oldest first."""
    if not inv.CODE.match(sku or ""):
        raise InvalidInput("sku is 1-64 letters, digits, _ . -", field="sku",
                           zh="sku 为 1-64 个字母、数字、_ . -")
    with uow_factory() as uow:
        waiting = uow.inventory.waiters.oldest(sku, limit)
    return [retry_order(w.order_id, uow_factory, clock) for w in waiting]


def _oldest_first(ids: list[str], uow_factory: UowFactory) -> list[str]:
    with uow_factory() as uow:
        known = {o.id: (o.placed_at, o.id) for o in (uow.orders.get(i) for i in ids)
                 if o is not None}
    return sorted(known, key=known.__getitem__) + [i for i in ids if i not in known]


def on_stock_arrived(payload: JsonObject, uow: UnitOfWork, clock: Clock) -> None:
    """Timer ``inventory.stock_retry``: allocate the orders waiting for the SKU, oldest first,
    as long as some of it is sellable. Each order runs in a savepoint of the timer's
    transaction: one that fails is rolled back alone and stays held. The timer commits with its
    inbox mark, so a worker killed half way leaves the whole wake-up to be done again, and an
    order allocated once is no longer waiting: a replay allocates nothing twice."""
    now = clock()
    sku = text(payload, "sku")
    after = _cursor(payload)
    waiting = uow.inventory.waiters.oldest(sku, PER_WAKE_UP + 1, after)
    sellable = {s.code for s in uow.inventory.sources() if s.sellable}
    needs = uow.inventory.waiters.needs([w.order_id for w in waiting[:PER_WAKE_UP]])
    skus = sorted({s for wanted in needs.values() for s in wanted} | {sku})
    allocated, tried, available = 0, 0, _available(uow, skus, sellable, now)
    for w in waiting[:PER_WAKE_UP]:
        if available.get(sku, 0) <= 0:  # the next rise wakes the rest
            return
        if not _fits(needs.get(w.order_id, {}), available):  # skipped, as allocation would
            continue
        tried += 1
        try:
            with uow.savepoint():
                order = uow.orders.get(w.order_id, for_update=True)
                if order is not None and allocate_in(uow, order, now).outcome == "allocated":
                    allocated += 1
                    available = _available(uow, skus, sellable, now)
        except Exception:  # one order's failure must not keep the others waiting
            log.exception("stock_retry_failed", order_id=w.order_id, sku=sku)
    if len(waiting) > PER_WAKE_UP:  # more wait: carry on in another wake-up
        last = waiting[PER_WAKE_UP - 1]
        uow.timers.schedule(f"inventory:stock_retry:{sku}:{now.isoformat()}:{last.seq}",
                            RETRY_TIMER, now, {"sku": sku, "after_placed_at":
                                               last.placed_at.isoformat(),
                                               "after_seq": last.seq}, now)
    log.info("stock_retry", sku=sku, waiting=min(len(waiting), PER_WAKE_UP), tried=tried,
             allocated=allocated)


def _cursor(payload: JsonObject) -> tuple[datetime, int] | None:
    placed_at, seq = payload.get("after_placed_at"), payload.get("after_seq")
    if not isinstance(placed_at, str) or not isinstance(seq, int):
        return None
    return datetime.fromisoformat(placed_at), seq


def _available(uow: UnitOfWork, skus: Sequence[str], sources: set[str],
               now: datetime) -> dict[str, int]:
    """Units of each tracked SKU sellable now, over the sellable sources."""
    found: dict[str, int] = {}
    for s in (uow.inventory.stock(list(skus), now) or {}).values():
        found[s.sku] = found.get(s.sku, 0) + (max(s.available, 0) if s.source in sources
                                              else 0)
    return found


def _fits(wanted: dict[str, int], available: dict[str, int]) -> bool:
    """Whether every tracked SKU the order wants is sellable in that many units (an order
    wanting more cannot be allocated, whatever its channel's strategy allows; a SKU no source
    reports is not the hub's to count)."""
    return all(units <= available[sku] for sku, units in wanted.items() if sku in available)
