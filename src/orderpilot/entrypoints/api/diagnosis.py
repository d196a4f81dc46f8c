"""/api/v1/diagnosis: the lifecycle board drawn from what happened (issue 12).

    GET /api/v1/diagnosis/flow?since=&until=&channel=&shop_id=&sku=
        transitions (count, p50/p90/p99/mean seconds, target, grade), reporting sources (lag,
        late, duplicates, out-of-order), findings in zh and en, the order count, the snapshot
    GET /api/v1/diagnosis/flow/slowest?from=paid&to=erp_booked&limit=20  (+ the same filters)
        the orders that took longest on one edge

``since``/``until`` select orders by placed_at (a date is a Beijing day; see domain/flow.py);
a bad one is a 422 naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query

from orderpilot.adapters.analytics import flow
from orderpilot.domain.flow import parse_edge, parse_filter
from orderpilot.entrypoints.api.deps import CanReadDiagnosis, HubDep

router = APIRouter(prefix="/api/v1/diagnosis", tags=["diagnosis"])
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/flow")
async def board(hub: HubDep, _: CanReadDiagnosis, since: Text = None, until: Text = None,
                channel: Text = None, shop_id: Text = None, sku: Text = None) -> dict[str, Any]:
    chosen = parse_filter(since, until, channel, shop_id, sku)
    return await to_thread.run_sync(lambda: flow.board(hub.analytics(), chosen))


@router.get("/flow/slowest")
async def slowest(hub: HubDep, _: CanReadDiagnosis,
                  from_node: Annotated[str, Query(alias="from", min_length=1, max_length=64,
                                                  description="a lifecycle node code")],
                  to_node: Annotated[str, Query(alias="to", min_length=1, max_length=64)],
                  limit: Annotated[int, Query(ge=1, le=500)] = 20,
                  since: Text = None, until: Text = None, channel: Text = None,
                  shop_id: Text = None, sku: Text = None) -> dict[str, Any]:
    chosen = parse_filter(since, until, channel, shop_id, sku)
    edge = parse_edge(from_node, to_node)
    items = await to_thread.run_sync(
        lambda: flow.slowest_orders(hub.analytics(), chosen, *edge, limit))
    return {"from": edge[0], "to": edge[1], "items": items}
