"""415 for a body that is not JSON on a route that reads JSON (pure ASGI middleware).

The /api routes whose body is a JSON model are listed at start-up; upload routes (form and file
fields) and the signed webhooks (/hooks/..., raw bytes) are left alone. A request without a body
(no Content-Length, or 0, and not chunked) passes: the route's own validation says whether a
body was required. Routes are matched only for a request that has a body and is not JSON, so
the usual request costs a header look-up.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from fastapi import FastAPI, params
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from orderpilot.entrypoints.api.errors import error_body

JSON_PREFIXES = ("/api/",)


@dataclass(frozen=True)
class JsonRoute:
    methods: frozenset[str]
    path: re.Pattern[str]


def json_routes(app: FastAPI) -> list[JsonRoute]:
    """The routes reading a JSON body, with their full paths (routers' prefixes included)."""
    found = []
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path
        if isinstance(route, APIRoute) and path and path.startswith(JSON_PREFIXES) \
                and _reads_json(route):
            found.append(JsonRoute(frozenset(context.methods or ()), compile_path(path)[0]))
    return found


def _reads_json(route: APIRoute) -> bool:
    body = route.dependant.body_params
    return bool(body) and not any(isinstance(f.field_info, params.Form) for f in body)


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                            and media.endswith("+json"))


class JsonOnly:
    def __init__(self, app: ASGIApp, routes: list[JsonRoute]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(JSON_PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        has_body = headers.get(b"content-length", b"0").strip() not in (b"", b"0") \
            or b"transfer-encoding" in headers
        if has_body and not is_json(content_type) and any(
                scope["method"] in route.methods and route.path.match(scope["path"])
                for route in self.routes):
            got = content_type[:80] or "none"
            body = json.dumps(error_body(
                "unsupported_media_type",
                f"this route reads JSON: send Content-Type: application/json (got {got})",
                "Content-Type",
                message_zh=f"此接口只接受 JSON：请使用 Content-Type: application/json"
                           f"（收到的是 {got}）")).encode()
            await send({"type": "http.response.start", "status": 415,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
