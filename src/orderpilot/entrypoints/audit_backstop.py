"""The audit trail's backstop (docs/audit-trail.md): a change a signed-in person made through the
API or the console that no service recorded still leaves one generic entry, ``request``, with
the method, the route template, its path parameters and the status.

It is written in a transaction of its own once the status is known and before the response
starts, so a client that got its answer finds the entry. Routes where systems report what
happened (orders placed, events reported, channel and carrier hooks) and signing in or out are
not people's decisions and are skipped; so is the console's language switch."""

from __future__ import annotations

from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderpilot.bootstrap import Hub
from orderpilot.services import audit_trail

CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# (method, route template) of intake, sign-in, and POSTs that only compute an answer (a
# preview, a try, a check); hooks are skipped by their prefix.
NOT_DECISIONS = frozenset({
    ("POST", "/api/v1/orders"),
    ("POST", "/api/v1/orders/{order_id}/events"),
    ("PUT", "/api/v1/inventory/levels"),  # a system reports on-hand stock
    ("POST", "/console/login"),
    ("POST", "/console/logout"),
    ("POST", "/console/locale"),
    ("POST", "/api/v1/orders/bulk/preview"),
    ("POST", "/api/v1/rules/validate"),
    ("POST", "/api/v1/rules/try"),
    ("POST", "/api/v1/rules/backtest"),
    ("POST", "/api/v1/decision-tables/{name}/evaluate"),
    ("POST", "/api/v1/expectations/{code}/evaluate"),
    ("POST", "/console/rules/form"),
    ("POST", "/console/rules/try"),
    ("POST", "/console/rules/backtest"),
    ("POST", "/console/decision-tables/example"),
    ("POST", "/console/decision-tables/{name}/try"),
})
HOOKS = ("/hooks/", "/api/v1/hooks/")


def route_template(scope: Scope) -> str | None:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


def needs_entry(method: str, template: str | None, status: int) -> bool:
    return (method in CHANGES and status < 400 and template is not None
            and (method, template) not in NOT_DECISIONS and not template.startswith(HOOKS))


class RecordRequests:
    """Inside ``ActorSlots`` (which opens the request's slot): after the endpoint ran, if the
    person acting recorded nothing, one ``request`` entry."""

    def __init__(self, app: ASGIApp, hub: Hub) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in CHANGES:
            await self.app(scope, receive, send)
            return

        async def send_after_recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                slot = audit_trail.current_slot()
                template = route_template(scope)
                if (slot is not None and slot.actor is not None and slot.recorded == 0
                        and not slot.system_report
                        and needs_entry(scope["method"], template, message["status"])):
                    await anyio.to_thread.run_sync(
                        self._record, slot, scope, template, message["status"])
            await send(message)

        await self.app(scope, receive, send_after_recording)

    def _record(self, slot: audit_trail.ActorSlot, scope: Scope, template: str | None,
                status: int) -> None:
        params: dict[str, Any] = {k: str(v) for k, v in (scope.get("path_params") or {}).items()}
        with self.hub.uow() as uow:
            audit_trail.record(
                uow, self.hub.clock, "request", subject_type="request",
                subject_id=scope.get("path", "")[:200], order_id=params.get("order_id"),
                detail={"method": scope["method"], "route": template, "path_params": params,
                        "status": status}, actor=slot.actor)
