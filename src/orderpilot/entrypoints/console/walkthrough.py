"""穿行测试 (walkthrough audit, S12a): run one (sample size, seed), list past runs, show a run's
summary, its per-node lag chart (ECharts bars with the target line) and per-order findings,
with links to its Excel and standalone-page downloads (the API's, which take the session).
Viewers read runs with addresses masked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.domain.access import allowed
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.walkthrough import DEFAULT_SAMPLE, FIELDS, SYSTEMS
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.audit_requests import params_of
from orderpilot.entrypoints.console.auth import AuditReader, AuditRunner
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.services.accounts import Principal
from orderpilot.services.walkthrough import AuditRun

router = APIRouter(prefix="/console/diagnosis")


def lag_chart(run: AuditRun, zh: bool) -> dict[str, Any]:
    """ECharts options: p50 and p99 lag per node as bars, the target as a marked line."""
    nodes = run.summary["nodes"]
    target = run.summary["lag_target_seconds"]
    names = [n["zh"] if zh else n["en"] for n in nodes]
    return {
        "grid": {"left": 8, "right": 24, "top": 28, "bottom": 8, "containLabel": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "xAxis": {"type": "value", "name": "秒" if zh else "s"},
        "yAxis": {"type": "category", "data": names, "inverse": True},
        "series": [
            {"type": "bar", "name": "p50", "data": [n["p50_seconds"] for n in nodes],
             "itemStyle": {"color": "#84adea"}},
            {"type": "bar", "name": "p99", "data": [
                {"value": n["p99_seconds"],
                 "itemStyle": {"color": "#d92d20" if n["p99_seconds"] > target
                               else "#2e6ad1"}} for n in nodes],
             "markLine": {"symbol": "none", "lineStyle": {"color": "#101828", "type": "dashed"},
                          "label": {"formatter": f"{target:g} s"},
                          "data": [{"xAxis": target}]}},
        ],
    }


def _page(request: Request, hub: HubDep, console: ConsoleDep, who: Principal,
          run_id: str | None, *, form: dict[str, Any] | None = None, error: str = "",
          status: int = 200) -> Response:
    pii = allowed(who.role, "pii.read")
    service = hub.walkthrough()
    run = None
    if run_id:
        try:
            run = service.get(run_id, pii=pii)
        except OrderpilotError as refused:
            return console.error(request, console.say(request, refused), 404)
    zh = console.locale(request) == "zh_CN"
    return console.render(request, "walkthrough.html", {
        "nav": "diagnosis", "runs": service.recent(50), "run": run,
        "chart": lag_chart(run, zh) if run and run.summary["nodes"] else None,
        "systems": SYSTEMS, "fields": FIELDS, "error": error,
        "form": form or {"sample": DEFAULT_SAMPLE, "seed": ""}}, status=status)


@router.get("/walkthrough", name="console:walkthrough")
def walkthrough_page(request: Request, hub: HubDep, console: ConsoleDep,
                     who: AuditReader) -> Response:
    return _page(request, hub, console, who, None)


@router.get("/walkthrough/{audit_id}", name="console:walkthrough-view")
def walkthrough_view(request: Request, audit_id: str, hub: HubDep, console: ConsoleDep,
                     who: AuditReader) -> Response:
    return _page(request, hub, console, who, audit_id)


@router.post("/walkthrough", name="console:walkthrough-run")
async def run_walkthrough(request: Request, hub: HubDep, console: ConsoleDep,
                          who: AuditRunner) -> Response:
    form = {k: str(v).strip() for k, v in (await request.form()).items()
            if k in ("sample", "seed")}
    body: dict[str, Any] = {}
    for key in ("sample", "seed"):
        if form.get(key):
            body[key] = int(form[key]) if form[key].isdigit() else form[key]
    body.setdefault("sample", DEFAULT_SAMPLE)
    try:
        params = params_of(body)
        run = hub.walkthrough().run(params, who.name, None, pii=allowed(who.role, "pii.read"))
    except OrderpilotError as refused:
        return _page(request, hub, console, who, None, form=form,
                     error=console.say(request, refused), status=422)
    return RedirectResponse(str(request.url_for("console:walkthrough-view", audit_id=run.id)),
                            status_code=303)
