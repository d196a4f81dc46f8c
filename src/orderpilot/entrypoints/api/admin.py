"""Operational routes: health, readiness, metrics, lifecycle model, dispatch backlog,
quarantine."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orderpilot.adapters.db import UNAVAILABLE
from orderpilot.adapters.views import operations
from orderpilot.adapters.views import orders as read_models
from orderpilot.domain.errors import NotFound
from orderpilot.domain.lifecycle import EVENT_TYPES, NODES
from orderpilot.entrypoints.api.deps import (
    CanManageDispatch,
    CanReadOrders,
    HubDep,
    allow,
    principal_now,
)
from orderpilot.entrypoints.api.errors import RETRY_AFTER_SECONDS

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness and database check (no token needed)")
def healthz(hub: HubDep) -> dict[str, Any]:
    with hub.db.read() as conn:
        conn.exec_driver_sql("SELECT 1")
    return {"status": "ok", "database": hub.db.dialect}


@router.get("/readyz", summary="Readiness: the database answers and the backlog is not too old "
                              "(no token needed)",
            responses={503: {"description": "Not ready: the JSON says why"}})
def readyz(hub: HubDep) -> JSONResponse:
    """503 while the database cannot be reached, or while the oldest event due for delivery
    has waited longer than ORDERPILOT_READY_MAX_BACKLOG_SECONDS (workers stopped or behind)."""
    limit = hub.settings.ready_max_backlog_seconds
    try:
        with hub.db.read() as conn:
            age = operations.outbox_age_seconds(conn, hub.clock())
    except UNAVAILABLE as error:
        return _not_ready("database_unreachable", "the database cannot be reached",
                          "无法连接数据库", database=hub.db.dialect,
                          error=type(error).__name__)
    state = {"database": hub.db.dialect, "backlog_age_seconds": round(age, 3),
             "max_backlog_age_seconds": limit}
    if limit and age > limit:
        return _not_ready("backlog_too_old",
                          f"the oldest event due for delivery has waited {age:.0f} s "
                          f"(more than {limit:g} s): are the workers running?",
                          f"最早待投递的事件已等待 {age:.0f} 秒（超过 {limit:g} 秒），"
                          "请检查 worker 是否在运行", **state)
    return JSONResponse({"status": "ready", **state})


def _not_ready(reason: str, message: str, message_zh: str, **state: Any) -> JSONResponse:
    return JSONResponse({"status": "not_ready", "reason": reason, "message": message,
                         "message_zh": message_zh, **state}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS),
                                 "Cache-Control": "no-store"})


def _metrics_guard(request: Request, hub: HubDep) -> None:
    if not hub.settings.metrics_public:
        allow(principal_now(request, hub), "metrics.read")


@router.get("/metrics", summary="Prometheus metrics", dependencies=[Depends(_metrics_guard)])
def metrics(hub: HubDep) -> Response:
    with hub.db.read() as conn:
        for queue, count in read_models.backlog(conn).items():
            hub.metrics.backlog.labels(queue).set(count)
        hub.metrics.record_state(operations.operations_state(conn, hub.clock()))
    return Response(generate_latest(hub.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/lifecycle", summary="The lifecycle nodes and reportable event types")
def lifecycle(who: CanReadOrders) -> dict[str, Any]:
    return {"nodes": [{"id": n.id, "zh": n.zh, "en": n.en, "reported_by": list(n.reported_by),
                       "next": list(n.next)} for n in NODES],
            "event_types": [{"type": e.type, "node": e.node, "system": e.system, "zh": e.zh,
                             "en": e.en} for e in EVENT_TYPES.values()]}


@router.get("/api/v1/dispatch", summary="Outbox backlog and dead letters")
def dispatch_status(hub: HubDep, who: CanManageDispatch) -> dict[str, Any]:
    with hub.db.read() as conn:
        return {"backlog": read_models.backlog(conn), "dead": read_models.dead_letters(conn)}


@router.post("/api/v1/dispatch/dead/{event_id}/retry", summary="Retry a dead-lettered event")
def retry_dead(event_id: str, hub: HubDep, who: CanManageDispatch) -> dict[str, Any]:
    with hub.uow() as uow:
        count = uow.outbox.retry_dead(hub.clock(), event_id)
    if count == 0:
        raise NotFound(f"no dead-lettered event {event_id}", field="event_id",
                       zh=f"没有死信事件 {event_id}")
    return {"retried": count}


@router.get("/api/v1/quarantine", summary="Rejected payloads kept with their reason")
def quarantine(hub: HubDep, who: CanReadOrders,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    with hub.db.read() as conn:
        return {"items": read_models.quarantined(conn, limit)}
