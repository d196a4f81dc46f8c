"""The exception queue's one-click Excel export, and the admins' dead letters and quarantine.
The queue itself is the workbench (workbench.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.adapters.views import console as queries
from orderpilot.adapters.views import orders as read_models
from orderpilot.domain.access import allowed
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console import exports
from orderpilot.entrypoints.console.auth import DispatchAdmin, Exporter
from orderpilot.entrypoints.console.render import ConsoleDep

router = APIRouter(prefix="/console")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BREACHES_SHOWN = 20  # open expectation breaches under the holds (the diagnosis page has all)


@router.get("/exports/pending-shipment-exceptions.xlsx", name="console:export_exceptions")
def export_pending_shipment_exceptions(
        hub: HubDep, who: Exporter) -> Response:
    with hub.db.read() as conn:
        rows = read_models.pending_shipment_exceptions(conn)
    body = exports.workbook_bytes(rows, show_pii=allowed(who.role, "pii.read"))
    day = queries.business_day(hub.clock())
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": exports.content_disposition(day), "Cache-Control": "no-store"})


@router.get("/system", name="console:system")
def dead_letters(request: Request, hub: HubDep, console: ConsoleDep,
                 who: DispatchAdmin) -> Response:
    with hub.db.read() as conn:
        dead = read_models.dead_letters(conn)
        quarantined = read_models.quarantined(conn)
        backlog = read_models.backlog(conn)
    return console.render(request, "system.html", {
        "nav": "system", "dead": dead, "quarantined": quarantined, "backlog": backlog})
