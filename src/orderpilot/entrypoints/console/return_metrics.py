"""退货指标: the returns metrics page (/console/returns/metrics), charts beside their tables,
and its Excel download. The numbers are the API's (adapters/views/return_metrics.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.adapters.views import return_metrics as views
from orderpilot.domain import return_metrics as m
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.times import SHANGHAI
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import ReturnsReader
from orderpilot.entrypoints.console.i18n import CHANNELS
from orderpilot.entrypoints.console.render import Console, ConsoleDep
from orderpilot.entrypoints.console.return_metrics_sheet import sheet_bytes_for
from orderpilot.entrypoints.console.workbooks import attachment

router = APIRouter(prefix="/console/returns")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(hub: HubDep, since: str, until: str,
            channel: str) -> tuple[views.Period, InvalidInput | None]:
    now = hub.clock()
    chosen = channel if channel in CHANNELS else None
    try:
        start, end = m.period_bounds(since or None, until or None, now)
    except InvalidInput as exc:
        start, end = m.period_bounds(None, None, now)
        return views.Period(start, end, chosen), exc
    return views.Period(start, end, chosen), None


def _day(moment: datetime, *, end: bool = False) -> str:
    """The Beijing day a bound falls on (the end bound is exclusive)."""
    local = moment.astimezone(SHANGHAI)
    if end and local.time() == datetime.min.time():
        local -= timedelta(days=1)
    return local.date().isoformat()


def _charts(say: Any, zh: bool, data: dict[str, Any], sla: float) -> dict[str, Any]:
    """ECharts options the page draws: accuracy (typed vs routed), processing time against
    the SLA, reasons, SKU return rates."""
    def name(item: dict[str, Any]) -> str:
        return str(item["zh"] if zh else item["en"])

    a = data["address_accuracy"]
    percent = {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}}
    grid = {"left": 8, "right": 16, "top": 32, "bottom": 8, "containLabel": True}
    steps = data["processing_hours"]
    reasons = list(reversed(data["by_reason"]))
    skus = data["by_sku"]
    return {
        "accuracy": {
            "tooltip": {"trigger": "axis"}, "grid": grid,
            "xAxis": {"type": "category",
                      "data": [say("Typed by the buyer"), say("Routed by outlet")]},
            "yAxis": percent,
            "series": [{"type": "bar", "barMaxWidth": 56, "label": {"show": True,
                                                                     "position": "top",
                                                                     "formatter": "{c}%"},
                        "data": [_pct(a["typed_address_baseline"]["rate"]),
                                 _pct(a["rate"])]}]},
        "processing": {
            "tooltip": {"trigger": "axis"}, "legend": {"top": 0}, "grid": grid,
            "xAxis": {"type": "category", "data": [name(s) for s in steps],
                      "axisLabel": {"interval": 0, "width": 90, "overflow": "break"}},
            "yAxis": {"type": "value", "name": say("hours")},
            "series": [
                {"name": "P50", "type": "bar", "data": [s["p50"] for s in steps],
                 "markLine": {"symbol": "none", "lineStyle": {"color": "#c62828",
                                                              "type": "dashed"},
                              "label": {"formatter": say("SLA") + " {c} h",
                                        "position": "insideEndTop"},
                              "data": [{"yAxis": sla}]}},
                {"name": "P90", "type": "bar", "data": [s["p90"] for s in steps]}]},
        "reasons": {
            "tooltip": {"trigger": "axis"}, "grid": grid,
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": [name(r) for r in reasons]},
            "series": [{"type": "bar", "name": say("Returns"),
                        "data": [r["returns"] for r in reasons]}]},
        "skus": {
            "tooltip": {"trigger": "axis"}, "grid": grid,
            "xAxis": {"type": "category", "data": [s["sku"] for s in skus],
                      "axisLabel": {"rotate": 30}},
            "yAxis": {"type": "value", "axisLabel": {"formatter": "{value}%"}},
            "series": [{"type": "bar", "name": say("Return rate"),
                        "data": [_pct(s["rate"]) for s in skus]}]},
    }


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


@router.get("/metrics", name="console:return-metrics")
def page(request: Request, hub: HubDep, console: ConsoleDep, who: ReturnsReader,
         since: str = "", until: str = "", channel: str = "") -> Response:
    period, problem = _period(hub, since[:40], until[:40], channel)
    with hub.db.read() as conn:
        data = views.metrics(conn, period)
    return _render(request, console, hub, data, period, problem)


def _render(request: Request, console: Console, hub: HubDep, data: dict[str, Any],
            period: views.Period, problem: InvalidInput | None) -> Response:
    zh = console.locale(request) == "zh_CN"
    query = {"since": _day(period.since), "until": _day(period.until, end=True)}
    if period.channel:
        query["channel"] = period.channel
    sla = float(hub.settings.returns_sla_hours)
    return console.render(request, "return_metrics.html", {
        "nav": "returns", "tab": "metrics", "data": data, "query": query,
        "channels": CHANNELS, "sla_hours": sla,
        "charts": _charts(lambda text: console.translate(request, text), zh, data, sla),
        "export_query": urlencode(query),
        "error": f"{problem.field}: {console.say(request, problem)}" if problem else None},
        status=422 if problem else 200)


@router.get("/metrics.xlsx", name="console:return-metrics-export")
def export(request: Request, hub: HubDep, console: ConsoleDep, who: ReturnsReader,
           since: str = "", until: str = "", channel: str = "") -> Response:
    period, problem = _period(hub, since[:40], until[:40], channel)
    if problem is not None:
        return console.error(request, f"{problem.field}: {console.say(request, problem)}", 422)
    with hub.db.read() as conn:
        data = views.metrics(conn, period)
    return Response(sheet_bytes_for(data), media_type=XLSX, headers={
        "Content-Disposition": attachment("return-metrics", "退货指标",
                                          period.until.astimezone(SHANGHAI).date()),
        "Cache-Control": "no-store"})
