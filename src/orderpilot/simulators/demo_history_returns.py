"""The demo history's returns, played through the returns service on the simulated clock.

* The return centres and the policy (demo_returns_plan.py) are saved through the registers the
  API uses (services/returns_routing/registers.py) before the first order of the history.
* A buyer's request (``return.requested`` in the plan, from the channel) is taken with
  ``returns.request_return`` (its reasons classified by the hub when only text is given), then
  routed **the way the 退货路由 rule's ``return.route`` step routes** (the order's last
  waybill, its outlet, the current policy version, ``domain.return_routing.decide``, written
  with the return-routing store, the typed address kept for audit). The history does not run
  the rule runner (the rules are installed once the history is in), so SF is not asked: the
  pickup is recorded when the staff book it (``pickup_booked``).
* The staff's moves (approve, pickup booked, in transit, received, inspected, refunded,
  closed) go through ``returns.move_return``.
* Returns that cannot be routed (an outlet the policy lacks, a waybill without outlet) stay
  requested; at the end of the history their orders are held for a decision as the rule's
  branch holds them (reason ``return_decision_required``, the route's reason as a note read in
  the reader's language), so they show in the exceptions
  queue. (Held at the end, not at the request: a hold would refuse the ERP's later reports.)
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from orderpilot.domain.address import Address
from orderpilot.domain.commands import PlaceHold
from orderpilot.domain.messages import bilingual_note
from orderpilot.domain.return_routing import HOLD_REASON, decide, pickup_start
from orderpilot.services import ordering
from orderpilot.services import returns as returns_service
from orderpilot.services.returns_routing import registers
from orderpilot.services.unit_of_work import Clock
from orderpilot.simulators import demo_returns_plan as plan

if TYPE_CHECKING:
    from orderpilot.bootstrap import Hub
    from orderpilot.simulators.demo_history_plan import Report

BY = "demo"
RESTOCK_TO = "HZ-DOMESTIC"  # the domestic warehouse takes restockable returns back


def install_registers(hub: Hub, clock: Clock) -> int | None:
    """The three centres and the policy, once (a policy already there is left as ops keep it);
    the policy's version, or None when one existed."""
    with hub.uow() as uow:
        version, _ = uow.return_routing.current_policy()
    if version is not None:
        return None
    for code, body in plan.CENTRES.items():
        registers.put_centre(hub.uow, clock, code, body, BY)
    rows = [{"outlet_code": o, "return_centre": c} for o, c in sorted(plan.POLICY.items())]
    return registers.replace_policy(hub.uow, clock, rows, BY)[0]


@dataclass
class Played:
    """What the hub answered to the history's returns."""

    ids: dict[int, str] = field(default_factory=dict)  # story number -> return id
    order_of: dict[str, str] = field(default_factory=dict)  # return id -> order id
    partial: set[str] = field(default_factory=set)
    reasons_from: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    routed: dict[str, bool] = field(default_factory=dict)  # return id -> typed address right
    unroutable: dict[str, str] = field(default_factory=dict)  # return id -> reason
    status: dict[str, str] = field(default_factory=dict)
    refunds: dict[str, tuple[str, int]] = field(default_factory=dict)  # id -> (currency, cents)
    held: list[str] = field(default_factory=list)  # order ids held for a decision

    def truth(self) -> dict[str, Any]:
        amounts: Counter[str] = Counter()
        for currency, cents in self.refunds.values():
            amounts[currency] += cents
        right = sum(self.routed.values())
        return {
            "count": len(self.ids), "partial": len(self.partial),
            "by_status": dict(sorted(Counter(self.status.values()).items())),
            "reasons_from": dict(sorted(self.reasons_from.items())),
            "by_reason": dict(sorted(self.by_reason.items())),
            "routed": len(self.routed), "typed_address_right": right,
            "typed_address_accuracy": round(right / len(self.routed), 4) if self.routed else None,
            "unroutable": {"count": len(self.unroutable),
                           "return_ids": sorted(self.unroutable),
                           "order_ids": sorted(self.order_of[r] for r in self.unroutable),
                           "reasons": dict(sorted(Counter(self.unroutable.values()).items()))},
            "held_for_decision": sorted(self.held),
            "refunded": {"count": len(self.refunds),
                         "amount": {c: f"{n / 100:.2f}" for c, n in sorted(amounts.items())}},
        }


def take(hub: Hub, clock: Clock, number: int, order_id: str, report: Report,
         played: Played) -> str:
    """The buyer's request through the returns service, then its route; the event's outcome."""
    data = report.data
    typed = data.get("customer_address")
    taken = returns_service.request_return(returns_service.RequestReturn(
        order_id, [(ln["sku"], int(ln["quantity"])) for ln in data["lines"]],
        tuple(data["reason_tags"]), str(data["reason_text"]), report.source,
        report.source_event_id, Address.normalised(**typed) if typed else None,
        requested_by=report.source), hub.uow, clock)
    ret = taken.ret
    played.ids[number], played.order_of[ret.id] = ret.id, order_id
    played.status[ret.id] = ret.status
    played.reasons_from[ret.reasons_from] += 1
    played.by_reason.update(ret.reason_tags)
    _route(hub, clock, ret.id, order_id, ret.customer_address, played)
    with hub.uow() as uow:
        order = uow.orders.get(order_id)
        shipped = {ln.sku: ln.quantity for ln in order.lines} if order else {}
    if sum(ln.quantity for ln in ret.lines) < sum(shipped.values()):
        played.partial.add(ret.id)
    return "recorded"


def _route(hub: Hub, clock: Clock, return_id: str, order_id: str, typed: Any,
           played: Played) -> None:
    """As ``return.route`` writes it (integrations/sf_express/return_actions.py ``_settle``)."""
    with hub.uow() as uow:
        store = uow.return_routing
        shipment = store.last_shipment(order_id)
        version, policy = store.current_policy()
        outlet = shipment.outlet_code if shipment else None
        centre_code = policy.get(outlet) if outlet else None
        centre = store.centre(centre_code) if centre_code else None
        decision = decide(shipment, outlet, version, centre_code, centre)
        store.save_route(return_id, order_id, shipment, decision, typed, clock())
    if decision.exception is not None:
        played.unroutable[return_id] = decision.exception.reason
    else:
        assert centre is not None
        played.routed[return_id] = typed == centre.address


def move(hub: Hub, clock: Clock, number: int, report: Report, played: Played) -> str | None:
    """A staff move on the story's return (None: the story has no return in the hub)."""
    return_id = played.ids.get(number)
    if return_id is None:
        return None
    target = str(report.data["target"])
    data: dict[str, Any] = {}
    inspection = None
    if target == "pickup_booked":
        data = _book_pickup(hub, clock, return_id)
    elif target == "inspected":
        lines = {sku: (int(r), int(d)) for sku, (r, d) in report.data["inspection"].items()}
        inspection = returns_service.Inspection(lines, RESTOCK_TO)
    ret = returns_service.move_return(returns_service.Move(return_id, target, "ops", data=data),
                                      hub.uow, clock, inspection)
    played.status[return_id] = ret.status
    if target == "refunded" and ret.refund_cents is not None:
        with hub.uow() as uow:
            order = uow.orders.get(ret.order_id)
        played.refunds[return_id] = (order.currency if order else "", ret.refund_cents)
    return "recorded"


def _book_pickup(hub: Hub, clock: Clock, return_id: str) -> dict[str, Any]:
    """The pickup as SF's reverse order would give it: a waybill and the next window."""
    now = clock()
    start = pickup_start(now)
    end = start + timedelta(hours=2)
    digits = int(hashlib.sha256(return_id.encode()).hexdigest()[:12], 16) % 10**13
    waybill = f"SF{digits:013d}"
    with hub.uow() as uow:
        uow.return_routing.record_pickup(return_id, waybill, start, end, now)
        route = uow.return_routing.route(return_id) or {}
    return {"carrier": "sf", "waybill": waybill,
            "pickup_window": {"start": _iso(start), "end": _iso(end)},
            "address": route.get("address")}


def _iso(at: datetime) -> str:
    return at.isoformat()


def hold_undecided(hub: Hub, clock: Clock, played: Played) -> None:
    """Orders whose return is still waiting for a decision are held, as the rule holds them."""
    with hub.uow() as uow:
        waiting = {}
        for return_id in played.unroutable:
            route = uow.return_routing.route(return_id) or {}
            ret = uow.returns.get(return_id)
            if ret is not None and ret.status == "requested":
                waiting[ret.order_id] = bilingual_note(str(route.get("exception_en")),
                                                       str(route.get("exception_zh")))
    for order_id, note in sorted(waiting.items()):
        ordering.place_hold(PlaceHold(order_id, HOLD_REASON, note, "return-routing",
                                      "rule"), hub.uow, clock)
        played.held.append(order_id)
