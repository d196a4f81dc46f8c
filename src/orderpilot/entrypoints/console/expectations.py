"""Diagnosis: expectations ("after A, expect B within T"), their editor (from the seed's
templates or blank), and one expectation's breaches over all history with an Excel download
(docs/expectations.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.views.rules import order_numbers
from orderpilot.domain.access import allowed
from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.domain.expectations import (
    BREACH_STATUSES,
    FIELD_NAMES,
    OPERATOR_NAMES,
    OPERATORS,
    SEVERITIES,
    TEMPLATES,
    event_names,
    source_systems,
)
from orderpilot.domain.times import filter_time
from orderpilot.entrypoints import expectation_analysis as analysis
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import _permit
from orderpilot.entrypoints.console.i18n import to_shanghai
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.entrypoints.console.workbooks import attachment, excel_time, sheet_bytes
from orderpilot.services import expectations as service
from orderpilot.services.accounts import Principal

router = APIRouter(prefix="/console/diagnosis")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_ITEMS = 500
EXPORT_ITEMS = 10_000
CONDITION_ROWS = 3
ExpectationReader = Annotated[Principal, Depends(_permit("expectations.read"))]
ExpectationEditor = Annotated[Principal, Depends(_permit("expectations.edit"))]


def _choices() -> dict[str, Any]:
    return {"events": event_names(), "sources": source_systems(), "severities": SEVERITIES,
            "fields": FIELD_NAMES, "operators": OPERATORS, "operator_names": OPERATOR_NAMES,
            "statuses": BREACH_STATUSES, "condition_rows": CONDITION_ROWS}


@router.get("/expectations", name="console:expectations")
def expectations(request: Request, hub: HubDep, console: ConsoleDep,
                 who: ExpectationReader) -> Response:
    items = service.overview(hub.uow)
    return console.render(request, "expectations.html", {
        "nav": "diagnosis", "items": items, "templates": TEMPLATES, **_choices()})


@router.get("/expectations/new", name="console:expectation-new")
def new_expectation(request: Request, console: ConsoleDep, who: ExpectationEditor,
                    template: str = "") -> Response:
    start = next((t for t in TEMPLATES if t["code"] == template), None)
    form = dict(start) if start else {"code": "", "name_zh": "", "name_en": "",
                                      "after": "payment.succeeded", "expect": "erp.booked",
                                      "within_minutes": 15, "source": None, "condition": [],
                                      "severity": "warning"}
    return _editor(request, console, form, new=True)


@router.get("/expectations/{code}/edit", name="console:expectation-edit")
def edit_expectation(request: Request, code: str, hub: HubDep, console: ConsoleDep,
                     who: ExpectationEditor) -> Response:
    try:
        stored = service.get(hub.uow, code)
    except NotFound:
        return console.error(request, console.translate(
            request, "There is no expectation with this code."), 404)
    return _editor(request, console, stored.expectation.as_dict(), new=False)


def _editor(request: Request, console: ConsoleDep, form: dict[str, Any], *, new: bool,
            error: str | None = None, status: int = 200) -> Response:
    return console.render(request, "expectation_edit.html", {
        "nav": "diagnosis", "form": form, "new": new, "error": error, **_choices()},
        status=status)


@router.post("/expectations", name="console:expectation-save")
def save_expectation(request: Request, hub: HubDep, console: ConsoleDep,
                     who: ExpectationEditor, code: Annotated[str, Form()] = "",
                     name_zh: Annotated[str, Form()] = "", name_en: Annotated[str, Form()] = "",
                     after: Annotated[str, Form()] = "", expect: Annotated[str, Form()] = "",
                     within_minutes: Annotated[str, Form()] = "",
                     source: Annotated[str, Form()] = "",
                     severity: Annotated[str, Form()] = "warning",
                     new: Annotated[str, Form()] = "",
                     cond_field: Annotated[list[str] | None, Form()] = None,
                     cond_op: Annotated[list[str] | None, Form()] = None,
                     cond_value: Annotated[list[str] | None, Form()] = None) -> Response:
    condition = []
    for field, op, value in zip(cond_field or [], cond_op or [], cond_value or [],
                                strict=False):
        if not field:
            continue
        if op in ("in", "not_in", "has_any"):
            condition.append({"field": field, "op": op,
                              "value": [v.strip() for v in value.split(",") if v.strip()]})
        else:
            condition.append({"field": field, "op": op, "value": value.strip()})
    body: dict[str, Any] = {
        "name_zh": name_zh, "name_en": name_en, "after": after, "expect": expect,
        "within_minutes": int(within_minutes) if within_minutes.strip().isdigit()
        else within_minutes, "source": source or None, "severity": severity,
        "condition": condition}
    code = code.strip()
    try:
        service.publish(hub.uow, hub.clock, code, body, who.name, analysis.evaluator(hub))
    except InvalidInput as refused:
        return _editor(request, console, {**body, "code": code}, new=bool(new),
                       error=console.say(request, refused), status=422)
    return RedirectResponse(f"/console/diagnosis/expectations/{quote(code)}", status_code=303)


@router.post("/expectations/{code}/disable", name="console:expectation-disable")
def disable_expectation(request: Request, code: str, hub: HubDep, console: ConsoleDep,
                        who: ExpectationEditor) -> Response:
    try:
        service.disable(hub.uow, hub.clock, code, who.name)
    except NotFound:
        return console.error(request, console.translate(
            request, "There is no expectation with this code."), 404)
    return RedirectResponse("/console/diagnosis/expectations", status_code=303)


def _window(since: str, until: str) -> tuple[datetime | None, datetime | None]:
    """The page's date filters (Beijing days) as times; InvalidInput when unreadable."""
    times: list[datetime | None] = []
    for name, value in (("since", since), ("until", until)):
        if not value:
            times.append(None)
            continue
        try:
            moment = datetime.fromisoformat(value + ("T00:00:00+08:00" if len(value) == 10
                                                     else ""))
        except ValueError:
            raise InvalidInput(f"{name}: use a date such as 2026-11-01", field=name,
                               zh=f"{name}：请使用 2026-11-01 这样的日期") from None
        times.append(filter_time(moment, name))
    return times[0], times[1]


@router.get("/expectations/{code}", name="console:expectation")
def expectation(request: Request, code: str, hub: HubDep, console: ConsoleDep,
                who: ExpectationReader, since: str = "", until: str = "") -> Response:
    try:
        stored = service.get(hub.uow, code)
    except NotFound:
        return console.error(request, console.translate(
            request, "There is no expectation with this code."), 404)
    error = None
    found: dict[str, Any] = {"count": 0, "items": [], "amount_at_risk": {}}
    try:
        start, end = _window(since, until)
        found = analysis.breaches(hub, stored.expectation, start, end, PAGE_ITEMS)
    except InvalidInput as refused:
        error = console.say(request, refused)
    live = service.breaches(hub.uow, code, limit=PAGE_ITEMS)
    with hub.db.read() as conn:
        numbers = order_numbers(conn, {i["order_id"] for i in found["items"]}
                                | {b.order_id for b in live})
    query = "&".join(f"{k}={v}" for k, v in (("since", since), ("until", until)) if v)
    return console.render(request, "expectation.html", {
        "nav": "diagnosis", "x": stored, "found": found, "live": live, "numbers": numbers,
        "since": since, "until": until, "error": error, "query": query,
        "can_edit": allowed(who.role, "expectations.edit"), **_choices()},
        status=422 if error else 200)


@router.get("/expectations/{code}/breaches.xlsx", name="console:expectation-export")
def export_breaches(request: Request, code: str, hub: HubDep, console: ConsoleDep,
                    who: ExpectationReader, since: str = "", until: str = "") -> Response:
    try:
        stored = service.get(hub.uow, code)
        start, end = _window(since, until)
    except NotFound:
        return console.error(request, console.translate(
            request, "There is no expectation with this code."), 404)
    except InvalidInput as refused:
        return console.error(request, console.say(request, refused), 422)
    found = analysis.breaches(hub, stored.expectation, start, end, EXPORT_ITEMS)
    with hub.db.read() as conn:
        numbers = order_numbers(conn, {i["order_id"] for i in found["items"]})
    rows = [[numbers.get(i["order_id"], ""), i["order_id"], excel_time(i["after_at"]),
             excel_time(i["due_at"]), excel_time(i["resolved_at"])] for i in found["items"]]
    columns = [("平台订单号 Order number", 24), ("订单ID Order ID", 38),
               ("A 发生时间 A happened", 20), ("应到时间 Due", 20),
               ("B 到达时间 B arrived", 20)]
    body = sheet_bytes("预期未达成", columns, rows, {3: "yyyy-mm-dd hh:mm:ss",
                                                 4: "yyyy-mm-dd hh:mm:ss",
                                                 5: "yyyy-mm-dd hh:mm:ss"})
    day = to_shanghai(hub.clock()).date()  # type: ignore[union-attr]
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": attachment(f"expectation-{code}", f"预期未达成-{code}", day),
        "Cache-Control": "no-store"})
