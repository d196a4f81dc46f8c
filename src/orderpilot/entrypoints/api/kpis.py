"""/api/v1/kpis: the outcome KPIs of the orders placed in a period (docs/outcomes.md), their
trend per day or week, and the manual-intervention rate with the orders behind each figure
(S12b). Every role may read them; order lists carry no buyer data."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from orderpilot.adapters.views import kpi_details as details
from orderpilot.adapters.views.kpis import Scope, outcome_kpis
from orderpilot.domain import return_metrics as periods
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.intake import CHANNELS
from orderpilot.entrypoints.api.deps import CanReadKpis, HubDep

router = APIRouter(prefix="/api/v1", tags=["kpis"])
PERIOD = ("since/until: a day (Beijing; until includes that day) or a time (without an "
          "offset, Beijing); by default the last 30 days, at most 366. An order counts in the "
          "period of its placed_at. channel and shop narrow to one channel's or shop's orders.")
Since = Annotated[str | None, Query(max_length=40)]
Until = Annotated[str | None, Query(max_length=40)]
Channel = Annotated[str | None, Query(max_length=32)]
Shop = Annotated[str | None, Query(max_length=64)]


def scope_of(hub: HubDep, since: str | None, until: str | None, channel: str | None,
             shop: str | None) -> Scope:
    if channel and channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}",
                           field="channel", zh=f"未知渠道 {channel!r}；可用：{'、'.join(CHANNELS)}")
    start, end = periods.period_bounds(since, until, hub.clock())
    return Scope(start, end, channel or None, shop or None)


@router.get("/kpis", summary="Outcome KPIs of the orders placed in a period", description=PERIOD)
def kpis(hub: HubDep, who: CanReadKpis, since: Since = None, until: Until = None,
         channel: Channel = None, shop: Shop = None) -> dict[str, Any]:
    scope = scope_of(hub, since, until, channel, shop)
    with hub.db.read() as conn:
        return outcome_kpis(conn, since=scope.since, until=scope.until, channel=scope.channel,
                            shop=scope.shop, now=hub.clock())


@router.get("/kpis/trend", summary="The outcome KPIs per day or week of a period",
            description=PERIOD + " bucket: day or week (Beijing, weeks from Monday).")
def kpi_trend(hub: HubDep, who: CanReadKpis, since: Since = None, until: Until = None,
              channel: Channel = None, shop: Shop = None,
              bucket: Annotated[str, Query(max_length=8)] = "day") -> dict[str, Any]:
    scope = scope_of(hub, since, until, channel, shop)
    with hub.db.read() as conn:
        return {"bucket": bucket, "points": details.trend(conn, scope, bucket, hub.clock())}


@router.get("/kpis/manual-interventions",
            summary="Orders that needed a person (S12b), per day, channel and reason, "
                    "with the orders behind the figure",
            description=PERIOD + " day (YYYY-MM-DD, Beijing, of placed_at) and reason (an "
                        "audit action, or hold.place:<hold reason>) narrow the order list.")
def manual_interventions(hub: HubDep, who: CanReadKpis, since: Since = None,
                         until: Until = None, channel: Channel = None, shop: Shop = None,
                         day: Annotated[str | None, Query(max_length=10)] = None,
                         reason: Annotated[str | None, Query(max_length=100)] = None,
                         page: Annotated[int, Query(ge=1, le=10000)] = 1,
                         per_page: Annotated[int, Query(ge=1, le=200)] = 50
                         ) -> dict[str, Any]:
    scope = scope_of(hub, since, until, channel, shop)
    if day:
        try:
            date.fromisoformat(day)
        except ValueError:
            raise InvalidInput("day must be a day as YYYY-MM-DD", field="day",
                               zh="day 应为 YYYY-MM-DD 格式的日期") from None
    with hub.db.read() as conn:
        found = details.manual_interventions(conn, scope, day=day or None,
                                             reason=reason or None,
                                             offset=(page - 1) * per_page, limit=per_page)
    return {**found, "page": page, "per_page": per_page}
