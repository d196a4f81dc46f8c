"""Signing in and out, the language switch, and the console's role checks.

Roles are checked twice on purpose: templates hide what a role may not do (``can(...)``), and
every route depends on one of the role aliases below (``Reader``, ``HoldPlacer``...), so the
server refuses what a role may not do even when someone sends the request by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.access import allowed
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.audit_context import acting
from orderpilot.entrypoints.console.guard import SESSION_KEY
from orderpilot.entrypoints.console.i18n import LOCALES
from orderpilot.entrypoints.console.render import Console, ConsoleDep, csrf_token, is_htmx
from orderpilot.entrypoints.console.throttle import LoginThrottle
from orderpilot.entrypoints.proxies import TrustedProxies
from orderpilot.services.accounts import Principal, authenticate, end_session, start_session

router = APIRouter(prefix="/console")
HOME = "/console"
API_DOCS_PAGES = ("/docs", "/redoc")  # served beside the console (entrypoints/api/docs.py)
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work one request can ask


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """Signed in with a password an administrator reset: choose a new one first."""


# The pages a user with a one-time password may open: the ones that change it.
PASSWORD_PAGES = frozenset({"console:password", "console:password_submit"})


class NotPermitted(Exception):
    def __init__(self, permission: str) -> None:
        self.permission = permission


def safe_next(target: str | None) -> str:
    """Only paths inside the console (and the API docs): a login link must not send anyone
    elsewhere."""
    if not target:
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//") or "\\" in target:
        return HOME
    inside = parts.path == HOME or parts.path.startswith(HOME + "/")
    return target if inside or parts.path in API_DOCS_PAGES else HOME


def current_user(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "console_principal", None)
    if principal is None:
        # After signing in, come back to the page: for HTMX, the page the request came from.
        url = urlsplit(request.headers.get("hx-current-url", "")) if is_htmx(request) \
            else urlsplit(str(request.url))
        raise LoginRequired(safe_next(url.path + (f"?{url.query}" if url.query else "")))
    route = request.scope.get("route")
    if principal.must_change_password and getattr(route, "name", None) not in PASSWORD_PAGES:
        raise PasswordChangeRequired()
    acting(principal, "console")  # the audit trail's person
    return principal


User = Annotated[Principal, Depends(current_user)]


def _permit(permission: str) -> Callable[[Principal], Principal]:
    def check(principal: User) -> Principal:
        if not allowed(principal.role, permission):
            raise NotPermitted(permission)
        return principal

    return check


Reader = Annotated[Principal, Depends(_permit("orders.read"))]
HoldPlacer = Annotated[Principal, Depends(_permit("holds.place"))]
HoldReleaser = Annotated[Principal, Depends(_permit("holds.release"))]
ExceptionWorker = Annotated[Principal, Depends(_permit("exceptions.act"))]
Exporter = Annotated[Principal, Depends(_permit("orders.export"))]
NoteWriter = Annotated[Principal, Depends(_permit("orders.note"))]
DispatchAdmin = Annotated[Principal, Depends(_permit("dispatch.manage"))]
UserManager = Annotated[Principal, Depends(_permit("users.manage"))]
AuditLogReader = Annotated[Principal, Depends(_permit("audit_log.read"))]
RuleManager = Annotated[Principal, Depends(_permit("rules.manage"))]
InventoryReader = Annotated[Principal, Depends(_permit("inventory.read"))]
InventoryManager = Annotated[Principal, Depends(_permit("inventory.manage"))]
PromotionManager = Annotated[Principal, Depends(_permit("promotions.manage"))]
ChannelOperator = Annotated[Principal, Depends(_permit("channels.operate"))]
ChannelManager = Annotated[Principal, Depends(_permit("channels.manage"))]
AuditReader = Annotated[Principal, Depends(_permit("audit.read"))]
AuditRunner = Annotated[Principal, Depends(_permit("audit.run"))]
DiagnosisReader = Annotated[Principal, Depends(_permit("diagnosis.read"))]
ReturnsReader = Annotated[Principal, Depends(_permit("returns.read"))]
KpiReader = Annotated[Principal, Depends(_permit("kpis.read"))]
WebhookReader = Annotated[Principal, Depends(_permit("webhooks.read"))]
WebhookManager = Annotated[Principal, Depends(_permit("webhooks.manage"))]
ReturnPolicyManager = Annotated[Principal, Depends(_permit("returns.policy"))]


def login_redirect(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    target = f"{HOME}/login?next={quote(exc.next_path, safe='/')}"
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def password_change_redirect(request: Request, exc: Exception) -> Response:
    target = f"{HOME}/account/password"
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def forbidden(request: Request, exc: Exception) -> Response:
    console: Console = request.app.state.console
    message = console.translate(
        request, "Your role may not do this. Ask an administrator if you need it.")
    return console.error(request, message, 403)


class SignInAccounts:
    """Verifying a password takes a while: do it outside a write transaction, and take one
    only in the rare case that the stored hash must be upgraded."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def user_by_name(self, username: str) -> Any:
        with self.hub.db.read() as conn:
            return AccountRepository(conn).user_by_name(username)

    def set_password(self, user_id: str, password_hash: str) -> None:
        with self.hub.db.write() as conn:
            AccountRepository(conn).set_password(user_id, password_hash)


@router.get("/login", name="console:login")
def login_page(request: Request, console: ConsoleDep, next: str = HOME) -> Response:
    if getattr(request.state, "console_principal", None) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return console.render(request, "login.html", {"next": safe_next(next)})


@router.post("/login", name="console:login_submit")
def login(request: Request, hub: HubDep, console: ConsoleDep,
          username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = HOME) -> Response:
    throttle: LoginThrottle = request.app.state.login_throttle
    keys = (username.strip().lower()[:64], client_address(request))
    wait = throttle.wait_seconds(*keys)
    if wait:
        return console.render(request, "login.html", {
            "next": safe_next(next), "error": _wait_message(console, request, wait),
            "username": username}, status=429, headers={"Retry-After": str(wait)})
    principal = None
    if len(username) <= 64 and len(password) <= MAX_PASSWORD:
        principal = authenticate(SignInAccounts(hub), username.strip().lower(), password)
    if principal is None:
        throttle.failed(*keys)
        error = console.translate(request, "Wrong username or password.")
        return console.render(request, "login.html", {"next": safe_next(next), "error": error,
                                                      "username": username}, status=401)
    throttle.succeeded(*keys)
    begin_session(request, hub, principal.id)
    return RedirectResponse(safe_next(next), status_code=303)


def client_address(request: Request) -> str:
    trusted: TrustedProxies = request.app.state.trusted_proxies
    peer = request.client.host if request.client else "-"
    return trusted.client_of(peer, request.headers.get("x-forwarded-for"))


def _wait_message(console: Console, request: Request, wait: int) -> str:
    if wait < 120:
        return console.translate(request, "Too many failed sign-ins. Try again in "
                                          "%(seconds)d seconds.") % {"seconds": wait}
    return console.translate(request, "Too many failed sign-ins. Try again in %(minutes)d "
                                      "minutes.") % {"minutes": (wait + 59) // 60}


def begin_session(request: Request, hub: Hub, user_id: str) -> None:
    """A fresh session (new key, new anti-forgery token) for the signed-in user; the language
    chosen before signing in is kept."""
    with hub.db.write() as conn:
        key = start_session(AccountRepository(conn), user_id, hub.clock,
                            hub.settings.session_max_age_hours)
    locale = request.session.get("locale")
    request.session.clear()
    request.session[SESSION_KEY] = key
    if locale in LOCALES:
        request.session["locale"] = locale
    csrf_token(request.session)


@router.post("/logout", name="console:logout")
def logout(request: Request, hub: HubDep) -> Response:
    key = request.session.get(SESSION_KEY)
    if isinstance(key, str):  # ended in the database: a copy of the cookie is worthless now
        with hub.db.write() as conn:
            end_session(AccountRepository(conn), key)
    locale = request.session.get("locale")
    request.session.clear()
    if locale in LOCALES:
        request.session["locale"] = locale
    return RedirectResponse(f"{HOME}/login", status_code=303)


@router.post("/locale", name="console:set_locale")
def set_locale(request: Request, locale: Annotated[str, Form()] = "",
               next: Annotated[str, Form()] = HOME) -> Response:
    if locale in LOCALES:
        request.session["locale"] = locale
    return RedirectResponse(safe_next(next), status_code=303)
