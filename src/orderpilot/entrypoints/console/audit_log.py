"""操作审计: the audit trail of people's actions, searched with the API's filters, a page at a
time, with what changed shown before → after, and the same search as an Excel download."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.adapters.views import audit_log as views
from orderpilot.domain.access import allowed
from orderpilot.domain.audit import ACTION_NAMES, SUBJECT_NAMES, VIA_NAMES, changes
from orderpilot.domain.errors import InvalidInput
from orderpilot.entrypoints import audit_log_sheet
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.audit_requests import time_of
from orderpilot.entrypoints.console.auth import AuditLogReader
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.entrypoints.console.workbooks import attachment

router = APIRouter(prefix="/console")
PAGE_SIZE = 50
FILTERS = ("actor", "action", "subject_type", "via", "order_id", "since", "until", "q")


def _search(values: dict[str, str], cursor: int | None, limit: int) -> views.AuditSearch:
    """The form's filters; a bare date in "until" includes that whole day."""
    until = time_of(values["until"], "until")
    if until is not None and len(values["until"]) == 10:
        until += timedelta(days=1)
    return views.AuditSearch(values["actor"], values["action"], values["order_id"],
                             values["subject_type"], values["via"],
                             time_of(values["since"], "since"), until, values["q"], cursor,
                             limit)


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           sort_keys=True)


def with_diff(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with ``diff``: (field, before, after) as text, for each field that changed."""
    return {**entry, "diff": [(field, _shown(old), _shown(new))
                              for field, old, new in changes(entry["before"], entry["after"])]}


def _values(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip()[:100] for k in FILTERS}


@router.get("/audit-log", name="console:audit-log")
def audit_log(request: Request, hub: HubDep, console: ConsoleDep,
              who: AuditLogReader) -> Response:
    values = _values(request)
    cursor = request.query_params.get("cursor", "")
    error: str | None = None
    page: dict[str, Any] = {"items": [], "next_cursor": None}
    with hub.db.read() as conn:
        if cursor and not cursor.isdigit():
            error = console.translate(request, "This page link is broken; start from the "
                                               "first page.")
        else:
            try:
                page = views.search(conn, _search(values, int(cursor) if cursor else None,
                                                  PAGE_SIZE),
                                    masked=not allowed(who.role, "pii.read"))
            except InvalidInput as problem:
                error = console.say(request, problem)
        choices = views.choices(conn)
    query = {k: v for k, v in values.items() if v}
    return console.render(request, "audit_log.html", {
        "nav": "audit-log", "items": [with_diff(e) for e in page["items"]], "values": values,
        "error": error,
        "actions": choices["actions"], "subject_types": choices["subject_types"],
        "action_names": ACTION_NAMES, "subject_names": SUBJECT_NAMES, "via_names": VIA_NAMES,
        "first_page": bool(cursor), "base_query": urlencode(query),
        "export_query": urlencode(query),
        "next_query": urlencode({**query, "cursor": page["next_cursor"]})
        if page["next_cursor"] else None}, status=422 if error else 200)


@router.get("/audit-log/export.xlsx", name="console:audit-log-export")
def audit_log_export(request: Request, hub: HubDep, console: ConsoleDep,
                     who: AuditLogReader) -> Response:
    try:
        search = _search(_values(request), None, audit_log_sheet.MAX_ROWS)
    except InvalidInput as problem:
        return console.error(request, console.say(request, problem), 422)
    with hub.db.read() as conn:
        items = views.search(conn, search, masked=not allowed(who.role, "pii.read"))["items"]
    return Response(audit_log_sheet.workbook(items), media_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), headers={
        "Content-Disposition": attachment(audit_log_sheet.FILE_STEM,
                                          audit_log_sheet.SHEET_TITLE, hub.clock().date())})
