"""The return-routing rule actions SF Express declares (S7):

* 退货路由 ``return.route``: the order's last waybill -> its outlet (网点) -> the return
  centre the current policy names -> that centre's address, written as the return's route with
  the customer's own address kept for audit. The outlet recorded on the waybill is used;
  when none is, SF's route query is asked (a question: asking again changes nothing at SF).
  No shipment, no outlet, no policy row or an unknown centre: outcome ``decision_required``,
  never a default address.
* 预约退货上门取件 ``carrier.book_return_pickup``: EXP_RECE_CREATE_REVERSE_ORDER, exactly once
  (SF's orderId is "RT" + the return id; an attempt whose outcome is unknown is looked up with
  EXP_RECE_SEARCH_ORDER_RESP before any resend). SF refusing the pickup is outcome ``refused``.
  A booking reports ``return.pickup_booked`` on the order when the lifecycle knows that type.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from orderpilot.domain import lifecycle
from orderpilot.domain.errors import PermanentError, TransientError
from orderpilot.domain.return_routing import (
    LastShipment,
    address_text,
    decide,
    pickup_start,
    window_text,
)
from orderpilot.domain.rules.actions import ActionType, Outcome, param
from orderpilot.domain.rules.actions import Output as Shown
from orderpilot.integrations.sf_express.client import SfError
from orderpilot.integrations.sf_express.returns import BookedPickup, ReturnPickup
from orderpilot.services.rules.actions.base import (
    Answer,
    Cached,
    Found,
    Output,
    Outside,
    Params,
    RuleAction,
    StepCall,
    StepRefused,
    save,
)
from orderpilot.services.unit_of_work import UnitOfWork

SF_CARRIERS = frozenset({"sf", "sf_express", "shunfeng"})
PICKUP_BOOKED = "return.pickup_booked"


class SfReturns(Protocol):
    def outlet_of(self, waybill: str) -> str | None: ...
    def book_return_pickup(self, pickup: ReturnPickup) -> BookedPickup: ...
    def find_return_pickup(self, order_id: str) -> BookedPickup | None: ...


@dataclass(frozen=True)
class Said:
    """An answer (CallResult's shape) built here: from the SF client, or from the hub when
    nothing had to be asked."""

    request: dict[str, Any]
    response: Any
    latency_ms: float = 0.0
    status_code: int | None = None
    output: dict[str, Any] = field(default_factory=dict)
    found: bool = True

    @property
    def stored_response(self) -> Any:
        return self.response


def _sf(outside: Outside) -> SfReturns:
    found: Any = outside.client("sf_express")
    return found  # type: ignore[no-any-return]


def _return_id(call: StepCall) -> str:
    value = str(call.params.get("return_id") or "").strip()
    if not value or len(value) > 64:
        raise StepRefused("the step needs the return id (event.data.return_id)",
                          field="return_id", zh="此步骤需要退货单号（event.data.return_id）")
    return value


def _connector_error(error: SfError, request: dict[str, Any], started: float) -> Exception:
    latency = (time.perf_counter() - started) * 1000
    kind = TransientError if error.retryable else PermanentError
    return kind(str(error), request=request, latency_ms=latency,
                zh=f"顺丰调用失败：{error.code} {error.message}")


# -- return.route ------------------------------------------------------------------------------

ROUTE = ActionType(
    "return.route", "退货路由", "Route the return", (
        param("return_id", "template", "退货单号", "Return id", prefilled=True,
              default="{{ event.data.return_id }}"),),
    external=True, internal=True, default_step_id="route", integration="sf_express",
    outputs={"routed": "bool", "decision_required": "bool", "outlet_code": "text",
             "return_centre": "text", "address_text": "text", "reason": "text",
             "exception_zh": "text", "exception_en": "text"},
    output_fields=(Shown("return_centre", "text", "退货中心", "Return centre"),
                   Shown("address_text", "text", "退货地址", "Return address"),
                   Shown("exception_zh", "text", "需人工决定的原因", "Why a person decides")),
    outcomes=(Outcome("decision_required", "需人工决定", "Decision required",
                      "decision_required", True),))


def _customer_address(uow: UnitOfWork, call: StepCall) -> Any:
    """The address the buyer typed: kept on the route once routed (routing again keeps it),
    else the return request's, else the order's shipping address."""
    routed = uow.return_routing.route(_return_id(call))
    if routed is not None and routed.get("customer_address"):
        return routed["customer_address"]
    data = (call.context.get("event") or {}).get("data") or {}
    given = data.get("customer_address") if isinstance(data, dict) else None
    if isinstance(given, dict):
        return given
    order = uow.orders.get(call.order_id) if call.order_id else None
    if order is None:
        return None
    a = order.shipping_address
    return {"country": a.country, "province": a.province, "city": a.city,
            "district": a.district, "line1": a.line1, "postal_code": a.postal_code}


def _settle(uow: UnitOfWork, call: StepCall, shipment: LastShipment | None,
            outlet: str | None, customer_address: Any, now: datetime) -> Output:
    """Decide with the current policy and write the route."""
    store = uow.return_routing
    version, policy = store.current_policy()
    centre_code = policy.get(outlet) if outlet else None
    centre = store.centre(centre_code) if centre_code else None
    decision = decide(shipment, outlet, version, centre_code, centre)
    store.save_route(_return_id(call), call.order_id or "", shipment, decision,
                     customer_address, now)
    problem = decision.exception
    return {"routed": not decision.decision_required,
            "decision_required": decision.decision_required,
            "outlet_code": decision.outlet_code or "",
            "return_centre": centre.code if centre else "",
            "centre_name": centre.name_zh if centre else "",
            "address_text": address_text(centre.address) if centre else "",
            "reason": problem.reason if problem else "",
            "exception_zh": problem.message_zh if problem else "",
            "exception_en": problem.message_en if problem else ""}


def _decided(uow: UnitOfWork, route: dict[str, Any]) -> Output:
    """The route a person decided (they picked the centre): kept as it is."""
    centre = uow.return_routing.centre(str(route["return_centre"]))
    address = route.get("address") or {}
    return {"routed": True, "decision_required": False,
            "outlet_code": str(route.get("outlet_code") or ""),
            "return_centre": str(route["return_centre"]),
            "centre_name": centre.name_zh if centre else str(route["return_centre"]),
            "address_text": address_text(address), "reason": "", "exception_zh": "",
            "exception_en": ""}


def route_hub_part(uow: UnitOfWork, call: StepCall, now: datetime) -> Output:
    """Route at once when the outlet is known or cannot be asked for; else say what to ask.
    A centre a person picked (POST /api/v1/returns/{id}/route) stands: no policy overrides
    it, also when an earlier run is resent."""
    if call.order_id is None:
        raise StepRefused("return routing needs an order", field="trigger",
                          zh="退货路由需要订单")
    routed = uow.return_routing.route(_return_id(call))
    if routed is not None and routed.get("decision") == "centre" \
            and not routed.get("decision_required") and routed.get("return_centre"):
        return _decided(uow, routed)
    shipment = uow.return_routing.last_shipment(call.order_id)
    customer_address = _customer_address(uow, call)
    if shipment is not None and not shipment.outlet_code \
            and shipment.carrier in SF_CARRIERS:
        return {"ask_carrier": True, "carrier": shipment.carrier,
                "tracking_number": shipment.tracking_number}
    return _settle(uow, call, shipment, shipment.outlet_code if shipment else None,
                   customer_address, now)


def ask_outlet(outside: Outside, call: StepCall, hub_output: Output,
               hmac_secret: str | None) -> Answer:
    if not hub_output.get("ask_carrier"):
        return Said({"asked": None}, {"asked": False})
    request = {"service": "EXP_RECE_SEARCH_ROUTES",
               "trackingNumber": [hub_output["tracking_number"]]}
    started = time.perf_counter()
    try:
        outlet = _sf(outside).outlet_of(str(hub_output["tracking_number"]))
    except SfError as error:
        raise _connector_error(error, request, started) from error
    return Said(request, {"asked": True, "outlet_code": outlet or ""},
                (time.perf_counter() - started) * 1000, 200)


def route_after_answer(uow: UnitOfWork, call: StepCall, output: Output, now: datetime) -> None:
    """With SF's answer, route and write (the step's outputs are completed here, in the
    transaction that records the answer)."""
    if not output.get("ask_carrier") or output.get("already_done"):
        return
    shipment = LastShipment(str(output["carrier"]), str(output["tracking_number"]),
                            str(output.get("outlet_code") or "") or None)
    output.update(_settle(uow, call, shipment, shipment.outlet_code,
                          _customer_address(uow, call), now))


def _route_outputs(body: Any) -> Output:
    if isinstance(body, dict) and body.get("asked"):
        return {"outlet_code": str(body.get("outlet_code") or "")}
    return {}


ROUTE_ACTION = RuleAction(
    ROUTE, effect=route_hub_part, call=ask_outlet, after_call=route_after_answer,
    outputs=_route_outputs,
    unchecked_resend="a question: SF's route query changes nothing at SF")


# -- carrier.book_return_pickup -----------------------------------------------------------------

BOOK = ActionType(
    "carrier.book_return_pickup", "预约退货上门取件", "Book the return pickup", (
        param("return_id", "template", "退货单号", "Return id", prefilled=True,
              default="{{ event.data.return_id }}"),),
    external=True, internal=False, default_step_id="pickup", integration="sf_express",
    outputs={"booked": "bool", "refused": "bool", "waybill": "text", "pickup_start": "text",
             "pickup_end": "text", "window_text": "text", "refusal": "text"},
    output_fields=(Shown("waybill", "text", "取件运单号", "Pickup waybill"),
                   Shown("window_text", "text", "上门时间段", "Pickup window")),
    outcomes=(Outcome("refused", "承运商拒绝取件", "Carrier refused", "refused", True),))


def sf_order_id(return_id: str) -> str:
    return f"RT{return_id}"


def pickup_details(uow: UnitOfWork, return_id: str) -> dict[str, Any]:
    """What the booking needs from the hub: the route (written by return.route), the buyer,
    the centre. Kept in the step's ``_pickup`` param, which run history never stores (it
    holds the buyer's name, phone and address)."""
    route = uow.return_routing.route(return_id)
    if route is None or route.get("decision_required") or not route.get("address") \
            or route.get("pickup_waybill"):
        return {"bookable": False}  # not routed, or booked already (by an earlier run)
    centre = uow.return_routing.centre(str(route["return_centre"]))
    order = uow.orders.get(str(route["order_id"]))
    return {"bookable": True, "sf_order_id": sf_order_id(return_id),
            "customer": {"name": order.customer.name if order else "",
                         "phone": order.customer.phone if order else "",
                         "address": route.get("customer_address") or {}},
            "centre": {"name": centre.name_zh if centre else "",
                       "phone": centre.phone if centre else "", "address": route["address"]}}


def with_pickup(cached: Cached, params: Params) -> Params:
    return_id = str(params.get("return_id") or "").strip()
    found = cached(f"return-pickup:{return_id}", lambda uow: pickup_details(uow, return_id))
    return {**params, "_pickup": found}


def book(outside: Outside, call: StepCall, hub_output: Output,
         hmac_secret: str | None) -> Answer:
    details = call.params.get("_pickup") or {}
    if not details.get("bookable"):
        return Said({"booked": None}, {"booked": False, "refused": False, "skipped": True})
    data = (call.context.get("event") or {}).get("data") or {}
    cargo = list(data.get("lines") or []) if isinstance(data, dict) else []
    pickup = ReturnPickup(str(details["sf_order_id"]), details["customer"], details["centre"],
                          [c for c in cargo if isinstance(c, dict)],
                          pickup_start(datetime.now(UTC)))
    request = {"service": "EXP_RECE_CREATE_REVERSE_ORDER", **pickup.msg_data()}
    started = time.perf_counter()
    try:
        done = _sf(outside).book_return_pickup(pickup)
    except SfError as error:
        if not error.business:
            raise _connector_error(error, request, started) from error
        return Said(request, {"booked": False, "refused": True,
                              "refusal": f"{error.code} {error.message}"},
                    (time.perf_counter() - started) * 1000, 200)
    return Said(request, done.dump(), (time.perf_counter() - started) * 1000, 200)


def find_booking(outside: Outside, call: StepCall, since: datetime) -> Found:
    order_id = sf_order_id(_return_id(call))
    request = {"service": "EXP_RECE_SEARCH_ORDER_RESP", "orderId": order_id}
    started = time.perf_counter()
    try:
        done = _sf(outside).find_return_pickup(order_id)
    except SfError as error:
        raise _connector_error(error, request, started) from error
    latency = (time.perf_counter() - started) * 1000
    if done is None:
        return Said(request, None, latency, found=False)
    return Said(request, done.dump(), latency, output=_book_outputs(done.dump()))


def _book_outputs(body: Any) -> Output:
    if not isinstance(body, dict):
        return {}  # an answer recorded earlier: its stored outputs stand
    start, end = body.get("pickup_start"), body.get("pickup_end")
    text = window_text(datetime.fromisoformat(start), datetime.fromisoformat(end)) \
        if isinstance(start, str) and isinstance(end, str) else ""
    return {"booked": body.get("booked") is True, "refused": body.get("refused") is True,
            "waybill": str(body.get("waybill") or ""), "pickup_start": start or "",
            "pickup_end": end or "", "window_text": text,
            "refusal": str(body.get("refusal") or "")}


def record_booking(uow: UnitOfWork, call: StepCall, output: Output, now: datetime) -> None:
    """The booking on the route, and ``return.pickup_booked`` on the order; a refusal puts
    the route back to a person."""
    if output.get("already_done"):
        return  # recorded with the answer the first time
    return_id = _return_id(call)
    store = uow.return_routing
    if output.get("refused"):
        refusal = str(output.get("refusal") or "")
        store.pickup_refused(return_id, refusal, refusal, now)
        return
    if not output.get("booked"):
        return
    start = datetime.fromisoformat(str(output["pickup_start"]))
    end = datetime.fromisoformat(str(output["pickup_end"]))
    store.record_pickup(return_id, str(output["waybill"]), start, end, now)
    ret = uow.returns.get(return_id, for_update=True)
    if ret is not None and ret.status == "approved":
        ret.move("pickup_booked", now)  # approved before the booking came back
        uow.returns.save(ret)
    if PICKUP_BOOKED not in lifecycle.EVENT_TYPES or call.order_id is None:
        return  # the returns lifecycle types are added with the return record (issue 13)
    route = store.route(return_id) or {}
    order = uow.orders.get(call.order_id, for_update=True)
    if order is None:
        return
    order.report(PICKUP_BOOKED, "sf", now, now, {
        "return_id": return_id, "carrier": "sf", "waybill": str(output["waybill"]),
        "pickup_window": {"start": start.astimezone(UTC).isoformat(),
                          "end": end.astimezone(UTC).isoformat()},
        "address": route.get("address")},
        source_event_id=f"{return_id}:pickup_booked", causation_id=call.run_id)
    save(uow, order, now)


BOOK_ACTION = RuleAction(
    BOOK, call=book, look_up=find_booking, prepare=with_pickup, after_call=record_booking,
    outputs=_book_outputs)

ACTIONS = (ROUTE_ACTION, BOOK_ACTION)
