"""/api/v1/expectations: "after A, expect B within T" (docs/expectations.md).

    GET    /api/v1/expectations                   every expectation, open breaches, at risk
    GET    /api/v1/expectations/templates         the seed's four, to start from
    GET    /api/v1/expectations/{code}
    PUT    /api/v1/expectations/{code}            create or replace; evaluated over all history
    DELETE /api/v1/expectations/{code}            disable (pending clocks cancelled)
    GET    /api/v1/expectations/{code}/breaches?since=&until=   retroactive, over the snapshot
    POST   /api/v1/expectations/{code}/evaluate   count again over all history
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Body, Query

from orderpilot.domain.times import filter_time
from orderpilot.entrypoints import expectation_analysis as analysis
from orderpilot.entrypoints.api.deps import CanEditExpectations, CanReadExpectations, HubDep
from orderpilot.services import expectations as service

router = APIRouter(prefix="/api/v1/expectations", tags=["expectations"])
Declaration = Annotated[Any, Body(description="{name_zh, name_en, after, expect, "
                                              "within_minutes, source?, condition?, severity}")]


@router.get("")
async def listing(hub: HubDep, _: CanReadExpectations) -> dict[str, Any]:
    return {"items": await to_thread.run_sync(lambda: service.overview(hub.uow))}


@router.get("/templates")
async def templates(_: CanReadExpectations) -> dict[str, Any]:
    return {"items": service.templates()}


@router.get("/{code}")
async def one(code: str, hub: HubDep, _: CanReadExpectations) -> dict[str, Any]:
    """The expectation and the breaches its live clocks recorded (the latest 500)."""

    def run() -> dict[str, Any]:
        shown = service.get(hub.uow, code).shown()
        return {**shown, "breaches": [b.shown() for b in service.breaches(hub.uow, code,
                                                                          limit=500)]}

    return await to_thread.run_sync(run)


@router.put("/{code}")
async def put(code: str, body: Declaration, hub: HubDep,
              who: CanEditExpectations) -> dict[str, Any]:
    return await to_thread.run_sync(lambda: service.publish(
        hub.uow, hub.clock, code, body, who.name, analysis.evaluator(hub)))


@router.delete("/{code}")
async def disable(code: str, hub: HubDep, who: CanEditExpectations) -> dict[str, Any]:
    return await to_thread.run_sync(lambda: service.disable(hub.uow, hub.clock, code,
                                                            who.name))


@router.post("/{code}/evaluate")
async def evaluate(code: str, hub: HubDep, _: CanEditExpectations) -> dict[str, Any]:
    return await to_thread.run_sync(lambda: service.evaluate_now(
        hub.uow, hub.clock, code, analysis.evaluator(hub)))


@router.get("/{code}/breaches")
async def breaches(code: str, hub: HubDep, _: CanReadExpectations,
                   since: datetime | None = None, until: datetime | None = None,
                   limit: Annotated[int, Query(ge=0, le=10_000)] = 1000) -> dict[str, Any]:
    filter_time(since, "since")
    filter_time(until, "until")

    def run() -> dict[str, Any]:
        stored = service.get(hub.uow, code)
        return analysis.breaches(hub, stored.expectation, since, until, limit)

    return await to_thread.run_sync(run)
