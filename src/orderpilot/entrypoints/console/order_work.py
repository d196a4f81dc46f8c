"""Working the orders list: saved views, bulk actions on a selection or the whole filter
(release holds with a reason, add a tag, export to Excel) and notes on an order.

Every bulk action is asked twice: the first post shows how many orders it touches ("将释放 37 个
订单的冻结"); the second carries that number and acts only if it still holds, so nobody
releases more than they were shown."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters import saved_views
from orderpilot.adapters.views import order_search
from orderpilot.domain.access import allowed
from orderpilot.domain.errors import Forbidden, InvalidInput, OrderpilotError
from orderpilot.domain.hold_release import RELEASE_REASONS, check_release_reason
from orderpilot.domain.order_filters import parse
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console import order_sheet
from orderpilot.entrypoints.console.auth import NoteWriter, NotPermitted, Reader
from orderpilot.entrypoints.console.holds import after_change, error_status
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.entrypoints.order_selection import chosen_orders, held_count
from orderpilot.services import bulk_orders, order_notes
from orderpilot.services.accounts import Principal

router = APIRouter(prefix="/console")
ACTIONS = {"release_holds": "holds.release", "add_tag": "orders.tag",
           "export": "orders.export"}
MAX_VIEW_NAME = 60
NOTE_BLOCKS = ["notes", "timeline"]


def _list_url(query: str) -> str:
    return "/console/orders" + (f"?{query}" if query else "")


def view_name_refusal(request: Request, console: ConsoleDep, name: str) -> Response | None:
    """A saved view's name (orders list, workbench): 1 to 60 printable characters."""
    if not name or len(name) > MAX_VIEW_NAME or any(ord(c) < 32 for c in name):
        return console.error(request, console.translate(
            request, "Give the view a name of 1 to 60 characters."), 422)
    return None


@router.post("/orders/views", name="console:save_view")
def save_view(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
              name: Annotated[str, Form()] = "",
              query: Annotated[str, Form()] = "") -> Response:
    name = name.strip()
    refused = view_name_refusal(request, console, name)
    if refused is not None:
        return refused
    try:
        found = parse(dict(parse_qsl(query)))
    except InvalidInput as exc:
        return console.error(request, console.say(request, exc), 422)
    clean = urlencode(found.as_query())
    with hub.db.write() as conn:
        saved = saved_views.save_view(conn, who.id, name, clean, hub.clock())
    if saved is None:
        return console.error(request, console.translate(
            request, "You have 50 saved views already; delete one first."), 422)
    return RedirectResponse(_list_url(clean), status_code=303)


@router.post("/orders/views/{view_id}/delete", name="console:delete_view")
def delete_view(request: Request, view_id: str, hub: HubDep, console: ConsoleDep,
                who: Reader) -> Response:
    with hub.db.write() as conn:
        deleted = saved_views.delete_view(conn, who.id, view_id)
    if not deleted:
        return console.error(request, console.translate(
            request, "There is no such saved view."), 404)
    return RedirectResponse("/console/orders", status_code=303)


def _permitted(who: Principal, action: str) -> None:
    permission = ACTIONS.get(action)
    if permission is None:
        raise InvalidInput("action: choose release, tag or export", field="action",
                           zh="action：请选择释放冻结、添加标签或导出")
    if not allowed(who.role, permission):
        raise NotPermitted(permission)


@router.post("/orders/bulk", name="console:bulk")
def bulk(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
         action: Annotated[str, Form()] = "", scope: Annotated[str, Form()] = "selected",
         order_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies it)
         filter: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
         note: Annotated[str, Form()] = "", tag: Annotated[str, Form()] = "",
         expected: Annotated[str, Form()] = "",
         confirm: Annotated[str, Form()] = "") -> Response:
    _permitted(who, action)
    form = {"action": action, "scope": scope, "filter": filter, "reason": reason,
            "note": note.strip(), "tag": tag.strip()}
    try:
        if action == "release_holds":
            check_release_reason(reason, note)
        elif action == "add_tag":
            form["tag"] = bulk_orders.check_tag(tag)
        chosen = order_ids if scope == "selected" else []
        if scope == "selected" and not chosen:
            raise InvalidInput("order_ids: tick at least one order", field="order_ids",
                               zh="order_ids：请至少勾选一个订单")
        ids = chosen_orders(hub, who.role, chosen, dict(parse_qsl(filter)))
    except (InvalidInput, Forbidden) as exc:
        return console.error(request, console.say(request, exc),
                             403 if isinstance(exc, Forbidden) else 422)
    touches = held_count(hub, ids) if action == "release_holds" else len(ids)
    confirmed = confirm == "yes" and expected == str(touches)
    if not confirmed or touches == 0:
        return console.render(request, "orders_bulk.html", {
            "nav": "orders", "form": form, "order_ids": ids if scope == "selected" else [],
            "orders": len(ids), "touches": touches, "step": "confirm",
            "changed_since": confirm == "yes" and expected != str(touches),
            "release_reasons": RELEASE_REASONS, "back": _list_url(filter)})
    if action == "export":
        return _export(request, hub, who, ids)
    if action == "release_holds":
        outcome = bulk_orders.release_holds(ids, reason, note, who.name, hub.uow, hub.clock)
    else:
        outcome = bulk_orders.add_tag(ids, form["tag"], who.name, hub.uow, hub.clock)
    return console.render(request, "orders_bulk.html", {
        "nav": "orders", "form": form, "step": "done", "outcome": outcome,
        "failed": [(i, console.say(request, e)) for i, e in outcome.failed],
        "release_reasons": RELEASE_REASONS, "back": _list_url(filter)})


def _export(request: Request, hub: HubDep, who: Principal, ids: list[str]) -> Response:
    with hub.db.read() as conn:
        rows = order_search.sheet_rows(conn, ids)
    body = order_sheet.workbook_bytes(rows, show_pii=allowed(who.role, "pii.read"))
    day = hub.clock().date()
    return Response(body, media_type="application/vnd.openxmlformats-officedocument."
                                     "spreadsheetml.sheet",
                    headers={"Content-Disposition": order_sheet.content_disposition(day)})


@router.post("/orders/{order_id}/notes", name="console:add_note")
def add_note(request: Request, order_id: str, hub: HubDep, console: ConsoleDep,
             who: NoteWriter, text: Annotated[str, Form()] = "") -> Response:
    try:
        order_notes.add_note(order_id, text, who.name, hub.uow, hub.clock)
    except OrderpilotError as exc:
        return after_change(request, hub, console, order_id, error=console.say(request, exc),
                            status=error_status(exc), blocks=NOTE_BLOCKS, anchor="notes")
    return after_change(request, hub, console, order_id, blocks=NOTE_BLOCKS, anchor="notes",
                        notice=console.translate(request, "The note is added."))
