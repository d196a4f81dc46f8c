"""/api/v1/audits: the walkthrough audit (S12a; docs/walkthrough.md).

    POST /api/v1/audits/walkthrough            {"sample": 100, "seed"?, "since"?, "until"?}
                                               -> 201 with the run (audit.run)
    GET  /api/v1/audits/walkthrough            past runs, newest first (summary only)
    GET  /api/v1/audits/walkthrough/{id}       one run with its findings
    GET  /api/v1/audits/walkthrough/{id}.xlsx  the run as an Excel workbook
    GET  /api/v1/audits/walkthrough/{id}.html  the run as a standalone page

Readers without ``pii.read`` get addresses masked in every form.
"""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Body, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from orderpilot.adapters.audit_files import render_html, workbook_bytes
from orderpilot.domain.access import allowed
from orderpilot.entrypoints.api.deps import CanReadAudits, CanRunAudits, HubDep
from orderpilot.entrypoints.audit_requests import params_of
from orderpilot.services.walkthrough import AuditRun, as_dict

router = APIRouter(prefix="/api/v1/audits", tags=["audits"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.post("/walkthrough", status_code=201)
async def run_walkthrough(hub: HubDep, who: CanRunAudits,
                          body: Annotated[Any, Body()] = None) -> JSONResponse:
    params = params_of(body if body is not None else {})
    pii = allowed(who.role, "pii.read")
    run = await to_thread.run_sync(
        lambda: hub.walkthrough().run(params, who.name, None, pii=pii))
    return JSONResponse(as_dict(run), status_code=201)


@router.get("/walkthrough")
async def list_walkthroughs(hub: HubDep, _: CanReadAudits,
                            limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    runs = await to_thread.run_sync(lambda: hub.walkthrough().recent(limit))
    return {"items": [as_dict(r, with_result=False) for r in runs]}


def _run(hub: HubDep, run_id: str, role: str) -> AuditRun:
    return hub.walkthrough().get(run_id, pii=allowed(role, "pii.read"))


@router.get("/walkthrough/{run_id}.xlsx")
async def walkthrough_xlsx(run_id: str, hub: HubDep, who: CanReadAudits) -> Response:
    run = await to_thread.run_sync(lambda: _run(hub, run_id, who.role))
    return Response(workbook_bytes(run), media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="walkthrough-{run.id[:8]}.xlsx"'})


@router.get("/walkthrough/{run_id}.html")
async def walkthrough_html(run_id: str, hub: HubDep, who: CanReadAudits) -> HTMLResponse:
    run = await to_thread.run_sync(lambda: _run(hub, run_id, who.role))
    return HTMLResponse(render_html(run), headers={
        "Content-Disposition": f'attachment; filename="walkthrough-{run.id[:8]}.html"'})


@router.get("/walkthrough/{run_id}")
async def get_walkthrough(run_id: str, hub: HubDep, who: CanReadAudits) -> dict[str, Any]:
    run = await to_thread.run_sync(lambda: _run(hub, run_id, who.role))
    return as_dict(run)
