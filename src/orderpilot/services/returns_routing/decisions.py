"""Ops decide a return that could not be routed (S7): they pick the return centre, or, after
fixing the policy or the shipment, have it routed again by the policy.

One transaction: the decision on the route (who, when, their note), the order's
``return_decision_required`` holds released, and ``return.route_decided`` recorded on the
order, which the rule template 退货路由:人工决定后 (``return-route-decided``) handles: it books
the pickup and texts the buyer, exactly once, like the routing itself. Only a route that still
needs a decision takes one, so a second click answers 409 and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from orderpilot.domain.errors import Conflict, InvalidInput, NotFound
from orderpilot.domain.events import new_id
from orderpilot.domain.return_routing import HOLD_REASON, ROUTE_DECIDED
from orderpilot.services import audit_trail
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

RELEASE_REASON = "address_fixed"


@dataclass(frozen=True)
class DecideRoute:
    return_id: str
    by: str
    return_centre: str | None = None  # None with retry: route again by the policy
    retry: bool = False
    note: str = ""


def _check(cmd: DecideRoute) -> None:
    if cmd.retry == bool(cmd.return_centre):
        raise InvalidInput('give either "return_centre" (the centre a person picked) or '
                           '"retry": true (route again by the policy), not both',
                           field="return_centre",
                           zh='请二选一：指定 "return_centre"（人工选择的退货中心）或 '
                              '"retry": true（按退货政策重新路由）')


def _has_rule(uow: UnitOfWork) -> bool:
    """Whether an enabled rule starts on return.route_decided (else nothing would book)."""
    for rule in uow.rules.active():
        trigger = rule.definition.get("trigger")
        if isinstance(trigger, dict) and trigger.get("event") == ROUTE_DECIDED:
            return True
    return False


def decide_route(cmd: DecideRoute, uow_factory: UowFactory, clock: Clock) -> str:
    """Take the decision; returns the order's id."""
    _check(cmd)

    def attempt() -> str:
        now = clock()
        with uow_factory() as uow:
            store = uow.return_routing
            route = store.route(cmd.return_id)
            if route is None:
                if uow.returns.get(cmd.return_id) is None:
                    raise NotFound(f"no return {cmd.return_id}", field="return_id",
                                   code="return_not_found", zh=f"没有退货单 {cmd.return_id}")
                raise Conflict("the return has not been routed yet: nothing to decide",
                               code="return_not_awaiting_decision",
                               zh="退货单尚未路由，无需人工决定")
            if not route["decision_required"]:
                raise Conflict(f"the return does not need a decision (route "
                               f"{route['status']}); nothing was changed",
                               code="return_not_awaiting_decision",
                               zh=f"退货单无需人工决定（路由状态 {route['status']}），未做任何更改")
            centre = None
            if cmd.return_centre:
                centre = store.centre(cmd.return_centre)
                if centre is None:
                    raise InvalidInput(f"unknown return centre {cmd.return_centre!r}",
                                       field="return_centre",
                                       zh=f"未知的退货中心 {cmd.return_centre!r}")
            if not _has_rule(uow):
                raise Conflict("no enabled rule handles return.route_decided: install the "
                               "template return-route-decided first, or nothing would book "
                               "the pickup", code="no_rule_for_route_decisions",
                               zh="没有启用的规则处理“退货路由已人工决定”：请先安装规则模板"
                                  "“退货路由:人工决定后预约取件”，否则无人预约取件")
            order_id = str(route["order_id"])
            order = uow.orders.get(order_id, for_update=True)
            if order is None:
                raise NotFound(f"no order {order_id}", field="order_id",
                               code="order_not_found", zh=f"没有订单 {order_id}")
            if not store.take_decision(cmd.return_id, centre, cmd.by, cmd.note, now):
                raise Conflict("the return was decided a moment ago; nothing was changed",
                               code="return_not_awaiting_decision",
                               zh="退货单刚刚已被人工决定，未做任何更改")
            for hold in order.active_holds:
                if hold.reason == HOLD_REASON and order.release_hold(
                        hold.id, cmd.by, now, cmd.note, reason=RELEASE_REASON) is not None:
                    uow.timers.cancel(f"hold:{hold.id}:auto_release")
            data: dict[str, object] = {"return_id": cmd.return_id, "retry": cmd.retry,
                                       "return_centre": centre.code if centre else None,
                                       "by": cmd.by}
            if cmd.note:
                data["note"] = cmd.note
            order.report(ROUTE_DECIDED, "hub", now, now, data,
                         source_event_id=f"{cmd.return_id}:route_decided:{new_id()}")
            uow.orders.save(order, now)
            uow.events.append(order.events)
            audit_trail.record(uow, clock, "return.route", subject_type="return",
                               subject_id=cmd.return_id, order_id=order_id,
                               before={"route": route["status"], "decision_required": True},
                               after={"return_centre": centre.code if centre else None,
                                      "retry": cmd.retry, "held": order.held},
                               detail={"note": cmd.note} if cmd.note else None)
            return order_id

    return retrying(attempt)
