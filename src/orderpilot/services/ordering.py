"""Placing orders, applying system reports, holds: each a command in one transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from orderpilot.domain.commands import (
    LineInput,
    PlaceHold,
    PlaceOrder,
    ReleaseHold,
    ReportEvent,
)
from orderpilot.domain.errors import Conflict, InvalidInput, NotFound, OrderpilotError
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.hold_release import check_release_reason
from orderpilot.domain.intake import build_order
from orderpilot.domain.money import to_cents
from orderpilot.domain.order import Hold, Order
from orderpilot.domain.order_changes import OrderChanged, changed_fields
from orderpilot.domain.times import business_time
from orderpilot.services import audit_trail, refused_reports
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

MAX_AUTO_RELEASE_MINUTES = 60 * 24 * 30


@dataclass(frozen=True)
class Placed:
    order_id: str
    created: bool
    order: Order | None = None  # the new order as stored; None when it existed already


@dataclass(frozen=True)
class Reported:
    event_id: str
    outcome: str  # moved | late | view | duplicate
    status: str


def request_fingerprint(cmd: PlaceOrder) -> str:
    """What makes two requests the same order (transport details and raw payload aside)."""
    body = {name: getattr(cmd, name) for name in _FINGERPRINTED}
    body["lines"] = [tuple(getattr(line, name) for name in _LINE_FIELDS) for line in cmd.lines]
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


_FINGERPRINTED = tuple(f.name for f in fields(PlaceOrder)
                       if f.name not in ("idempotency_key", "correlation_id", "raw_payload"))
_LINE_FIELDS = tuple(f.name for f in fields(LineInput))  # scalars: the line's astuple()


def place_order(cmd: PlaceOrder, uow_factory: UowFactory, clock: Clock) -> Placed:
    fingerprint = request_fingerprint(cmd)
    validated = [build_order(cmd, clock())]  # validate before taking the write lock

    def attempt() -> Placed:
        now = clock()
        order = validated.pop() if validated else build_order(cmd, now)
        with uow_factory() as uow:
            return seen_before(uow, cmd, order, fingerprint) or \
                add_placed(uow, cmd, order, fingerprint, now)

    return retrying(attempt)


def seen_before(uow: UnitOfWork, cmd: PlaceOrder, order: Order,
                fingerprint: str) -> Placed | None:
    """The order as already placed (by this key, or by its channel, shop and number), None
    when it is new; raises Conflict when the request reuses a key or changes the order. Only
    reads: a refusal leaves the transaction as it found it."""
    seen = uow.orders.find_existing(cmd.idempotency_key, order.channel, order.shop_id,
                                    order.external_id)
    if seen is None:
        return None
    if seen.request_hash != fingerprint:
        _same_order_or_refuse(uow, seen.id, order, cmd.idempotency_key
                              if seen.idempotency_key == cmd.idempotency_key else None)
    return Placed(seen.id, False)


def add_placed(uow: UnitOfWork, cmd: PlaceOrder, order: Order, fingerprint: str,
               now: datetime) -> Placed:
    """ORDER (new, built from CMD) stored with its raw payload and its placed event."""
    order.record("order.placed", order.channel, order.placed_at, now, placed_payload(order),
                 system="storefront", source_event_id=f"order:{order.shop_id}:"
                                                      f"{order.external_id}",
                 correlation_id=cmd.correlation_id)
    raw = cmd.raw_payload if cmd.raw_payload is not None else {}
    uow.orders.add(order, now, idempotency_key=cmd.idempotency_key, request_hash=fingerprint,
                   raw=(cmd.raw_source, cmd.raw_version, raw))
    uow.events.append(order.events)
    return Placed(order.id, True, order)


def _same_order_or_refuse(uow: UnitOfWork, order_id: str, sent: Order,
                          reused_key: str | None) -> None:
    """A request unlike the one that placed ``order_id`` (the hashes differ): the same order
    written differently passes; another order under a used key, or this order with other
    contents, is refused."""
    stored = uow.orders.get(order_id)
    if stored is None:
        return
    ref = (stored.channel, stored.shop_id, stored.external_id)
    if reused_key and ref != (sent.channel, sent.shop_id, sent.external_id):
        raise Conflict("this Idempotency-Key was already used for a different order",
                       field="Idempotency-Key", code="idempotency_key_reused",
                       zh="此 Idempotency-Key 已用于另一个订单")
    changes = changed_fields(stored, sent)
    if changes:
        raise OrderChanged(order_id, sent.external_id, changes)


def placed_payload(order: Order) -> dict[str, object]:
    return {"channel": order.channel, "shop_id": order.shop_id,
            "external_id": order.external_id, "currency": order.currency,
            "total": str(order.total), "total_cents": to_cents(order.total),
            "lines": len(order.lines), "skus": [ln.sku for ln in order.lines],
            "tags": order.tags, "address_flags": list(order.shipping_address.flags)}


def report_event(cmd: ReportEvent, uow_factory: UowFactory, clock: Clock) -> Reported:
    business_time(cmd.occurred_at, "occurred_at")

    def attempt() -> Reported:
        now = clock()
        with uow_factory() as uow:
            if cmd.source_event_id:
                seen: OrderEvent | None = uow.events.find_by_source(cmd.source,
                                                                    cmd.source_event_id)
                if seen is not None:
                    if seen.order_id != cmd.order_id:
                        raise Conflict(f"{cmd.source} event {cmd.source_event_id} was already "
                                       f"recorded for another order", field="source_event_id",
                                       zh=f"{cmd.source} 事件 {cmd.source_event_id} "
                                          "已记录在另一个订单上")
                    order = _load(uow, cmd.order_id)
                    uow.events.record_duplicate(cmd.source, cmd.source_event_id, order.id, now)
                    return Reported(seen.id, "duplicate", order.status)
            order = _load(uow, cmd.order_id, for_update=True)
            outcome = order.report(cmd.type, cmd.source, cmd.occurred_at, now, cmd.data,
                                   source_event_id=cmd.source_event_id,
                                   causation_id=cmd.causation_id,
                                   correlation_id=cmd.correlation_id)
            event_id = order.events[-1].id
            uow.orders.save(order, now)
            uow.events.append(order.events)
            return Reported(event_id, outcome, order.status)

    try:
        return retrying(attempt)
    except OrderpilotError as error:  # refused: kept for people to see, then answered as is
        refused_reports.keep_refusal(uow_factory, clock, error, order_id=cmd.order_id,
                                     event_type=cmd.type, source=cmd.source,
                                     source_event_id=cmd.source_event_id, data=cmd.data)
        raise


def place_hold(cmd: PlaceHold, uow_factory: UowFactory, clock: Clock) -> Hold:
    minutes = cmd.release_after_minutes
    if minutes is not None and not 0 < minutes <= MAX_AUTO_RELEASE_MINUTES:
        raise InvalidInput(f"release_after_minutes must be between 1 and "
                           f"{MAX_AUTO_RELEASE_MINUTES}", field="release_after_minutes",
                           zh=f"release_after_minutes 应在 1 到 {MAX_AUTO_RELEASE_MINUTES} 之间")

    def attempt() -> Hold:
        now = clock()
        with uow_factory() as uow:
            order = _load(uow, cmd.order_id, for_update=True)
            held_before = order.held
            release_at = now + timedelta(minutes=minutes) if minutes else None
            hold = order.place_hold(cmd.reason, cmd.note, cmd.placed_by, cmd.placed_by_kind,
                                    now, release_at)
            if release_at is not None:
                uow.timers.schedule(f"hold:{hold.id}:auto_release", "hold.auto_release",
                                    release_at, {"order_id": order.id, "hold_id": hold.id,
                                                 "placed_event_id": order.events[-1].id},
                                    now, order_id=order.id)
            uow.orders.save(order, now)
            uow.events.append(order.events)
            audit_trail.record(uow, clock, "hold.place", subject_type="hold", subject_id=hold.id,
                               order_id=order.id, before={"held": held_before},
                               after={"held": True, "reason": hold.reason, "note": hold.note})
            return hold

    return retrying(attempt)


def release_hold(cmd: ReleaseHold, uow_factory: UowFactory, clock: Clock) -> Hold:
    """A person releases a hold: with a reason from the list (and a note for "other")."""
    check_release_reason(cmd.reason, cmd.note)

    def attempt() -> Hold:
        with uow_factory() as uow:
            return release_hold_in(uow, cmd, clock)

    return retrying(attempt)


def release_hold_in(uow: UnitOfWork, cmd: ReleaseHold, clock: Clock) -> Hold:
    """Release inside an open unit of work (used by the auto-release timer too)."""
    now = clock()
    order = _load(uow, cmd.order_id, for_update=True)
    released = order.release_hold(cmd.hold_id, cmd.released_by, now, cmd.note,
                                  cmd.causation_id, reason=cmd.reason)
    if released is not None:
        uow.timers.cancel(f"hold:{released.id}:auto_release")
        uow.orders.save(order, now)
        uow.events.append(order.events)
        audit_trail.record(uow, clock, "hold.release", subject_type="hold",
                           subject_id=released.id, order_id=order.id,
                           before={"held": True, "reason": released.reason},
                           after={"held": order.held, "release_reason": cmd.reason,
                                  "note": cmd.note})
        return released
    return next(h for h in order.holds if h.id == cmd.hold_id)


def _load(uow: UnitOfWork, order_id: str, *, for_update: bool = False) -> Order:
    order: Order | None = uow.orders.get(order_id, for_update=for_update)
    if order is None:
        raise NotFound.coded("order.not_found", field="order_id", order_id=order_id)
    return order
