"""Builds the FastAPI application around a Hub: API routes, console, metrics, errors."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from orderpilot import __version__
from orderpilot.adapters.quarantine import keep_in_quarantine
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api import admin, errors, orders
from orderpilot.entrypoints.api.deps import TokenCache


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

    @app.middleware("http")
    async def measure(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        if "\x00" in request.url.path or "%00" in request.url.query.lower():
            return JSONResponse(errors.error_body(
                "invalid_input", "the URL contains a NUL character", "url"), status_code=422)
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        hub.metrics.http_latency.labels(request.method, path, str(response.status_code)) \
            .observe(time.perf_counter() - started)
        return response

    return app
