"""/api/v1/orders: place orders, report what systems did, holds, timeline."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from orderpilot.adapters.views import order_search
from orderpilot.adapters.views import orders as read_models
from orderpilot.domain import reporters
from orderpilot.domain.commands import PlaceHold, PlaceOrder, ReleaseHold, ReportEvent
from orderpilot.domain.errors import NotFound
from orderpilot.domain.hold_release import RELEASE_REASON_CODES
from orderpilot.entrypoints.api.deps import (
    CanCreateOrders,
    CanPlaceHolds,
    CanReadOrders,
    CanReleaseHolds,
    CanReportEvents,
    HubDep,
)
from orderpilot.entrypoints.api.errors import RETRY_AFTER_SECONDS, error_body
from orderpilot.entrypoints.api.schemas import EventIn, HoldIn, OrderIn
from orderpilot.entrypoints.order_selection import read_filter
from orderpilot.services import ordering
from orderpilot.services.order_intake import IntakeClosed, Outcome
from orderpilot.services.ordering import Placed

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
# Ties the events of one business flow together across systems (kept on every event).
RELEASE_REASON_HELP = "Why: " + ", ".join(RELEASE_REASON_CODES)
CorrelationId = Annotated[str | None, Header(alias="X-Correlation-Id", max_length=200)]


def _detail(hub: HubDep, order_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        detail = read_models.order_detail(conn, order_id)
    if detail is None:
        raise NotFound.coded("order.not_found", field="id", order_id=order_id)
    return detail


PLACE_DESCRIPTION = (
    "Money is a plain decimal string (\"129.00\"); phones are checked against their country's "
    "numbering plan. Every problem of the payload comes in one 422, one `details` entry each "
    "(`field`, `code`, `message`, `message_zh`). The same order again (same channel, shop and "
    "external_id, or the same Idempotency-Key) answers 200 with `\"duplicate\": true`; the "
    "same number with other contents is 409 `order_changed`, `details` naming each changed "
    "field, and changes nothing.")
ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "`order_changed` or `idempotency_key_reused`"},
    413: {"description": "`body_too_large`: over ORDERPILOT_MAX_BODY_BYTES (1 MiB)"},
    415: {"description": "`unsupported_media_type`: the body is not application/json"}}


@router.post("", status_code=201, summary="Place a canonical order (idempotent)",
             description=PLACE_DESCRIPTION, responses=ERRORS)
async def place(request: Request, order: OrderIn, hub: HubDep, who: CanCreateOrders,
                idempotency_key: IdempotencyKey = None,
                correlation_id: CorrelationId = None) -> JSONResponse:
    raw = order.model_dump(mode="json")
    command = order.to_command(idempotency_key, raw, correlation_id=correlation_id)
    try:
        placed = await _placed_in_a_group(hub, command)
    except IntakeClosed as closed:
        return JSONResponse(error_body(closed.code, closed.message,
                                       message_zh=closed.message_zh), status_code=503,
                            headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    hub.metrics.orders_placed.labels(order.channel.lower()[:32],
                                     "new" if placed.created else "duplicate").inc()
    if placed.order is not None:  # just written: answer from memory, not another read
        when = read_models.iso(placed.order.status_changed_at)
        body = read_models.present(placed.order, [{"source": "api", "version": "canonical-v1",
                                                   "received_at": when, "payload": raw}])
    else:
        body = await run_in_threadpool(_detail, hub, placed.order_id)
    body["duplicate"] = not placed.created
    return JSONResponse(body, status_code=201 if placed.created else 200)


async def _placed_in_a_group(hub: HubDep, command: PlaceOrder) -> Placed:
    """The order placed by the hub's intake thread together with the others arriving now
    (services/order_intake.py), answered once their transaction is committed; the event
    loop serves other requests meanwhile."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Placed] = loop.create_future()

    def settle(outcome: Outcome) -> None:
        if done.cancelled():
            return
        if isinstance(outcome, Exception):
            done.set_exception(outcome)
        else:
            done.set_result(outcome)

    hub.intake.submit(command, lambda outcome: loop.call_soon_threadsafe(settle, outcome))
    return await done


class OrderQuery(BaseModel):
    """The orders list's filters; every one optional, all combined with AND."""

    q: str = Field("", max_length=100, description="Order number, order id or buyer name")
    status: str = Field("", max_length=64, description="Lifecycle node, e.g. paid")
    channel: str = Field("", max_length=64, examples=["shopee"])
    shop: str = Field("", max_length=100, description="The channel account's shop id")
    sku: str = Field("", max_length=100, description="Orders with a line of this SKU")
    reason: str = Field("", max_length=64, description="Orders with an active hold of this "
                                                         "reason, e.g. stock_shortage")
    tag: str = Field("", max_length=100)
    held: str = Field("", max_length=5, description="yes / no (true / false)")
    placed_from: str = Field("", max_length=10, description="First day, Beijing time "
                                                             "(YYYY-MM-DD)")
    placed_to: str = Field("", max_length=10, description="Last day, included")
    currency: str = Field("", max_length=3, description="Needed with an amount range")
    min_total: str = Field("", max_length=20, examples=["100.00"])
    max_total: str = Field("", max_length=20, examples=["500.00"])
    phone: str = Field("", max_length=24, description="The buyer's phone's last 4+ digits "
                                                       "(admin and ops only)")
    address: str = Field("", max_length=100, description="A fragment of the street, "
                                                          "district or city (admin and ops "
                                                          "only)")
    updated_since: str = Field("", max_length=40, description="ISO time with offset: orders "
                                                               "whose row changed at or after "
                                                               "it, oldest change first")
    sort: str = Field("", max_length=16, description="newest (default), placed_desc, "
                                                      "placed_asc, total_desc, total_asc, "
                                                      "updated_asc")
    limit: int = Field(50, ge=1, le=500)
    cursor: str = Field("", max_length=200)


@router.get("", summary="List orders: filters, search, total count, stable cursor paging",
            description="A sync client asks for `updated_since` and follows `next_cursor` "
                        "(sorted by `updated_at`, then arrival): a page never repeats or skips "
                        "an order. Keep the largest `updated_at` seen and ask again from it "
                        "minus a few seconds (a slow transaction may commit an older time); "
                        "the same order seen twice is harmless. Buyer search (`phone`, "
                        "`address`) needs the admin or ops role (403 otherwise); answers are "
                        "masked for roles without pii.read.")
def list_orders(hub: HubDep, who: CanReadOrders,
                query: Annotated[OrderQuery, Query()]) -> dict[str, Any]:
    texts = query.model_dump(exclude={"limit", "cursor"})
    found = read_filter(texts, who.role)
    with hub.db.read() as conn:
        items, next_cursor, total = order_search.search(conn, found, limit=query.limit,
                                                        cursor=query.cursor or None)
    return {"items": items, "next_cursor": next_cursor, "total": total}


@router.get("/{order_id}", summary="One order with lines, holds and system views")
def get_order(order_id: str, hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    return _detail(hub, order_id)


@router.post("/{order_id}/events", status_code=201,
             summary="A system reports what happened to the order",
             description="A token may report only as the sources it was issued for (scopes "
                         "`source:<name>`, `orderpilot token create --source`); a person "
                         "signed in to the console reports as `user:<login>`. A lifecycle "
                         "event is taken only from a system that reports its node: anything "
                         "else is 403.")
def report(order_id: str, event: EventIn, hub: HubDep, who: CanReportEvents,
           correlation_id: CorrelationId = None) -> JSONResponse:
    reporters.check_report(who.kind, who.name, who.scopes, event.type, event.source)
    result = ordering.report_event(
        ReportEvent(order_id, event.type, event.source, event.occurred_at,
                    event.source_event_id, event.data, event.correlation_id or correlation_id),
        hub.uow, hub.clock)
    hub.metrics.events_reported.labels(event.type[:64], result.outcome).inc()
    body = {"event_id": result.event_id, "outcome": result.outcome, "status": result.status}
    return JSONResponse(body, status_code=200 if result.outcome == "duplicate" else 201)


@router.get("/{order_id}/raw", summary="The raw payloads kept beside the order, oldest first",
            description="For a platform's order: every version of the platform's own order as "
                        "it was received (one per update), exact ids included.")
def raw(order_id: str, hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    with hub.db.read() as conn:
        found = read_models.raw_payloads(conn, order_id)
    if found is None:
        raise NotFound.coded("order.not_found", field="id", order_id=order_id)
    return {"order_id": order_id, "items": found}


@router.get("/{order_id}/events", summary="The order's timeline, oldest first")
def events(order_id: str, hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    with hub.db.read() as conn:
        if read_models.order_detail(conn, order_id) is None:
            raise NotFound.coded("order.not_found", field="id", order_id=order_id)
        return {"items": read_models.timeline(conn, order_id)}


@router.post("/{order_id}/holds", status_code=201, summary="Put the order on hold")
def place_hold(order_id: str, hold: HoldIn, hub: HubDep,
               who: CanPlaceHolds) -> dict[str, Any]:
    placed = ordering.place_hold(
        PlaceHold(order_id, hold.reason, hold.note, who.name, "user",
                  hold.release_after_minutes), hub.uow, hub.clock)
    return next(h for h in _detail(hub, order_id)["holds"] if h["id"] == placed.id)


@router.delete("/{order_id}/holds/{hold_id}", summary="Release one hold (others stay)",
               description="Body `{\"reason\": ..., \"note\": ...}`: the reason is required; "
                           "`other` needs a note.")
def release_hold(order_id: str, hold_id: str, hub: HubDep, who: CanReleaseHolds,
                 reason: Annotated[str, Body(embed=True, max_length=64,
                                             description=RELEASE_REASON_HELP)] = "",
                 note: Annotated[str, Body(embed=True, max_length=1000)] = "") -> dict[str, Any]:
    ordering.release_hold(ReleaseHold(order_id, hold_id, who.name, note.strip(),
                                      reason=reason.strip()), hub.uow, hub.clock)
    return next(h for h in _detail(hub, order_id)["holds"] if h["id"] == hold_id)
