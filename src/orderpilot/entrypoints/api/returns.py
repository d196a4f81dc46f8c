"""/api/v1/orders/{id}/returns, /api/v1/returns: take returns and move them through their life."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field, StrictInt

from orderpilot.adapters.views import returns as views
from orderpilot.domain import returns as rd
from orderpilot.domain.address import Address
from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.domain.return_reasons import REASONS
from orderpilot.entrypoints.api.deps import (
    CanCreateReturns,
    CanDecideReturns,
    CanEditReasonKeywords,
    CanReadReturns,
    CanReceiveReturns,
    CanRefundReturns,
    HubDep,
)
from orderpilot.entrypoints.api.schemas import AddressIn, Strict
from orderpilot.services import returns as service
from orderpilot.services.channels import return_refunds as channel_refunds

router = APIRouter(prefix="/api/v1", tags=["returns"])
Sku = Annotated[str, Field(min_length=1, max_length=64)]
Note = Annotated[str, Field(max_length=500)]


class ReturnLineIn(Strict):
    sku: Sku
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]


class ReturnIn(Strict):
    lines: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=rd.MAX_LINES)]
    reason_tags: Annotated[list[Annotated[str, Field(max_length=32)]],
                           Field(max_length=len(REASONS))] = []
    reason_text: Annotated[str, Field(max_length=2000)] = ""
    source: Annotated[str, Field(min_length=1, max_length=64)] = "api"
    source_event_id: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    customer_address: AddressIn | None = None


class NoteIn(Strict):
    note: Note = ""


class InspectedLineIn(Strict):
    sku: Sku
    restockable: Annotated[StrictInt, Field(ge=0, le=100_000)] = 0
    damaged: Annotated[StrictInt, Field(ge=0, le=100_000)] = 0


class InspectIn(Strict):
    lines: Annotated[list[InspectedLineIn], Field(min_length=1, max_length=rd.MAX_LINES)]
    stock_source: Annotated[str | None, Field(max_length=64)] = None
    note: Note = ""


class KeywordsIn(Strict):
    keywords: dict[str, str]


def detail(hub: HubDep, return_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        found = views.return_detail(conn, return_id)
    if found is None:
        raise NotFound(f"no return {return_id}", field="id", code="return_not_found",
                       zh=f"没有退货单 {return_id}")
    return found


@router.post("/orders/{order_id}/returns", status_code=201,
             summary="Take a return on a shipped order (idempotent on source + source_event_id)",
             description="Lines may hold at most what was shipped minus what the order's other "
                         "returns (not rejected) hold. Without reason_tags the reason_text is "
                         "classified with the keyword table; the text is always kept. The same "
                         "source + source_event_id again answers 200 with the same return.")
def create(order_id: str, body: ReturnIn, hub: HubDep, who: CanCreateReturns) -> JSONResponse:
    address = None
    if body.customer_address is not None:
        a = body.customer_address
        address = Address(a.country, a.province, a.city, a.district, a.line1, a.postal_code)
    taken = service.request_return(service.RequestReturn(
        order_id, [(ln.sku, ln.quantity) for ln in body.lines], body.reason_tags,
        body.reason_text, body.source, body.source_event_id, address, who.name),
        hub.uow, hub.clock)
    answer = detail(hub, taken.ret.id) | {"duplicate": not taken.created}
    return JSONResponse(answer, status_code=201 if taken.created else 200)


@router.get("/returns/reasons", summary="The reason taxonomy (zh/en)")
def reasons(who: CanReadReturns) -> dict[str, Any]:
    return {"items": [{"tag": r.tag, "zh": r.zh, "en": r.en} for r in REASONS.values()]}


@router.get("/returns/reason-keywords", summary="The keyword table free text is classified by")
def get_keywords(hub: HubDep, who: CanReadReturns) -> dict[str, Any]:
    return {"keywords": service.get_keywords(hub.uow)}


@router.put("/returns/reason-keywords", summary="Replace the keyword table (keyword -> tag)")
def put_keywords(body: KeywordsIn, hub: HubDep, who: CanEditReasonKeywords) -> dict[str, Any]:
    return {"keywords": service.put_keywords(body.keywords, who.name, hub.uow, hub.clock)}


@router.get("/returns", summary="Returns, newest first: by status, reason, order or SKU (paged)")
def list_returns(hub: HubDep, who: CanReadReturns,
                 status: Annotated[str | None, Query(max_length=32)] = None,
                 reason: Annotated[str | None, Query(max_length=32)] = None,
                 order_id: Annotated[str | None, Query(max_length=36)] = None,
                 sku: Annotated[str | None, Query(max_length=64)] = None,
                 limit: Annotated[int, Query(ge=1, le=views.MAX_PAGE)] = 50,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
    if status is not None and status not in rd.STATUSES:
        raise InvalidInput(f"unknown status {status!r}; known: {', '.join(rd.STATUSES)}",
                           field="status", zh=f"未知的退货状态 {status!r}")
    if reason is not None and reason not in REASONS:
        raise InvalidInput(f"unknown reason tag {reason!r}; known: {', '.join(REASONS)}",
                           field="reason", code="unknown_reason_tag",
                           zh=f"未知的退货原因 {reason!r}")
    with hub.db.read() as conn:
        return views.list_returns(conn, status=status, reason=reason, order_id=order_id,
                                  sku=sku, limit=limit, offset=offset)


@router.get("/returns/{return_id}", summary="One return: lines, reasons, refund, timeline, route")
def get_return(return_id: str, hub: HubDep, who: CanReadReturns) -> dict[str, Any]:
    return detail(hub, return_id)


def _move(hub: HubDep, return_id: str, target: str, by: str, note: str = "",
          inspection: service.Inspection | None = None) -> dict[str, Any]:
    service.move_return(service.Move(return_id, target, by, note), hub.uow, hub.clock,
                        inspection)
    return detail(hub, return_id)


@router.post("/returns/{return_id}/approve", summary="Approve the return")
def approve(return_id: str, body: NoteIn, hub: HubDep, who: CanDecideReturns) -> dict[str, Any]:
    return _move(hub, return_id, "approved", who.name, body.note)


@router.post("/returns/{return_id}/reject", summary="Reject the return (its units are free again)")
def reject(return_id: str, body: NoteIn, hub: HubDep, who: CanDecideReturns) -> dict[str, Any]:
    return _move(hub, return_id, "rejected", who.name, body.note)


@router.post("/returns/{return_id}/in-transit", summary="The parcel is on its way back")
def in_transit(return_id: str, body: NoteIn, hub: HubDep,
               who: CanReceiveReturns) -> dict[str, Any]:
    return _move(hub, return_id, "in_transit", who.name, body.note)


@router.post("/returns/{return_id}/received", summary="The warehouse received the parcel")
def received(return_id: str, body: NoteIn, hub: HubDep,
             who: CanReceiveReturns) -> dict[str, Any]:
    return _move(hub, return_id, "received", who.name, body.note)


@router.post("/returns/{return_id}/inspect",
             summary="Inspect each line: restockable units go back to the chosen stock source")
def inspect(return_id: str, body: InspectIn, hub: HubDep,
            who: CanReceiveReturns) -> dict[str, Any]:
    seen: dict[str, tuple[int, int]] = {}
    for i, line in enumerate(body.lines):
        if line.sku in seen:
            raise InvalidInput(f"SKU {line.sku} inspected twice", field=f"lines[{i}].sku",
                               zh=f"SKU {line.sku} 重复质检")
        seen[line.sku] = (line.restockable, line.damaged)
    return _move(hub, return_id, "inspected", who.name, body.note,
                 service.Inspection(seen, body.stock_source))


@router.post("/returns/{return_id}/refund",
             summary="Refund the return: per line, its share of discounts and shipping",
             description="A return from a channel whose platform can refund (Shopee) is "
                         "refunded through the platform, exactly once: the answer is 202 with "
                         "channel_refund.status pending; the return moves to refunded "
                         "(via the platform) when the platform has done it, or shows the "
                         "platform's error in channel_refund. Any other return is recorded "
                         "as refunded at once (200, via recorded).",
             responses={202: {"description": "Asked of the channel; see channel_refund"}})
def refund(return_id: str, body: NoteIn, hub: HubDep, who: CanRefundReturns) -> JSONResponse:
    asked = channel_refunds.refund(return_id, who.name, body.note, hub.uow, hub.clock,
                                   hub.channels.platforms())
    return JSONResponse(detail(hub, return_id),
                        status_code=202 if asked.through is not None else 200)


@router.post("/returns/{return_id}/close", summary="Close the after-sales case")
def close(return_id: str, body: NoteIn, hub: HubDep, who: CanDecideReturns) -> dict[str, Any]:
    return _move(hub, return_id, "closed", who.name, body.note)
