"""/api/v1/erp: the Kingdee field mapping finance edits, and the bookings staff watch.

    GET  /api/v1/erp/mapping                    the mapping in force (the default until saved)
    PUT  /api/v1/erp/mapping                    replace it; 422 naming every problem (zh/en)
    GET  /api/v1/erp/bookings?status=stopped    counts by status, stopped ones with reasons
    POST /api/v1/erp/bookings/{order_id}/retry  queue a stopped booking again
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Body, Query

from orderpilot.entrypoints.api.deps import CanManageErp, CanReadOrders, HubDep
from orderpilot.integrations.kingdee.mapping import default_document, parse_mapping
from orderpilot.services.back_office import finance

router = APIRouter(prefix="/api/v1/erp", tags=["erp"])
Document = Annotated[dict[str, Any], Body(description="The field mapping (see "
                                                      "docs/back_office/kingdee.md)")]


def _validate(document: object) -> dict[str, Any]:
    return parse_mapping(document).document


@router.get("/mapping")
async def get_mapping(hub: HubDep, _: CanReadOrders) -> dict[str, Any]:
    org = hub.settings.kingdee_org_number
    return await to_thread.run_sync(
        lambda: finance.mapping(hub.uow, lambda: default_document(org)))


@router.put("/mapping")
async def put_mapping(document: Document, hub: HubDep, who: CanManageErp) -> dict[str, Any]:
    return await to_thread.run_sync(
        lambda: finance.save_mapping(hub.uow, hub.clock, document, who.name, _validate))


@router.get("/bookings")
async def bookings(hub: HubDep, _: CanReadOrders,
                   status: Literal["queued", "booked", "stopped"] | None = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    return await to_thread.run_sync(lambda: finance.overview(hub.uow, status, limit))


@router.post("/bookings/{order_id}/retry")
async def retry(order_id: str, hub: HubDep, _: CanManageErp) -> dict[str, Any]:
    await to_thread.run_sync(lambda: finance.requeue(hub.uow, hub.clock, order_id))
    return {"order_id": order_id, "status": "queued"}
