"""A person's own saved filters of the exception workbench (beside the built-in 全部未解决,
我的队列, 已超时, 需人工决策): save the queue's current filter under a name, open it with a
click, delete it. Stored as the orders list's saved views are (adapters/saved_views.py, page
``exceptions``); a name used again replaces that view."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters import saved_views
from orderpilot.bootstrap import Hub
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.exception_filters import parse
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader
from orderpilot.entrypoints.console.order_work import view_name_refusal
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.services.accounts import Principal

router = APIRouter(prefix="/console")
PAGE = "exceptions"


def my_views(hub: Hub, who: Principal) -> list[dict[str, Any]]:
    if who.kind != "user":
        return []
    with hub.db.read() as conn:
        return saved_views.list_views(conn, who.id, PAGE)


def _queue(query: str) -> str:
    return "/console/exceptions" + (f"?{query}" if query else "")


@router.post("/exceptions/views", name="console:save_exception_view")
def save(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
         name: Annotated[str, Form()] = "", query: Annotated[str, Form()] = "") -> Response:
    name = name.strip()
    if who.kind != "user":
        return console.error(request, console.translate(
            request, "Only a signed-in person can save views."), 403)
    refused = view_name_refusal(request, console, name)
    if refused is not None:
        return refused
    try:
        clean = urlencode(parse(dict(parse_qsl(query))).as_query())
    except InvalidInput as exc:
        return console.error(request, console.say(request, exc), 422)
    with hub.db.write() as conn:
        saved = saved_views.save_view(conn, who.id, name, clean, hub.clock(), PAGE)
    if saved is None:
        return console.error(request, console.translate(
            request, "You have 50 saved views already; delete one first."), 422)
    return RedirectResponse(_queue(clean), status_code=303)


@router.post("/exceptions/views/{view_id}/delete", name="console:delete_exception_view")
def delete(request: Request, view_id: str, hub: HubDep, console: ConsoleDep,
           who: Reader) -> Response:
    with hub.db.write() as conn:
        deleted = saved_views.delete_view(conn, who.id, view_id, PAGE)
    if not deleted:
        return console.error(request, console.translate(
            request, "There is no such saved view."), 404)
    return RedirectResponse("/console/exceptions", status_code=303)
