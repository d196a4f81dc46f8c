"""Who is calling and whether the request is forged, before any route runs.

Every unsafe request (POST, PUT, PATCH, DELETE) to /console, and to /api when it rides on the
console's session cookie, must carry the session's anti-forgery token: in the X-CSRF-Token
header (HTMX sends it from ``hx-headers`` on <body>) or in a ``csrf_token`` form field. Checking
here rather than per route means no route can forget it. /api calls with a bearer token are
not affected: browsers never attach that header on their own.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.render import CSRF_KEY, Console
from orderpilot.services.accounts import Principal, principal_for_session

API_DOCS = frozenset({"/docs", "/redoc", "/openapi.json"})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_KEY = "sid"  # the random key of a row in console_sessions
MAX_FORM_BYTES = 64 * 1024  # console forms are a few fields; anything larger is not ours


def load_principal(hub: Hub, session_key: str) -> Principal | None:
    """Read the session and its user on every request (no cache), so signing out, a password
    change, a disabled user or a changed role count at once."""
    with hub.db.read() as conn:
        return principal_for_session(AccountRepository(conn), session_key, hub.clock)


class SessionGuard:
    """Pure ASGI, inside SessionMiddleware: sets request.state.console_principal and checks the
    anti-forgery token. The body is read only for form posts without the header, then replayed."""

    def __init__(self, app: ASGIApp, hub: Hub, console: Console) -> None:
        self.app, self.hub, self.console = app, hub, console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        is_console = path.startswith("/console")
        is_api = path.startswith("/api") or path in API_DOCS  # the docs need a signed-in user
        if scope["type"] != "http" or not (is_console or is_api):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        session: dict[str, Any] = scope.get("session", {})
        bearer = is_api and "authorization" in request.headers
        principal = None
        if isinstance(session.get(SESSION_KEY), str) and not bearer:
            principal = await to_thread.run_sync(load_principal, self.hub, session[SESSION_KEY])
            if principal is None:
                session.pop(SESSION_KEY, None)
        scope.setdefault("state", {})["console_principal"] = principal
        if scope["method"] in UNSAFE and (is_console or principal is not None):
            sent = request.headers.get("x-csrf-token", "")
            if is_console and request.headers.get("content-type", "").startswith(
                    "application/x-www-form-urlencoded"):
                body = await _read_body(receive)
                if body is None:
                    await Response("form too large", 413)(scope, receive, send)
                    return
                receive = _replay(body, receive)
                fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
                unstorable = next((name for name, values in fields.items()
                                   if "\x00" in name or any("\x00" in v for v in values)), None)
                if unstorable is not None:
                    await self._refuse_nul(request, unstorable)(scope, receive, send)
                    return
                sent = sent or fields.get("csrf_token", [""])[0]
            expected = session.get(CSRF_KEY)
            if not (isinstance(expected, str) and sent
                    and secrets.compare_digest(sent.encode(), expected.encode())):
                await self._refuse(request, is_api)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _refuse_nul(self, request: Request, field: str) -> Response:
        """No form field may hold a NUL character: it is never meaningful in what staff type,
        and PostgreSQL cannot store it (the API's models refuse it the same way)."""
        message = self.console.translate(
            request, "The field %(field)s contains an invisible NUL character; remove it and "
                     "try again.") % {"field": field.replace("\x00", "")[:64]}
        return self.console.error(request, message, 422)

    def _refuse(self, request: Request, is_api: bool) -> Response:
        text = N_("The security check failed: this form is out of date. Reload the page and try "
                  "again.")
        if is_api:  # the API's envelope: English in message, Chinese in message_zh
            return JSONResponse({"error": {
                "code": "csrf_failed", "message": text, "field": "X-CSRF-Token",
                "message_zh": self.console.translations["zh_CN"].gettext(text)}},
                status_code=403)
        return self.console.error(request, self.console.translate(request, text), 403)


async def _read_body(receive: Receive) -> bytes | None:
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_FORM_BYTES:
            return None
    return body


def _replay(body: bytes, receive: Receive) -> Receive:
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        done = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
