"""Builds the FastAPI application around a Hub: API routes, console, metrics, errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI

from orderpilot import __version__
from orderpilot.adapters.quarantine import keep_in_quarantine
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api import (
    admin,
    allocation_retry,
    audit_log,
    audits,
    back_office,
    carrier_hooks,
    channels,
    decision_tables,
    diagnosis,
    docs,
    errors,
    exceptions,
    expectations,
    hooks,
    inventory,
    kpis,
    order_cancel,
    order_work,
    orders,
    reconciliations,
    refused_reports,
    return_metrics,
    return_routing,
    returns,
    rules,
    users,
    webhooks,
)
from orderpilot.entrypoints.api.deps import TokenCache
from orderpilot.entrypoints.api.limits import BodyLimit
from orderpilot.entrypoints.api.masking import MaskPersonalData
from orderpilot.entrypoints.api.media_types import JsonOnly, json_routes
from orderpilot.entrypoints.api.observe import Observe
from orderpilot.entrypoints.api.unavailable import DatabaseUnavailable
from orderpilot.entrypoints.audit_backstop import RecordRequests
from orderpilot.entrypoints.audit_context import ActorSlots
from orderpilot.entrypoints.proxies import TrustedProxies


def create_app(hub: Hub, *, with_console: bool = True, dispatcher_threads: int = 0) -> FastAPI:
    """The app; with ``dispatcher_threads`` it also runs the dispatcher for its lifetime and
    lets the current batch finish on shutdown (SIGTERM included) before closing the hub."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if dispatcher_threads:
            hub.start_dispatchers(dispatcher_threads)
        try:
            yield
        finally:
            if dispatcher_threads:
                await anyio.to_thread.run_sync(hub.close)

    app = FastAPI(title="orderpilot", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None,  # served by docs.py
                  description="One canonical order lifecycle fed by every system. Every /api "
                              "route needs `Authorization: Bearer <token>`.")
    app.state.hub = hub
    app.state.token_cache = TokenCache()
    # Who the client is behind reverse proxies (X-Forwarded-For only from these).
    app.state.trusted_proxies = TrustedProxies.parse(hub.settings.trusted_proxies)
    errors.install(app, lambda *args: keep_in_quarantine(hub, *args))
    app.include_router(admin.router)
    app.include_router(order_work.router)  # /bulk before /{order_id}
    app.include_router(orders.router)
    app.include_router(return_metrics.router)  # /returns/metrics before /returns/{id}
    app.include_router(kpis.router)
    app.include_router(returns.router)
    app.include_router(rules.router)
    app.include_router(decision_tables.router)
    app.include_router(inventory.router)
    app.include_router(channels.router)
    app.include_router(carrier_hooks.router)  # /hooks/carriers/... before /hooks/{code}
    app.include_router(hooks.router)
    app.include_router(back_office.router)
    app.include_router(audits.router)
    app.include_router(reconciliations.router)
    app.include_router(expectations.router)
    app.include_router(exceptions.router)  # /groups and /bulk before /{exception_id}
    app.include_router(diagnosis.router)
    app.include_router(return_routing.router)
    app.include_router(allocation_retry.router)
    app.include_router(order_cancel.router)
    app.include_router(refused_reports.router)
    app.include_router(audit_log.router)
    app.include_router(users.router)
    app.include_router(webhooks.router)
    docs.install(app)
    if with_console:
        from orderpilot.entrypoints.console import mount

        mount(app, hub)

    app.add_middleware(MaskPersonalData, hub=hub)
    app.add_middleware(JsonOnly, routes=json_routes(app))
    app.add_middleware(BodyLimit, max_body_bytes=hub.settings.max_body_bytes,
                       max_upload_bytes=hub.settings.max_upload_bytes)
    app.add_middleware(DatabaseUnavailable)
    app.add_middleware(RecordRequests, hub=hub)  # a change nothing recorded: one entry
    app.add_middleware(ActorSlots)  # who acts, for the audit trail
    app.add_middleware(Observe, metrics=hub.metrics)  # outermost: sees every request
    return app
