"""The returns board (退货看板) and one return's page: lines, reasons, route, timeline, and the
buttons that move it on (each move is the API's service call, with the same checks)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.adapters.views import return_policy as policy_views
from orderpilot.adapters.views import returns as views
from orderpilot.adapters.views.rules import order_numbers
from orderpilot.domain import returns as rd
from orderpilot.domain.access import allowed
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.return_reasons import REASONS
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import NotPermitted, ReturnsReader, User
from orderpilot.entrypoints.console.holds import error_status
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.services import returns as service
from orderpilot.services.channels import return_refunds as channel_refunds
from orderpilot.services.returns_routing import decisions

router = APIRouter(prefix="/console")
PAGE_SIZE = 200
# Who may make each move from the console (domain/access.py); pickup booking is the routing's.
MOVE_PERMISSION = {"approved": "returns.decide", "rejected": "returns.decide",
                   "closed": "returns.decide", "in_transit": "returns.receive",
                   "received": "returns.receive", "inspected": "returns.receive",
                   "refunded": "returns.refund"}
OPEN = frozenset(rd.STATUSES) - {"rejected", "refunded", "closed"}
# Who may decide a return that could not be routed: either permission (domain/access.py).
DECIDE_ROUTE = ("returns.decide", "returns.policy")


def _age_hours(created_at: str | None, now: datetime) -> float:
    return (now - datetime.fromisoformat(created_at)).total_seconds() / 3600 if created_at \
        else 0.0


@router.get("/returns", name="console:returns")
def board(request: Request, hub: HubDep, console: ConsoleDep, who: ReturnsReader,
          reason: str = "", status: str = "") -> Response:
    error = None
    if reason and reason not in REASONS:
        error, reason = console.translate(request, "Choose a reason from the list."), ""
    if status and status not in rd.STATUSES:
        error, status = console.translate(request, "Choose a status from the list."), ""
    now, sla = hub.clock(), hub.settings.returns_sla_hours
    with hub.db.read() as conn:
        page = views.list_returns(conn, reason=reason or None, status=status or None,
                                  limit=PAGE_SIZE)
        counts = views.status_counts(conn)
        numbers = order_numbers(conn, {r["order_id"] for r in page["items"]})
    columns: dict[str, list[dict[str, Any]]] = {s: [] for s in rd.STATUSES
                                                if not status or s == status}
    for item in page["items"]:
        age = _age_hours(item["created_at"], now)
        item |= {"age_hours": int(age), "overdue": item["status"] in OPEN and age > sla}
        columns[item["status"]].append(item)
    return console.render(request, "returns.html", {
        "nav": "returns", "columns": columns, "counts": counts, "reason": reason,
        "status": status, "reasons": REASONS, "statuses": rd.STATUSES, "sla_hours": sla,
        "numbers": numbers, "error": error, "total": page["total"],
        "shown": len(page["items"]),
        "overdue": sum(1 for c in columns.values() for i in c if i["overdue"]),
        "base_query": urlencode({"reason": reason} if reason else {})},
        status=422 if error else 200)


def _detail_page(request: Request, hub: HubDep, console: ConsoleDep, return_id: str,
                 error: str | None = None, status: int = 200) -> Response:
    with hub.db.read() as conn:
        ret = views.return_detail(conn, return_id)
        if ret is None:
            return console.error(request, console.translate(
                request, "There is no return with this ID."), 404)
        numbers = order_numbers(conn, {ret["order_id"]})
        sources = InventoryRepository(conn).sources()
        route = ret.get("route") or {}
        centres = policy_views.centres(conn) if route.get("decision_required") else []
    return console.render(request, "return.html", {
        "nav": "returns", "ret": ret, "numbers": numbers, "statuses": rd.STATUSES,
        "reasons": REASONS, "sources": sources, "move_permission": MOVE_PERMISSION,
        "centres": centres, "decide_route": DECIDE_ROUTE, "error": error}, status=status)


@router.get("/returns/{return_id}", name="console:return")
def detail(request: Request, return_id: str, hub: HubDep, console: ConsoleDep,
           who: ReturnsReader) -> Response:
    return _detail_page(request, hub, console, return_id)


def _count(value: str) -> int:
    return int(value) if value.strip().isdigit() else -1


@router.post("/returns/{return_id}/move", name="console:return-move")
async def move(request: Request, return_id: str, hub: HubDep, console: ConsoleDep, who: User,
               to: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
               stock_source: Annotated[str, Form()] = "") -> Response:
    permission = MOVE_PERMISSION.get(to)
    if permission is None:
        return _detail_page(request, hub, console, return_id, console.translate(
            request, "Choose a step from the buttons."), 422)
    if not allowed(who.role, permission):
        raise NotPermitted(permission)
    inspection = None
    if to == "inspected":
        form = await request.form()
        skus = [str(s) for s in form.getlist("sku")]
        restockable = [_count(str(v)) for v in form.getlist("restockable")]
        damaged = [_count(str(v)) for v in form.getlist("damaged")]
        inspection = service.Inspection(
            {sku: (r, d) for sku, r, d in zip(skus, restockable, damaged, strict=False)},
            stock_source or None)
    try:
        if to == "refunded":  # through the return's channel when it can refund
            channel_refunds.refund(return_id, who.name, note.strip()[:500], hub.uow,
                                   hub.clock, hub.channels.platforms())
        else:
            service.move_return(service.Move(return_id, to, who.name, note.strip()[:500]),
                                hub.uow, hub.clock, inspection)
    except OrderpilotError as exc:
        return _detail_page(request, hub, console, return_id, console.say(request, exc),
                            error_status(exc))
    return RedirectResponse(f"/console/returns/{return_id}", status_code=303)


@router.post("/returns/{return_id}/route", name="console:return-route")
def decide_route(request: Request, return_id: str, hub: HubDep, console: ConsoleDep,
                 who: User, return_centre: Annotated[str, Form()] = "",
                 retry: Annotated[str, Form()] = "",
                 note: Annotated[str, Form()] = "") -> Response:
    """A person decides a return that needs it (the API's POST /api/v1/returns/{id}/route)."""
    if not any(allowed(who.role, p) for p in DECIDE_ROUTE):
        raise NotPermitted(DECIDE_ROUTE[0])
    try:
        decisions.decide_route(decisions.DecideRoute(
            return_id, who.name, return_centre.strip()[:64] or None, retry == "1",
            note.strip()[:500]), hub.uow, hub.clock)
    except OrderpilotError as exc:
        return _detail_page(request, hub, console, return_id, console.say(request, exc),
                            error_status(exc))
    return RedirectResponse(f"/console/returns/{return_id}", status_code=303)

