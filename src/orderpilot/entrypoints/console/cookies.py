"""The session cookie: HttpOnly, SameSite=Lax, and Secure outside loopback.

With ``ORDERPILOT_SECURE_COOKIES=auto`` (the default) the cookie is Secure unless the browser
can only be on this machine: the hub is bound to a loopback address, or the request came over
plain http to a loopback name or address (``localhost``, ``127.0.0.1``, ``[::1]``). A request
relayed by a trusted proxy always gets a Secure cookie: the browser is elsewhere and the proxy
should speak HTTPS to it. ``true`` and ``false`` override the choice.

Starlette's session middleware fixes the flag when it is built, so two are built, one per
choice, and each request goes through the one that fits.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from orderpilot.entrypoints.proxies import TrustedProxies


def is_loopback(host: str) -> bool:
    name = host.strip().lower().strip("[]")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):  # [::1]:8000
        return host_header[1:].partition("]")[0]
    return host_header.rpartition(":")[0] if host_header.count(":") == 1 else host_header


class SessionCookies:
    def __init__(self, app: ASGIApp, *, secret_key: str, session_cookie: str, max_age: int,
                 mode: str, bind_host: str, trusted: TrustedProxies) -> None:
        options = {"secret_key": secret_key, "session_cookie": session_cookie,
                   "same_site": "lax", "max_age": max_age}
        self.secure = SessionMiddleware(app, https_only=True, **options)  # type: ignore[arg-type]
        self.plain = SessionMiddleware(app, https_only=False, **options)  # type: ignore[arg-type]
        self.mode, self.bind_host, self.trusted = mode, bind_host, trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self.secure if self.wants_secure(scope) else self.plain
        await app(scope, receive, send)

    def wants_secure(self, scope: Scope) -> bool:
        if self.mode in ("true", "false"):
            return self.mode == "true"
        peer = (scope.get("client") or ("", 0))[0]
        if self.trusted.trusts(peer):
            return True
        if is_loopback(self.bind_host):
            return False
        if scope.get("scheme") in ("https", "wss"):
            return True
        local = (scope.get("server") or ("", 0))[0]
        host = _host_name(Headers(scope=scope).get("host", ""))
        return not (is_loopback(str(local)) or is_loopback(host))
