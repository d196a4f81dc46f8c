"""Builds the FastAPI application around a Hub: API routes, console, metrics, errors."""

from __future__ import annotations

from fastapi import FastAPI

from orderpilot import __version__
from orderpilot.adapters.quarantine import keep_in_quarantine
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api import admin, errors, orders
from orderpilot.entrypoints.api.deps import TokenCache
from orderpilot.entrypoints.api.observe import Observe


def create_app(hub: Hub, *, with_console: bool = True) -> FastAPI:
    app = FastAPI(title="orderpilot", version=__version__,
                  description="One canonical order lifecycle fed by every system. Every /api "
                              "route needs `Authorization: Bearer <token>`.")
    app.state.hub = hub
    app.state.token_cache = TokenCache()
    errors.install(app, lambda *args: keep_in_quarantine(hub, *args))
    app.include_router(admin.router)
    app.include_router(orders.router)
    if with_console:
        from orderpilot.entrypoints.console import mount

        mount(app, hub)

    app.add_middleware(Observe, metrics=hub.metrics)  # outermost: sees every request
    return app
