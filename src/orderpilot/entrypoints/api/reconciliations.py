"""/api/v1/reconciliations: three-way reconciliation runs (docs/reconciliation.md).

    POST /api/v1/reconciliations                     run: JSON {"since", "until"} or a form
                                                     with since, until and files storefront,
                                                     erp, wms (.xlsx/.csv)
    GET  /api/v1/reconciliations                     the latest runs (the rate over time)
    GET  /api/v1/reconciliations/{id}?class=         one run and its discrepancies
    POST /api/v1/reconciliations/{id}/discrepancies/{n}/fix   {"action": "fix"|"accept"}
    GET|PUT /api/v1/reconciliations/auto-fix         the classes fixed automatically
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.reconciliation import SIDES
from orderpilot.entrypoints.api.deps import HubDep, require
from orderpilot.entrypoints.reconciliation import (
    item_json,
    reconciliations,
    run_json,
    summary_json,
)
from orderpilot.services.accounts import Principal

router = APIRouter(prefix="/api/v1/reconciliations", tags=["reconciliation"])
CanReadReconciliations = Annotated[Principal, Depends(require("reconcile.read"))]
CanRunReconciliations = Annotated[Principal, Depends(require("reconcile.run"))]
CanFixDiscrepancies = Annotated[Principal, Depends(require("reconcile.fix"))]
CanConfigureReconciliation = Annotated[Principal, Depends(require("reconcile.configure"))]
MAX_FILE = 64 * 1024 * 1024


async def _period_and_files(request: Request,
                            folder: Path) -> tuple[Any, Any, dict[str, Any]]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "multipart/form-data":
        form = await request.form()
        files: dict[str, tuple[Path, str]] = {}
        for side in SIDES:
            upload = form.get(side)
            if isinstance(upload, UploadFile) and upload.filename:
                data = await upload.read(MAX_FILE + 1)
                if len(data) > MAX_FILE:
                    raise InvalidInput(f"{upload.filename} is larger than 64 MB", field=side,
                                       zh=f"{upload.filename} 超过 64 MB")
                name = Path(upload.filename).name
                path = folder / f"{side}{Path(name).suffix.lower()}"
                path.write_bytes(data)
                files[side] = (path, name)
        return form.get("since"), form.get("until"), files
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise InvalidInput('the body must be JSON {"since", "until"} or a form',
                           field="body",
                           zh='请求体应为 JSON {"since", "until"} 或表单') from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body",
                           zh="请求体应为 JSON 对象")
    return body.get("since"), body.get("until"), {}


@router.post("", status_code=201, summary="Run a reconciliation for a period")
async def run(request: Request, hub: HubDep, who: CanRunReconciliations) -> JSONResponse:
    with tempfile.TemporaryDirectory(prefix="reconcile-") as folder:
        since, until, files = await _period_and_files(request, Path(folder))
        service = reconciliations(hub)
        summary = await to_thread.run_sync(lambda: service.run(since, until, files, who.name))
    items = await to_thread.run_sync(lambda: service.items(summary.id))
    return JSONResponse(run_json(summary, items), status_code=201)


@router.get("", summary="The latest runs, newest first")
async def runs(hub: HubDep, _: CanReadReconciliations,
               limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    found = await to_thread.run_sync(lambda: reconciliations(hub).store.runs(limit))
    return {"items": [summary_json(r) for r in found]}


@router.get("/auto-fix", summary="The classes fixed automatically after a run")
async def auto_fix(hub: HubDep, _: CanReadReconciliations) -> dict[str, Any]:
    return {"classes": await to_thread.run_sync(reconciliations(hub).auto_fix_classes)}


@router.put("/auto-fix", summary="Choose the classes fixed automatically (admins)")
async def set_auto_fix(hub: HubDep, who: CanConfigureReconciliation,
                       classes: Annotated[list[str], Body(embed=True)]) -> dict[str, Any]:
    chosen = await to_thread.run_sync(
        lambda: reconciliations(hub).set_auto_fix(classes, who.name))
    return {"classes": chosen}


@router.get("/{run_id}", summary="One run and its discrepancies")
async def one(run_id: str, hub: HubDep, _: CanReadReconciliations,
              kind: Annotated[str | None, Query(alias="class")] = None) -> dict[str, Any]:
    service = reconciliations(hub)
    summary = await to_thread.run_sync(lambda: service.get(run_id))
    items = await to_thread.run_sync(lambda: service.items(run_id, kind or None))
    return run_json(summary, items)


@router.post("/{run_id}/discrepancies/{n}/fix", summary="Fix or accept one discrepancy")
async def fix(run_id: str, n: Annotated[int, PathParam(ge=1, le=2**31 - 1)], hub: HubDep,
              who: CanFixDiscrepancies,
              action: Annotated[str, Body(embed=True)] = "fix") -> dict[str, Any]:
    service = reconciliations(hub)
    item = await to_thread.run_sync(lambda: service.resolve(run_id, n, action, who.name))
    return item_json(item)
