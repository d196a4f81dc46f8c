"""/api/v1/audit-log: the audit trail of people's actions (docs/audit-trail.md), searched
newest first with cursor paging, and the same search as an Excel sheet.

    GET /api/v1/audit-log?actor=&action=&order_id=&subject_type=&via=&since=&until=&q=
                          &cursor=&limit=
    GET /api/v1/audit-log/export.xlsx?(the same filters)
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from orderpilot.adapters.views import audit_log as views
from orderpilot.domain.access import allowed
from orderpilot.entrypoints import audit_log_sheet
from orderpilot.entrypoints.api.deps import CanReadAuditLog, HubDep
from orderpilot.entrypoints.audit_requests import time_of
from orderpilot.entrypoints.console.workbooks import attachment
from orderpilot.services.accounts import Principal

router = APIRouter(prefix="/api/v1/audit-log", tags=["audit trail"])
Short = Annotated[str, Query(max_length=100)]


def search_of(actor: str = "", action: str = "", order_id: str = "", subject_type: str = "",
              via: str = "", since: str = "", until: str = "", q: str = "",
              cursor: int | None = None, limit: int = 50) -> views.AuditSearch:
    return views.AuditSearch(actor.strip(), action.strip(), order_id.strip(),
                             subject_type.strip(), via.strip(), time_of(since, "since"),
                             time_of(until, "until"), q.strip(), cursor, limit)


def _masked(who: Principal) -> bool:
    return not allowed(who.role, "pii.read")


@router.get("", summary="The audit trail, newest first (cursor paging)")
def audit_log(hub: HubDep, who: CanReadAuditLog, actor: Short = "", action: Short = "",
              order_id: Short = "", subject_type: Short = "", via: Short = "",
              since: Short = "", until: Short = "", q: Short = "",
              cursor: Annotated[int | None, Query(ge=1, le=2 ** 62)] = None,
              limit: Annotated[int, Query(ge=1, le=views.MAX_LIMIT)] = 50) -> dict[str, Any]:
    search = search_of(actor, action, order_id, subject_type, via, since, until, q, cursor,
                       limit)
    with hub.db.read() as conn:
        return views.search(conn, search, masked=_masked(who))


@router.get("/export.xlsx", summary="The audit trail's entries for these filters as Excel")
def audit_log_export(hub: HubDep, who: CanReadAuditLog, actor: Short = "", action: Short = "",
                     order_id: Short = "", subject_type: Short = "", via: Short = "",
                     since: Short = "", until: Short = "", q: Short = "") -> Response:
    search = search_of(actor, action, order_id, subject_type, via, since, until, q,
                       limit=audit_log_sheet.MAX_ROWS)
    with hub.db.read() as conn:
        items = views.search(conn, search, masked=_masked(who))["items"]
    return Response(audit_log_sheet.workbook(items), media_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), headers={
        "Content-Disposition": attachment(audit_log_sheet.FILE_STEM, audit_log_sheet.SHEET_TITLE,
                                          hub.clock().date())})
