"""Operational routes: health, metrics, lifecycle model, dispatch backlog, quarantine."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from orderpilot.adapters.views import orders as read_models
from orderpilot.domain.errors import NotFound
from orderpilot.domain.lifecycle import EVENT_TYPES, NODES
from orderpilot.entrypoints.api.deps import (
    CanManageDispatch,
    CanReadOrders,
    HubDep,
    current_principal,
    require,
)

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness and database check (no token needed)")
def healthz(hub: HubDep) -> dict[str, Any]:
    with hub.db.read() as conn:
        conn.exec_driver_sql("SELECT 1")
    return {"status": "ok", "database": hub.db.dialect}


def _metrics_guard(request: Request, hub: HubDep) -> None:
    if not hub.settings.metrics_public:
        require("metrics.read")(current_principal(request, hub))


@router.get("/metrics", summary="Prometheus metrics", dependencies=[Depends(_metrics_guard)])
def metrics(hub: HubDep) -> Response:
    with hub.db.read() as conn:
        for queue, count in read_models.backlog(conn).items():
            hub.metrics.backlog.labels(queue).set(count)
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
