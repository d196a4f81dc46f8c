"""异常工作台, the exception workbench (docs/exceptions.md): groups by reason at the top (overdue
first), filters and the saved ones ("my queue", "overdue", "decision required"), 50 a page,
checkboxes and a bulk bar whose confirmation dialog says how many orders it touches, and one
exception's page with assignment, comments and its history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.bootstrap import Hub
from orderpilot.domain.access import ROLE_NAMES
from orderpilot.domain.cancellation import CANCEL_REASONS
from orderpilot.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OrderpilotError,
)
from orderpilot.domain.exception_filters import ExceptionFilter, parse
from orderpilot.domain.exceptions import (
    CHANGES,
    DECISION_REASONS,
    KINDS,
    OWNERS,
    REASONS,
    RESOLUTIONS,
    STATUSES,
    reason_of,
)
from orderpilot.domain.hold_release import RELEASE_REASONS
from orderpilot.entrypoints import exception_views as views
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import ExceptionWorker, Reader
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.entrypoints.console.workbench_views import my_views
from orderpilot.services.accounts import Principal
from orderpilot.services.exceptions import bulk, work

router = APIRouter(prefix="/console")
PAGE = 50
FILTERS = ("kind", "reason", "status", "owner", "assignee", "mine", "overdue", "order_id", "q")
# The saved filters everyone has, as query strings of the queue.
SAVED = (("all", ""), ("mine", "mine=yes"), ("overdue", "overdue=yes"),
         ("decision_required", "status=decision_required"))
Pair = tuple[str, str]
# Sections other capabilities add under the queue (the refused system reports, per system):
# (template name, its data from the hub); the template reads it as ``section``.
SECTIONS: list[tuple[str, Callable[[Hub], Any]]] = []


def add_section(template: str, data: Callable[[Hub], Any]) -> None:
    SECTIONS.append((template, data))


def namer(locale: str) -> Callable[[Pair], str]:
    def name(pair: Pair) -> str:
        return pair[0] if locale == "zh_CN" else pair[1]
    return name


def _names(console: ConsoleDep, request: Request) -> dict[str, Any]:
    """The taxonomy's codes in the page's language (domain/exceptions.py is the catalogue)."""
    name = namer(console.locale(request))
    resolutions = {**{c: name((zh, en)) for c, zh, en in RELEASE_REASONS},
                   **{c: name(pair) for c, pair in RESOLUTIONS.items()}}
    return {
        "kind_names": {c: name(pair) for c, pair in KINDS.items()},
        "status_names": {c: name(pair) for c, pair in STATUSES.items()},
        "decision_names": {c: name(pair) for c, pair in DECISION_REASONS.items()},
        "change_names": {c: name(pair) for c, pair in CHANGES.items()},
        "owner_names": {c: name(ROLE_NAMES[c]) for c in OWNERS},
        "resolution_names": resolutions,
        "reason_name": lambda code: name((reason_of(code).zh, reason_of(code).en)),
        "reasons": [(c, name((r.zh, r.en))) for c, r in REASONS.items()],
        "release_reasons": [(c, name((zh, en))) for c, zh, en in RELEASE_REASONS],
        "cancel_reasons": [(c, name((zh, en))) for c, zh, en in CANCEL_REASONS],
        "bulk_actions": [(a.code, name((a.zh, a.en)), a.permission)
                         for a in bulk.ACTIONS.values()],
    }


def _queue_context(request: Request, hub: HubDep, console: ConsoleDep, who: Principal,
                   query: dict[str, str], cursor: str | None) -> dict[str, Any]:
    error, me = None, who.name
    try:
        f = parse(query)
        shown = views.page(hub, f, me, cursor, PAGE)
    except InvalidInput as exc:
        error, f = console.say(request, exc), ExceptionFilter()
        shown = views.page(hub, f, me, None, PAGE)
    base = urlencode(f.as_query())
    next_query = (urlencode({**f.as_query(), "cursor": shown["next_cursor"]})
                  if shown["next_cursor"] else None)
    return {"nav": "exceptions", "items": shown["items"], "total": shown["total"],
            "filter": f, "base_query": base, "next_query": next_query,
            "first_page": cursor is not None, "groups": views.groups(hub),
            "saved": SAVED, "my_views": my_views(hub, who), "error": error,
            "sections": [(template, data(hub)) for template, data in SECTIONS],
            **_names(console, request)}


@router.get("/exceptions", name="console:exceptions")
def workbench(request: Request, hub: HubDep, console: ConsoleDep, who: Reader) -> Response:
    query = {k: v for k, v in request.query_params.items() if k in FILTERS}
    context = _queue_context(request, hub, console, who, query,
                             request.query_params.get("cursor") or None)
    return console.render(request, "workbench.html", context,
                          status=422 if context["error"] else 200)


def _back_query(query: str) -> dict[str, str]:
    return {k: v for k, v in parse_qsl(query) if k in FILTERS}


@router.post("/exceptions/bulk", name="console:exceptions_bulk")
def bulk_preview(request: Request, hub: HubDep, console: ConsoleDep, who: ExceptionWorker,
                 ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies it)
                 action: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "",
                 cancel_reason: Annotated[str, Form()] = "",
                 note: Annotated[str, Form()] = "", assignee: Annotated[str, Form()] = "",
                 query: Annotated[str, Form()] = "") -> Response:
    """The bulk bar's first step: the dialog saying how many orders the action touches."""
    if action == "cancel":  # the bar has a reason list per action that takes one
        reason = cancel_reason
    context = _queue_context(request, hub, console, who, _back_query(query), None)
    try:
        bulk.check_permission(action, who.role)
        if action in bulk.ACTIONS:
            bulk.ACTIONS[action].check({"reason": reason, "note": note})
        preview = bulk.preview(hub.uow, action, ids)
    except OrderpilotError as exc:
        context["error"] = console.say(request, exc)
        return console.render(request, "workbench.html", context, status=422)
    action_names = {code: text for code, text, _ in context["bulk_actions"]}
    context["confirm"] = {"preview": preview, "reason": reason, "note": note,
                          "assignee": assignee.strip() or who.name, "query": query,
                          "action_name": action_names.get(action, action)}
    return console.render(request, "workbench.html", context)


@router.post("/exceptions/bulk/apply", name="console:exceptions_bulk_apply")
def bulk_apply(request: Request, hub: HubDep, console: ConsoleDep, who: ExceptionWorker,
               ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies it)
               action: Annotated[str, Form()] = "", token: Annotated[str, Form()] = "",
               reason: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
               assignee: Annotated[str, Form()] = "",
               query: Annotated[str, Form()] = "") -> Response:
    status, notice, error = 200, None, None
    try:
        bulk.check_permission(action, who.role)
        done = bulk.apply(hub.uow, hub.clock, action, ids,
                          {"reason": reason, "note": note, "assignee": assignee}, who.name,
                          token=token or None, platforms=hub.channels.platforms())
        notice = console.translate(request, "Done: %(orders)s orders, %(exceptions)s "
                                            "exceptions.") % {
            "orders": done.preview.orders, "exceptions": done.changed}
    except OrderpilotError as exc:
        error = console.say(request, exc)
        status = 409 if isinstance(exc, Conflict) else 403 if isinstance(exc, Forbidden) \
            else 422
    context = _queue_context(request, hub, console, who, _back_query(query), None)
    context.update(notice=notice, error=error)
    return console.render(request, "workbench.html", context, status=status)


def _detail(request: Request, hub: HubDep, console: ConsoleDep, exception_id: str,
            error: str | None = None, status: int = 200) -> Response:
    try:
        shown = views.one(hub, exception_id)
    except NotFound:
        return console.error(request, console.translate(
            request, "There is no exception with this ID."), 404)
    return console.render(request, "workbench_exception.html", {
        "nav": "exceptions", "x": shown, "error": error, **_names(console, request)},
        status=status)


@router.get("/exceptions/{exception_id}", name="console:exception")
def exception_page(request: Request, exception_id: str, hub: HubDep, console: ConsoleDep,
                   who: Reader) -> Response:
    return _detail(request, hub, console, exception_id)


def _acted(request: Request, hub: HubDep, console: ConsoleDep, exception_id: str,
           act: Callable[[], object]) -> Response:
    try:
        act()
    except OrderpilotError as exc:
        status = 404 if isinstance(exc, NotFound) else 422
        return _detail(request, hub, console, exception_id, console.say(request, exc), status)
    return RedirectResponse(f"/console/exceptions/{exception_id}", status_code=303)


@router.post("/exceptions/{exception_id}/assign", name="console:exception_assign")
def assign(request: Request, exception_id: str, hub: HubDep, console: ConsoleDep,
           who: ExceptionWorker, assignee: Annotated[str, Form()] = "",
           me: Annotated[str, Form()] = "") -> Response:
    chosen = who.name if me else assignee
    return _acted(request, hub, console, exception_id, lambda: work.assign(
        hub.uow, hub.clock, exception_id, chosen, who.name))


@router.post("/exceptions/{exception_id}/comments", name="console:exception_comment")
def comment(request: Request, exception_id: str, hub: HubDep, console: ConsoleDep,
            who: ExceptionWorker, text: Annotated[str, Form()] = "") -> Response:
    return _acted(request, hub, console, exception_id, lambda: work.comment(
        hub.uow, hub.clock, exception_id, text, who.name))


@router.post("/exceptions/{exception_id}/resolve", name="console:exception_resolve")
def resolve(request: Request, exception_id: str, hub: HubDep, console: ConsoleDep,
            who: ExceptionWorker) -> Response:
    return _acted(request, hub, console, exception_id, lambda: work.resolve(
        hub.uow, hub.clock, exception_id, who.name))
