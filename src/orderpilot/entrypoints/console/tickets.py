"""The built-in ticket queue that rules (and people) open, and the automation part of an order's
page: the rule runs about the order and its tickets."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.tickets import TicketRepository
from orderpilot.adapters.views import rules as reads
from orderpilot.adapters.views.rules import order_numbers
from orderpilot.bootstrap import Hub
from orderpilot.domain.errors import NotFound
from orderpilot.domain.tickets import NEXT_STATUS, IllegalTicketMove
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader, RuleManager
from orderpilot.entrypoints.console.i18n import PRIORITIES, TICKET_STATUSES
from orderpilot.entrypoints.console.render import ConsoleDep, is_htmx
from orderpilot.entrypoints.console.rules.runs import RUN_LABELS
from orderpilot.services import tickets as ticket_service

router = APIRouter(prefix="/console")
PAGE_SIZE = 50
ORDER_RUNS = 20
STATUS_LABELS = TICKET_STATUSES  # the catalogue's (i18n.LABELS)
PRIORITY_LABELS = PRIORITIES


def _labels() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "priority_labels": PRIORITY_LABELS,
            "next_status": NEXT_STATUS}


@router.get("/tickets", name="console:tickets")
def tickets(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
            status: str = "", order_id: str = "", cursor: str = "") -> Response:
    error = None
    items: list[dict[str, Any]] = []
    next_cursor = None
    if status and status not in STATUS_LABELS:
        error = console.translate(request, "Choose a status from the list.")
    elif cursor and not cursor.isdigit():
        error = console.translate(request, "This page link is broken; start from the first "
                                           "page.")
    with hub.db.read() as conn:
        if error is None:
            items, next_cursor = reads.tickets_page(
                conn, status=status or None, order_id=order_id.strip()[:36] or None,
                cursor=int(cursor) if cursor else None, limit=PAGE_SIZE)
        numbers = order_numbers(conn, {i["order_id"] for i in items})
        counts = TicketRepository(conn).counts()
    query = {k: v for k, v in {"status": status, "order_id": order_id}.items() if v}
    return console.render(request, "tickets.html", {
        "nav": "tickets", "items": items, "numbers": numbers, "status": status,
        "order_id": order_id, "counts": counts, "error": error, "first_page": bool(cursor),
        "base_query": urlencode(query),
        "next_query": urlencode({**query, "cursor": next_cursor}) if next_cursor else None,
        **_labels()}, status=422 if error else 200)


@router.post("/tickets/{ticket_id}/status", name="console:ticket-status")
def change_status(request: Request, ticket_id: str, hub: HubDep, console: ConsoleDep,
                  who: RuleManager, status: Annotated[str, Form()] = "") -> Response:
    try:
        view = reads.ticket_view(ticket_service.move(hub.uow, hub.clock, ticket_id, status))
    except NotFound:
        return console.error(request, console.translate(
            request, "There is no ticket with this ID."), 404)
    except IllegalTicketMove as refused:
        message = console.translate(
            request, "A ticket that is %(now)s cannot move to %(to)s.") % {
            "now": console.translate(request, STATUS_LABELS.get(refused.now, refused.now)),
            "to": console.translate(request, STATUS_LABELS.get(status, status or "—"))}
        return console.error(request, message, 409)
    if not is_htmx(request):
        return RedirectResponse("/console/tickets", status_code=303)
    with hub.db.read() as conn:
        numbers = order_numbers(conn, {view["order_id"]})
    return console.render(request, "tickets.html", {
        "tk": view, "numbers": numbers, "changed": True, **_labels()}, blocks=["ticket_row"])


def automation_for_order(hub: Hub, order_id: str) -> dict[str, Any]:
    """What rules did about one order: its latest runs and its tickets."""
    with hub.db.read() as conn:
        runs, more = reads.runs_page(conn, order_id=order_id, limit=ORDER_RUNS)
        order_tickets, _ = reads.tickets_page(conn, order_id=order_id, limit=PAGE_SIZE)
    return {"runs": runs, "more_runs": more is not None, "tickets": order_tickets,
            "run_labels": RUN_LABELS, **_labels()}
