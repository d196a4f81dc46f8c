"""/api/v1/orders: notes on an order, and bulk actions on a selection or a whole filter.

A bulk action is asked twice: ``POST /bulk/preview`` says how many orders it touches, and
``POST /bulk`` does it only when ``expected_count`` is still that number (409 otherwise: the
list changed in between)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from orderpilot.adapters.views import order_notes
from orderpilot.adapters.views import orders as read_models
from orderpilot.domain.access import allowed
from orderpilot.domain.errors import Conflict, Forbidden, NotFound
from orderpilot.domain.hold_release import check_release_reason
from orderpilot.entrypoints.api.deps import CanNoteOrders, CanReadOrders, HubDep
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.entrypoints.order_selection import chosen_orders, held_count
from orderpilot.services import bulk_orders
from orderpilot.services import order_notes as notes_service
from orderpilot.services.accounts import Principal

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
BULK_PERMISSION = {"release_holds": "holds.release", "add_tag": "orders.tag"}


class NoteIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class BulkIn(Strict):
    action: Literal["release_holds", "add_tag"]
    order_ids: Annotated[list[Annotated[str, Field(max_length=36)]],
                         Field(max_length=bulk_orders.MAX_BULK)] = []
    filter: dict[str, Annotated[str, Field(max_length=100)]] = Field(
        {}, description="The list's query parameters (used when order_ids is empty)")
    reason: Annotated[str, Field(max_length=64)] = ""
    note: Annotated[str, Field(max_length=1000)] = ""
    tag: Annotated[str, Field(max_length=40)] = ""
    expected_count: int | None = Field(None, ge=0, description="From the preview: required "
                                                               "to act")


def _exists(hub: HubDep, order_id: str) -> None:
    with hub.db.read() as conn:
        if read_models.order_detail(conn, order_id) is None:
            raise NotFound.coded("order.not_found", field="id", order_id=order_id)


@router.get("/{order_id}/notes", summary="An order's notes, oldest first")
def list_notes(order_id: str, hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    _exists(hub, order_id)
    with hub.db.read() as conn:
        return {"order_id": order_id, "items": order_notes.notes(conn, order_id)}


@router.post("/{order_id}/notes", status_code=201, summary="Add a note to an order",
             description="Who and when are recorded; the note is on the timeline as "
                         "`order.note_added`. Notes are never edited.")
def add_note(order_id: str, note: NoteIn, hub: HubDep, who: CanNoteOrders) -> dict[str, Any]:
    event = notes_service.add_note(order_id, note.text, who.name, hub.uow, hub.clock)
    return {"order_id": order_id, "id": event.id, "by": who.name, "text": note.text.strip(),
            "at": read_models.iso(event.recorded_at)}


def _targets(hub: HubDep, who: Principal, body: BulkIn) -> tuple[list[str], int]:
    permission = BULK_PERMISSION[body.action]
    if not allowed(who.role, permission):
        raise Forbidden(f"role {who.role} may not {permission}", field="action",
                        zh=f"角色 {who.role} 无权执行 {permission}")
    if body.action == "release_holds":
        check_release_reason(body.reason, body.note)
    else:
        bulk_orders.check_tag(body.tag)
    ids = chosen_orders(hub, who.role, body.order_ids, body.filter)
    touches = held_count(hub, ids) if body.action == "release_holds" else len(ids)
    return ids, touches


@router.post("/bulk/preview", summary="How many orders a bulk action would touch")
def preview(body: BulkIn, hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    ids, touches = _targets(hub, who, body)
    return {"action": body.action, "orders": len(ids), "expected_count": touches}


@router.post("/bulk", summary="Release holds or add a tag on many orders",
             description="One transaction per order; the answer lists the orders changed, "
                         "left as they were, and failed (with why).")
def run(body: BulkIn, hub: HubDep, who: CanReadOrders) -> JSONResponse:
    ids, touches = _targets(hub, who, body)
    if body.expected_count is None or body.expected_count != touches:
        raise Conflict(f"expected_count: this action now touches {touches} orders; preview "
                       "it and confirm that number", field="expected_count",
                       code="count_changed",
                       zh=f"expected_count：此操作现在涉及 {touches} 个订单，请重新预览并确认")
    if body.action == "release_holds":
        outcome = bulk_orders.release_holds(ids, body.reason, body.note, who.name, hub.uow,
                                            hub.clock)
    else:
        outcome = bulk_orders.add_tag(ids, body.tag, who.name, hub.uow, hub.clock)
    return JSONResponse({
        "action": body.action, "changed": outcome.changed, "unchanged": outcome.unchanged,
        "failed": [{"order_id": i, "code": e.code, "message": e.message,
                    "message_zh": e.message_zh} for i, e in outcome.failed]})
