"""成效 Outcomes: the outcome KPIs dashboard (/console/outcomes) with the seed's before/after
figures beside each card, trends, the figures per channel, the manual interventions by reason
and day, the cancellation reasons, the orders behind each figure and the Excel download. The
numbers are the API's (adapters/views/kpis.py, kpi_details.py; docs/outcomes.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.adapters.views import kpi_details as details
from orderpilot.adapters.views.kpis import Scope, outcome_kpis
from orderpilot.domain import kpis as k
from orderpilot.domain import return_metrics as periods
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.times import SHANGHAI
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import KpiReader
from orderpilot.entrypoints.console.i18n import CHANNELS
from orderpilot.entrypoints.console.outcomes_sheet import sheet_bytes_for
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.entrypoints.console.workbooks import attachment

router = APIRouter(prefix="/console/outcomes")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PRESETS = (7, 30, 90)
PER_PAGE = 50


def _scope(hub: HubDep, since: str, until: str, channel: str, shop: str,
           days: str) -> tuple[Scope, InvalidInput | None]:
    now = hub.clock()
    chosen = channel if channel in CHANNELS else None
    shop = shop.strip()[:64] or ""
    if days.isdigit() and int(days) in PRESETS and not since:
        end = _day_start(now) + timedelta(days=1)
        return Scope(end - timedelta(days=int(days)), end, chosen, shop or None), None
    try:
        start, end = periods.period_bounds(since[:40] or None, until[:40] or None, now)
    except InvalidInput as exc:
        start, end = periods.period_bounds(None, None, now)
        return Scope(start, end, chosen, shop or None), exc
    return Scope(start, end, chosen, shop or None), None


def _day_start(moment: datetime) -> datetime:
    local = moment.astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _day(moment: datetime | None, *, end: bool = False) -> str:
    """The Beijing day a bound falls on (the end bound is exclusive)."""
    if moment is None:
        return ""
    local = moment.astimezone(SHANGHAI)
    if end and local.time() == datetime.min.time():
        local -= timedelta(days=1)
    return local.date().isoformat()


def _query(scope: Scope) -> dict[str, str]:
    query = {"since": _day(scope.since), "until": _day(scope.until, end=True)}
    if scope.channel:
        query["channel"] = scope.channel
    if scope.shop:
        query["shop"] = scope.shop
    return query


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _trend_chart(say: Any, points: list[dict[str, Any]]) -> dict[str, Any]:
    days = [p["start"][:10] for p in points]
    def line(name: str, key: str) -> dict[str, Any]:
        return {"name": name, "type": "line", "connectNulls": True,
                "data": [_pct(p[key]) for p in points]}
    return {
        "tooltip": {"trigger": "axis"}, "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 16, "top": 40, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": days},
        "yAxis": [{"type": "value", "axisLabel": {"formatter": "{value}%"}},
                  {"type": "value", "name": say("hours"), "splitLine": {"show": False}}],
        "series": [line(say("On-time rate"), "on_time_rate"),
                   line(say("Manual-intervention rate"), "manual_intervention_rate"),
                   line(say("Cancellation rate"), "cancellation_rate"),
                   {"name": say("Fulfilment cycle P50 (h)"), "type": "bar", "yAxisIndex": 1,
                    "data": [p["fulfilment_cycle_hours"]["p50"] for p in points]}]}


def _figures(hub: HubDep, scope: Scope) -> dict[str, Any]:
    now = hub.clock()
    bucket = "week" if scope.since and scope.until and \
        (scope.until - scope.since) > timedelta(days=60) else "day"
    with hub.db.read() as conn:
        return {
            "kpis": outcome_kpis(conn, since=scope.since, until=scope.until,
                                 channel=scope.channel, shop=scope.shop, now=now),
            "bucket": bucket, "trend": details.trend(conn, scope, bucket, now),
            "by_channel": details.by_channel(conn, scope, now),
            "manual": details.manual_interventions(conn, scope, limit=0),
            "cancel_reasons": details.cancellation_reasons(conn, scope),
            "shops": details.shops(conn, scope.channel)}


@router.get("", name="console:outcomes")
def page(request: Request, hub: HubDep, console: ConsoleDep, who: KpiReader,
         since: str = "", until: str = "", channel: str = "", shop: str = "",
         days: str = "") -> Response:
    scope, problem = _scope(hub, since, until, channel, shop, days)
    data = _figures(hub, scope)
    query = _query(scope)
    say = lambda text: console.translate(request, text)  # noqa: E731 - one line
    return console.render(request, "outcomes.html", {
        "nav": "outcomes", "data": data, "k": data["kpis"], "query": query,
        "channels": CHANNELS, "presets": PRESETS, "days": days, "seed": k.SEED_FIGURES,
        "goal": k.MANUAL_GOAL, "chart": _trend_chart(say, data["trend"]),
        "query_string": urlencode(query),
        "error": f"{problem.field}: {console.say(request, problem)}" if problem else None},
        status=422 if problem else 200)


@router.get("/orders", name="console:outcome-orders")
def orders(request: Request, hub: HubDep, console: ConsoleDep, who: KpiReader,
           figure: str = "orders", since: str = "", until: str = "", channel: str = "",
           shop: str = "", day: str = "", reason: str = "", page: int = 1) -> Response:
    scope, problem = _scope(hub, since, until, channel, shop, "")
    if problem is not None:
        return console.error(request, f"{problem.field}: {console.say(request, problem)}", 422)
    figure = figure if figure in details.FIGURES else "orders"
    page = max(1, min(page, 10_000))
    offset = (page - 1) * PER_PAGE
    with hub.db.read() as conn:
        if figure == "manual":
            found = details.manual_interventions(conn, scope, day=day[:10] or None,
                                                 reason=reason[:100] or None,
                                                 offset=offset, limit=PER_PAGE)
        else:
            found = details.orders_behind(conn, scope, figure, hub.clock(), offset=offset,
                                          limit=PER_PAGE)
    query = _query(scope) | {"figure": figure}
    if figure == "manual":
        query |= {key: value for key, value in (("day", day[:10]), ("reason", reason[:100]))
                  if value}
    return console.render(request, "outcome_orders.html", {
        "nav": "outcomes", "figure": figure, "found": found, "query": query, "page": page,
        "per_page": PER_PAGE, "reason": reason[:100], "day": day[:10],
        "back": urlencode(_query(scope)),
        "next": urlencode(query | {"page": page + 1})
        if offset + PER_PAGE < found["total"] else None,
        "previous": urlencode(query | {"page": page - 1}) if page > 1 else None})


@router.get(".xlsx", name="console:outcomes-export")
def export(request: Request, hub: HubDep, console: ConsoleDep, who: KpiReader,
           since: str = "", until: str = "", channel: str = "", shop: str = "",
           days: str = "") -> Response:
    scope, problem = _scope(hub, since, until, channel, shop, days)
    if problem is not None:
        return console.error(request, f"{problem.field}: {console.say(request, problem)}", 422)
    data = _figures(hub, scope)
    end = scope.until or hub.clock()
    return Response(sheet_bytes_for(data), media_type=XLSX, headers={
        "Content-Disposition": attachment("outcomes", "成效",
                                          (end - timedelta(microseconds=1))
                                          .astimezone(SHANGHAI).date()),
        "Cache-Control": "no-store"})


