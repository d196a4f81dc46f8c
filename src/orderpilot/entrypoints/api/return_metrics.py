"""/api/v1/returns/metrics: address accuracy, processing time, return rates and co-returned
SKUs for a period (docs/returns.md, Metrics). No personal data: addresses are compared, never
shown."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from orderpilot.adapters.views import return_metrics as views
from orderpilot.domain import return_metrics as m
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.intake import CHANNELS
from orderpilot.entrypoints.api.deps import CanReadReturns, HubDep

router = APIRouter(prefix="/api/v1", tags=["returns"])


@router.get("/returns/metrics", summary="Returns metrics for a period (default the last 30 days)",
            description="since/until: a day (Beijing; until includes that day) or a time "
                        "(without an offset, Beijing). channel narrows to one channel's "
                        "orders.")
def return_metrics(hub: HubDep, who: CanReadReturns,
                   since: Annotated[str | None, Query(max_length=40)] = None,
                   until: Annotated[str | None, Query(max_length=40)] = None,
                   channel: Annotated[str | None, Query(max_length=32)] = None
                   ) -> dict[str, Any]:
    if channel and channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}",
                           field="channel", zh=f"未知渠道 {channel!r}；可用：{'、'.join(CHANNELS)}")
    start, end = m.period_bounds(since, until, hub.clock())
    with hub.db.read() as conn:
        return views.metrics(conn, views.Period(start, end, channel or None))
