"""Promotion quotas (S6): "the first 100 orders get a free sample".

Starting a promotion locks quota x gift_quantity units of the gift at one source. A qualifying
order (contains the trigger SKU, placed while the promotion is live, channel if set) claims one
slot: the claimed counter goes up only while below quota, and the gift becomes an allocation of
the order out of the locked units. Cancelling gives the slot back; ending gives back the units
nobody claimed. Every step emits an event the rules can act on (ERP pre-allocation, CRM tag).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from orderpilot.domain.errors import Conflict, InvalidInput, NotFound
from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.inventory import CODE
from orderpilot.domain.inventory_records import ACTIVE, Allocation, Promotion
from orderpilot.services import audit_trail
from orderpilot.services.repositories import Inventory
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying


@dataclass(frozen=True)
class NewPromotion:
    name: str
    trigger_sku: str
    gift_sku: str
    gift_source: str
    quota: int
    gift_quantity: int = 1
    channel: str | None = None


class _QuotaGone(Exception):
    pass


def create(cmd: NewPromotion, uow_factory: UowFactory, clock: Clock) -> str:
    if not cmd.name.strip():
        raise InvalidInput("name is required", field="name",
                           zh="名称必填")
    if not 1 <= cmd.quota <= 1_000_000:
        raise InvalidInput("quota must be a whole number from 1", field="quota",
                           zh="名额应为从 1 开始的整数")
    if not 1 <= cmd.gift_quantity <= 1000:
        raise InvalidInput("gift_quantity must be 1-1000", field="gift_quantity",
                           zh="gift_quantity 应为 1-1000")
    for name in ("trigger_sku", "gift_sku"):
        if not CODE.match(getattr(cmd, name)):
            raise InvalidInput(f"{name} is 1-64 letters, digits, _ . -", field=name,
                               zh=f"{name} 为 1-64 个字母、数字、_ . -")
    promotion_id = new_id()
    with uow_factory() as uow:
        if uow.inventory.source(cmd.gift_source) is None:
            raise InvalidInput(f"unknown source {cmd.gift_source!r}", field="gift_source",
                               zh=f"未知的库存来源 {cmd.gift_source!r}")
        uow.inventory.promotions.add({
            "id": promotion_id, "name": cmd.name.strip(), "trigger_sku": cmd.trigger_sku,
            "gift_sku": cmd.gift_sku, "gift_source": cmd.gift_source, "quota": cmd.quota,
            "gift_quantity": cmd.gift_quantity, "channel": cmd.channel or None,
            "created_at": clock()})
        audit_trail.record(uow, clock, "promotion.create", subject_type="promotion",
                           subject_id=promotion_id, after={"name": cmd.name.strip(),
                                                           "quota": cmd.quota,
                                                           "status": "draft"})
    return promotion_id


def start(promotion_id: str, uow_factory: UowFactory, clock: Clock) -> None:
    """Lock the whole quota at once; refused (nothing locked) if the source lacks it."""
    def attempt() -> None:
        with uow_factory() as uow:
            now = clock()
            p = _get(uow, promotion_id)
            if p.status != "draft":
                raise Conflict(f"the promotion is {p.status}; only a draft can start",
                               field="status", code="promotion_not_draft",
                               zh=f"促销状态为 {p.status}，只有草稿可以开始")
            units = p.quota * p.gift_quantity
            source = uow.inventory.source(p.gift_source)
            if source is None or uow.inventory.take(source, p.gift_sku, units) is None:
                raise Conflict(f"{p.gift_source} has fewer than {units} free units of "
                               f"{p.gift_sku}", field="quota", code="not_enough_stock",
                               zh=f"{p.gift_source} 中 {p.gift_sku} 的可用库存少于 {units} 件")
            uow.inventory.promotions.set_status(p.id, "draft", "live", now)
            audit_trail.record(uow, clock, "promotion.start", subject_type="promotion",
                               subject_id=p.id, before={"status": "draft"},
                               after={"status": "live", "locked": units})
            uow.events.append([_event(None, "promotion.started", now, p, {"locked": units})])

    retrying(attempt)


def end(promotion_id: str, uow_factory: UowFactory, clock: Clock) -> None:
    def attempt() -> None:
        with uow_factory() as uow:
            now = clock()
            p = _get(uow, promotion_id, for_update=True)
            if p.status == "ended":
                return
            if p.status == "live":
                unused = (p.quota - p.claimed) * p.gift_quantity
                if unused:
                    uow.inventory.give_back(p.gift_source, p.gift_sku, unused)
            uow.inventory.promotions.set_status(p.id, p.status, "ended", now)
            audit_trail.record(uow, clock, "promotion.end", subject_type="promotion",
                               subject_id=p.id, before={"status": p.status},
                               after={"status": "ended"})
            uow.events.append([_event(None, "promotion.ended", now, p,
                                      {"claimed": p.claimed, "quota": p.quota})])

    retrying(attempt)


def claim_gifts(uow: UnitOfWork, order_id: str, channel: str, skus: list[str],
                placed_at: datetime, now: datetime) -> list[str]:
    """Claim every live promotion the order qualifies for; the ids claimed."""
    claimed = []
    for p in uow.inventory.promotions.live_for(sorted(set(skus))):
        if p.channel and p.channel != channel:
            continue
        if p.started_at is None or placed_at < p.started_at:
            continue
        try:
            with uow.savepoint():
                if not uow.inventory.promotions.add_claim(p.id, order_id, p.gift_sku,
                                                          p.gift_quantity, now):
                    continue  # this order already has it
                if not uow.inventory.promotions.bump_claimed(p.id):
                    raise _QuotaGone
        except _QuotaGone:
            continue
        uow.inventory.add_allocations([Allocation(
            new_id(), order_id, None, p.id, p.gift_sku, p.gift_source, p.gift_quantity,
            ACTIVE, None, now, None)])
        uow.events.append([_event(order_id, "promotion.claimed", now, p,
                                  {"order_id": order_id, "quantity": p.gift_quantity,
                                   "channel": channel})])
        claimed.append(p.id)
    return claimed


def claim_for_order(order_id: str, uow_factory: UowFactory, clock: Clock) -> list[str]:
    """The direct call (tests, benchmark): what the order.placed handler does."""
    def attempt() -> list[str]:
        with uow_factory() as uow:
            order = uow.orders.get(order_id)
            if order is None:
                raise NotFound.coded("order.not_found", field="order_id", order_id=order_id)
            return claim_gifts(uow, order.id, order.channel, [ln.sku for ln in order.lines],
                               order.placed_at, clock())

    return retrying(attempt)


def claim_when_placed(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    if event.order_id is not None:
        claim_gifts(uow, event.order_id, str(event.payload.get("channel", "")),
                    list(event.payload.get("skus", [])), event.occurred_at, clock())


def return_to_pool(uow: UnitOfWork, allocation: Allocation, now: datetime) -> bool:
    """A released gift of a live promotion goes back to its quota (the units stay locked);
    False when the promotion is over, so the caller gives the units back to stock."""
    if allocation.promotion_id is None:
        return False
    p = uow.inventory.promotions.get(allocation.promotion_id)
    return p is not None and p.status == "live"


def release_claims(uow: UnitOfWork, order_id: str, now: datetime) -> None:
    for claim in uow.inventory.promotions.claims_of_order(order_id):
        if not uow.inventory.promotions.release_claim(claim.promotion_id, order_id, now):
            continue
        p = uow.inventory.promotions.get(claim.promotion_id)
        if p is None:  # promotions are never deleted, and the claim points at one
            continue
        if p.status == "live":
            uow.inventory.promotions.drop_claimed(p.id)
        uow.events.append([_event(order_id, "promotion.released", now, p,
                                  {"order_id": order_id, "quantity": claim.quantity})])


def locked_units(uow: UnitOfWork) -> dict[tuple[str, str], int]:
    """Units live promotions hold beyond what their claims turned into allocations."""
    locks: dict[tuple[str, str], int] = {}
    for p in uow.inventory.promotions.live():
        key = (p.gift_source, p.gift_sku)
        locks[key] = locks.get(key, 0) + (p.quota - p.claimed) * p.gift_quantity
    return locks


def board(repo: Inventory, promotion_id: str) -> dict[str, object]:
    """The live board: claimed, remaining, and the orders that got the gift."""
    p = repo.promotions.get(promotion_id)
    if p is None:
        raise NotFound.coded("promotion.not_found", field="id", promotion_id=promotion_id)
    claims = repo.promotions.claims(promotion_id)
    return {**present(p), "orders": [
        {"order_id": c.order_id, "channel": c.channel, "external_id": c.external_id,
         "order_status": c.order_status, "quantity": c.quantity, "status": c.status,
         "claimed_at": c.claimed_at.isoformat()} for c in claims]}


def present(p: Promotion) -> dict[str, object]:
    return {"id": p.id, "name": p.name, "trigger_sku": p.trigger_sku, "gift_sku": p.gift_sku,
            "gift_source": p.gift_source, "gift_quantity": p.gift_quantity, "quota": p.quota,
            "claimed": p.claimed, "remaining": max(0, p.quota - p.claimed) if p.status != "ended"
            else 0, "channel": p.channel, "status": p.status,
            "started_at": p.started_at.isoformat() if p.started_at else None,
            "ended_at": p.ended_at.isoformat() if p.ended_at else None}


def _get(uow: UnitOfWork, promotion_id: str, *, for_update: bool = False) -> Promotion:
    p = uow.inventory.promotions.get(promotion_id, for_update=for_update)
    if p is None:
        raise NotFound.coded("promotion.not_found", field="id", promotion_id=promotion_id)
    return p


def _event(order_id: str | None, type_: str, now: datetime, p: Promotion,
           extra: dict[str, object]) -> OrderEvent:
    return OrderEvent(order_id, type_, "hub", now, now,
                      {"promotion": p.id, "name": p.name, "gift_sku": p.gift_sku,
                       "source": p.gift_source, **extra})
