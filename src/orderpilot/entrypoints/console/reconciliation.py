"""对账 — the three-way reconciliation page: run a reconciliation (period and optional files),
the rate per mille over time against the 0.3 target, the chosen run's discrepancies by class
with their fixes, and its Excel download (docs/reconciliation.md)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.reconciliation import (
    INDUSTRY_PER_MILLE,
    KINDS,
    SIDES,
    TARGET_PER_MILLE,
    RunSummary,
)
from orderpilot.domain.times import SHANGHAI
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import _permit
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.reconciliation_sheet import sheet_bytes_for
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.entrypoints.console.workbooks import attachment
from orderpilot.entrypoints.reconciliation import reconciliations
from orderpilot.services.accounts import Principal

router = APIRouter(prefix="/console/diagnosis/reconciliation")
Reader = Annotated[Principal, Depends(_permit("reconcile.read"))]
Runner = Annotated[Principal, Depends(_permit("reconcile.run"))]
Fixer = Annotated[Principal, Depends(_permit("reconcile.fix"))]
Configurer = Annotated[Principal, Depends(_permit("reconcile.configure"))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_FILE = 64 * 1024 * 1024
HERE = "console:reconciliation"
ACTIONS = {"erp_booking_queued": N_("ERP booking queued"),
           "erp_booking_requeued": N_("Stopped ERP booking queued again"),
           "fixed_by_hand": N_("Fixed by hand"), "accepted": N_("Accepted as it is")}
STATUSES = {"open": N_("Open"), "fixed": N_("Fixed"), "accepted": N_("Accepted")}


def _chart(console: Console, request: Request, runs: list[RunSummary]) -> dict[str, Any]:
    """ECharts options: the rate of each run, oldest first, with the target and the industry."""
    def say(text: str) -> str:
        return console.translate(request, text)

    ordered = list(reversed(runs))
    labels = [f"{r.since:%m-%d}~{r.until:%m-%d} ({r.created_at.astimezone(SHANGHAI):%H:%M})"
              for r in ordered]
    return {
        "tooltip": {"trigger": "axis"}, "legend": {"bottom": 0},
        "grid": {"left": 48, "right": 16, "top": 24, "bottom": 56},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": "‰"},
        "series": [
            {"name": say("Discrepancy rate"), "type": "line", "smooth": False,
             "data": [float(r.per_mille) for r in ordered]},
            {"name": say("Target"), "type": "line", "symbol": "none",
             "lineStyle": {"type": "dashed", "color": "#2e7d32"},
             "data": [float(TARGET_PER_MILLE)] * len(ordered)},
            {"name": say("Industry"), "type": "line", "symbol": "none",
             "lineStyle": {"type": "dotted", "color": "#b26a00"},
             "data": [float(INDUSTRY_PER_MILLE)] * len(ordered)}]}


def _go(request: Request, target: str) -> Response:
    """To the page again: HTMX is told to load it (a 303 would be followed by fetch and the
    whole page swapped into the form); a plain form post is redirected."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return Response(status_code=303, headers={"Location": target})


@router.get("", name=HERE)
def page(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
         run: str = "") -> Response:
    service = reconciliations(hub)
    runs = service.store.runs(60)
    chosen = next((r for r in runs if r.id == run), None) if run else (runs[0] if runs else None)
    if run and chosen is None:
        chosen = service.store.run(run)
    items = service.items(chosen.id) if chosen else []
    groups = [(KINDS[code], [i for i in items if i.item.kind == code])
              for code in KINDS if chosen and chosen.counts.get(code)]
    today = hub.clock().astimezone(SHANGHAI).date()
    return console.render(request, "reconciliation.html", {
        "nav": "diagnosis", "runs": runs, "run": chosen, "groups": groups,
        "chart": _chart(console, request, runs) if runs else None,
        "target": TARGET_PER_MILLE, "industry": INDUSTRY_PER_MILLE,
        "default_day": today - timedelta(days=1), "sides": SIDES,
        "auto_fixable": [k for k in KINDS.values() if k.auto_fix],
        "auto_fix": service.auto_fix_classes(),
        "actions": {code: console.translate(request, text) for code, text in ACTIONS.items()},
        "statuses": {code: console.translate(request, text)
                     for code, text in STATUSES.items()}})


@router.post("/runs", name="console:reconciliation-run")
async def run_one(request: Request, hub: HubDep, console: ConsoleDep, who: Runner) -> Response:
    form = await request.form()
    with tempfile.TemporaryDirectory(prefix="reconcile-") as folder:
        files: dict[str, tuple[Path, str]] = {}
        for side in SIDES:
            upload = form.get(side)
            if isinstance(upload, UploadFile) and upload.filename:
                data = await upload.read(MAX_FILE + 1)
                if len(data) > MAX_FILE:
                    return console.error(request, console.translate(
                        request, "The file is larger than 64 MB."), 422)
                name = Path(upload.filename).name
                files[side] = (Path(folder) / f"{side}{Path(name).suffix.lower()}", name)
                files[side][0].write_bytes(data)
        try:
            summary = reconciliations(hub).run(form.get("since"), form.get("until"), files,
                                               who.name)
        except OrderpilotError as error:
            return console.error(request, console.say(request, error), 422)
    return _go(request, str(request.url_for(HERE)) + f"?run={summary.id}")


@router.post("/resolve", name="console:reconciliation-resolve")
def resolve(request: Request, hub: HubDep, console: ConsoleDep, who: Fixer,
            run: Annotated[str, Form(max_length=36)], n: Annotated[int, Form()],
            action: Annotated[str, Form(max_length=10)]) -> Response:
    try:
        reconciliations(hub).resolve(run, n, action, who.name)
    except OrderpilotError as error:
        return console.error(request, console.say(request, error), 409)
    if is_htmx(request):  # the same page again, reloaded (a link with #item-n would not)
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return _go(request, str(request.url_for(HERE)) + f"?run={run}#item-{n}")


@router.post("/auto-fix", name="console:reconciliation-auto-fix")
async def auto_fix(request: Request, hub: HubDep, console: ConsoleDep,
                   who: Configurer) -> Response:
    form = await request.form()
    chosen = [str(v) for v in form.getlist("classes")]
    try:
        reconciliations(hub).set_auto_fix(chosen, who.name)
    except OrderpilotError as error:
        return console.error(request, console.say(request, error), 422)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return _go(request, str(request.url_for(HERE)))


@router.get("/export.xlsx", name="console:reconciliation-export")
def export(hub: HubDep, who: Reader, run: str = "") -> Response:
    service = reconciliations(hub)
    summary = service.get(run)
    body = sheet_bytes_for(summary, service.items(summary.id))
    return Response(body, media_type=XLSX, headers={
        "Content-Disposition": attachment("reconciliation", "三方对账", summary.until),
        "Cache-Control": "no-store"})
