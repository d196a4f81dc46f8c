"""Bulk actions on many orders at once (the orders list's selection or its whole filter):
release their holds with a reason, add a tag. One transaction per order, through the
aggregate, so each order's events and outbox rows commit with its change, as for one order;
an order that fails is reported and the others go on."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from orderpilot.domain.errors import InvalidInput, NotFound, OrderpilotError
from orderpilot.domain.hold_release import check_release_reason
from orderpilot.domain.order import Order
from orderpilot.services import audit_trail
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

MAX_BULK = 5000  # orders one bulk action may touch; a larger filter must be narrowed first
TAG = re.compile(r"^[^\x00-\x1f\x7f]{1,40}$")


@dataclass
class BulkOutcome:
    changed: list[str] = field(default_factory=list)    # order ids changed
    unchanged: list[str] = field(default_factory=list)  # nothing to do (not held, tagged)
    failed: list[tuple[str, OrderpilotError]] = field(default_factory=list)


def check_size(order_ids: list[str]) -> None:
    if not order_ids:
        raise InvalidInput("order_ids: choose at least one order", field="order_ids",
                           zh="order_ids：请至少选择一个订单")
    if len(order_ids) > MAX_BULK:
        raise InvalidInput(f"order_ids: at most {MAX_BULK} orders at once; narrow the filter",
                           field="order_ids",
                           zh=f"order_ids：一次最多 {MAX_BULK} 个订单，请缩小筛选范围")


def check_tag(tag: str) -> str:
    tag = tag.strip()
    if not TAG.match(tag):
        raise InvalidInput("tag: 1-40 characters, no control characters", field="tag",
                           zh="tag：1-40 个字符，不含控制字符")
    return tag


def _each(order_ids: list[str], change: Callable[[UnitOfWork, Order], bool],
          uow_factory: UowFactory) -> BulkOutcome:
    outcome = BulkOutcome()
    for order_id in dict.fromkeys(order_ids):
        def attempt(order_id: str = order_id) -> bool:
            with uow_factory() as uow:
                order = uow.orders.get(order_id, for_update=True)
                if order is None:
                    raise NotFound.coded("order.not_found", field="order_id", order_id=order_id)
                return change(uow, order)
        try:
            (outcome.changed if retrying(attempt) else outcome.unchanged).append(order_id)
        except OrderpilotError as error:
            outcome.failed.append((order_id, error))
    return outcome


def release_holds(order_ids: list[str], reason: str, note: str, by: str,
                  uow_factory: UowFactory, clock: Clock) -> BulkOutcome:
    """Release every active hold of each order, recording the person's reason."""
    check_size(order_ids)
    check_release_reason(reason, note)

    def release(uow: UnitOfWork, order: Order) -> bool:
        now = clock()
        active = order.active_holds
        for hold in active:
            order.release_hold(hold.id, by, now, note.strip(), reason=reason)
            uow.timers.cancel(f"hold:{hold.id}:auto_release")
        if active:
            uow.orders.save(order, now)
            uow.events.append(order.events)
            audit_trail.record(uow, clock, "order.bulk_release", subject_type="order",
                               subject_id=order.id, order_id=order.id,
                               before={"held": True, "holds": [h.reason for h in active]},
                               after={"held": order.held, "release_reason": reason,
                                      "note": note.strip()})
        return bool(active)

    return _each(order_ids, release, uow_factory)


def add_tag(order_ids: list[str], tag: str, by: str, uow_factory: UowFactory,
            clock: Clock) -> BulkOutcome:
    check_size(order_ids)
    tag = check_tag(tag)

    def tag_one(uow: UnitOfWork, order: Order) -> bool:
        now = clock()
        before = list(order.tags)
        if not order.tag([tag], by, now):
            return False
        uow.orders.save(order, now)
        uow.events.append(order.events)
        audit_trail.record(uow, clock, "order.bulk_tag", subject_type="order",
                           subject_id=order.id, order_id=order.id, before={"tags": before},
                           after={"tags": list(order.tags)})
        return True

    return _each(order_ids, tag_one, uow_factory)
