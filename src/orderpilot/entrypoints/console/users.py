"""用户与令牌: administrators (``users.manage``) create console users, change their role,
reset their password (a temporary one, shown once), deactivate and reactivate them, end their
sessions, and create and revoke API tokens (shown once). Every change is in the audit trail
(services/accounts.py); the last active administrator cannot be demoted or deactivated."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.domain.access import ROLES
from orderpilot.domain.errors import NotFound, OrderpilotError
from orderpilot.entrypoints.api.deps import HubDep, TokenCache
from orderpilot.entrypoints.api.errors import STATUS
from orderpilot.entrypoints.console.auth import UserManager
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.render import Console, ConsoleDep
from orderpilot.entrypoints.user_views import session_rows, token_rows, user_rows
from orderpilot.services import accounts

router = APIRouter(prefix="/console")
Field = Annotated[str, Form(max_length=200)]


def _page(request: Request, hub: Any, console: Console, *, status: int = 200,
          **shown: Any) -> Response:
    with hub.db.read() as conn:
        repo = AccountRepository(conn)
        users = user_rows(repo, hub.clock)
        for user in users:
            user["sessions"] = session_rows(repo, user["username"], hub.clock)
        tokens = token_rows(repo)
    return console.render(request, "users.html", {
        "nav": "users", "users": users, "tokens": tokens, "roles": ROLES, **shown},
        status=status)


def _change(request: Request, hub: Any, console: Console, change: Any,
            done: str, **shown: Any) -> Response:
    """CHANGE(repo) in one write transaction; the page again with DONE, or with the refusal
    in the user's language (409 for the last administrator, 404, 422)."""
    refused = _apply(hub, change)
    if refused is not None:
        return _page(request, hub, console, status=refused_status(refused),
                     error=console.say(request, refused))
    return _page(request, hub, console, notice=console.translate(request, done), **shown)


def _apply(hub: Any, change: Any) -> OrderpilotError | None:
    try:
        with hub.db.write() as conn:
            change(AccountRepository(conn))
    except OrderpilotError as refused:
        return refused
    return None


def refused_status(error: OrderpilotError) -> int:
    return next((s for cls, s in STATUS.items() if isinstance(error, cls)), 400)


@router.get("/users", name="console:users")
def users_page(request: Request, hub: HubDep, console: ConsoleDep,
               who: UserManager) -> Response:
    return _page(request, hub, console)


@router.post("/users", name="console:user-create")
def create_user(request: Request, hub: HubDep, console: ConsoleDep, who: UserManager,
                username: Field = "", display_name: Field = "", role: Field = "") -> Response:
    password = accounts.temporary_password()
    return _change(request, hub, console, lambda repo: accounts.create_user(
        repo, username.strip(), password, role, hub.clock, display_name.strip(),
        temporary=True), N_("User created. Give them this one-time password; they choose "
                            "their own at the first sign-in."),
        secret=password, secret_for=username.strip())


@router.post("/users/{username}/role", name="console:user-role")
def change_role(request: Request, hub: HubDep, console: ConsoleDep, who: UserManager,
                username: str, role: Field = "") -> Response:
    return _change(request, hub, console,
                   lambda repo: accounts.set_role(repo, username, role, hub.clock),
                   N_("Role changed."))


@router.post("/users/{username}/password", name="console:user-reset")
def reset_password(request: Request, hub: HubDep, console: ConsoleDep, who: UserManager,
                   username: str) -> Response:
    password = accounts.temporary_password()
    return _change(request, hub, console, lambda repo: accounts.reset_password(
        repo, username, password, hub.clock), N_(
        "Password reset and every session of the user ended. Give them this one-time "
        "password; they choose their own at the next sign-in."), secret=password,
        secret_for=username)


@router.post("/users/{username}/state", name="console:user-state")
def change_state(request: Request, hub: HubDep, console: ConsoleDep, who: UserManager,
                 username: str, disabled: Field = "") -> Response:
    off = disabled == "1"
    return _change(request, hub, console,
                   lambda repo: accounts.set_disabled(repo, username, off, hub.clock),
                   N_("User deactivated; their sessions ended.") if off
                   else N_("User reactivated."))


@router.post("/users/{username}/sessions/{session}/end", name="console:user-session-end")
def end_session(request: Request, hub: HubDep, console: ConsoleDep, who: UserManager,
                username: str, session: str) -> Response:
    return _change(request, hub, console, lambda repo: accounts.end_session_of(
        repo, username, session, hub.clock), N_("Session ended."))


@router.post("/tokens", name="console:token-create")
def create_token(request: Request, hub: HubDep, console: ConsoleDep, who: UserManager,
                 name: Field = "", role: Field = "") -> Response:
    made: list[str] = []
    refused = _apply(hub, lambda repo: made.extend(accounts.create_token(
        repo, name, role, hub.clock)))
    if refused is not None:
        return _page(request, hub, console, status=refused_status(refused),
                     error=console.say(request, refused))
    return _page(request, hub, console, notice=console.translate(
        request, "Token created. Copy it now: it is not shown again."), secret=made[1],
        secret_for=name.strip())


@router.post("/tokens/{token_id}/revoke", name="console:token-revoke")
def revoke_token(request: Request, hub: HubDep, console: ConsoleDep, who: UserManager,
                 token_id: str) -> Response:
    def revoke(repo: AccountRepository) -> None:
        if not accounts.revoke_token(repo, token_id, hub.clock):
            raise NotFound(f"no active token {token_id}", field="token_id",
                           zh=f"没有有效的令牌 {token_id}")

    response = _change(request, hub, console, revoke, N_("Token revoked."))
    cache: TokenCache = request.app.state.token_cache
    cache.forget()
    return response
