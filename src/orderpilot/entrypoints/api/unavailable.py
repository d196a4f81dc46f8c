"""The database going away is a 503 with ``Retry-After``, for the API and the console alike.

Pure ASGI, just inside the request measuring, so it also catches what the layers under it
(the console's session guard, the response masking) raise, not only the routes. The error is
logged (its text carries no SQL parameters: engines hide them, and the log is masked).
"""

from __future__ import annotations

import json

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderpilot.adapters.db import UNAVAILABLE
from orderpilot.entrypoints.api.errors import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_MESSAGE,
    UNAVAILABLE_MESSAGE_ZH,
    error_body,
)

PAGE = ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<title>503</title></head><body><main><h1>数据库暂时不可用</h1>"
        f"<p>请 {RETRY_AFTER_SECONDS} 秒后重试。</p>"
        "<p lang=\"en\">The database is unavailable for a moment. "
        f"Try again in {RETRY_AFTER_SECONDS} s.</p></main></body></html>")


class DatabaseUnavailable:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def note_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, note_start)
        except UNAVAILABLE as error:
            # A logger made now, not at import: it writes where logging points at this moment.
            structlog.get_logger("orderpilot.api").warning(
                "database_unavailable", path=scope.get("path"),
                error=str(error)[:2000])
            if started:  # too late for a status: the client sees the connection end
                raise
            await _answer(scope, send)


async def _answer(scope: Scope, send: Send) -> None:
    headers = dict(scope.get("headers", []))
    html = scope.get("path", "").startswith("/console") and b"hx-request" not in headers
    if html:
        body, media = PAGE.encode(), b"text/html; charset=utf-8"
    else:
        body = json.dumps(error_body("database_unavailable", UNAVAILABLE_MESSAGE,
                                     message_zh=UNAVAILABLE_MESSAGE_ZH)).encode()
        media = b"application/json"
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", media),
                            (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(RETRY_AFTER_SECONDS).encode())]})
    await send({"type": "http.response.body", "body": body})
