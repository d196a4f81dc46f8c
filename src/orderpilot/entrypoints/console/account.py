"""The signed-in user's own account: changing the password ends every other session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import (
    MAX_PASSWORD,
    SignInAccounts,
    User,
    begin_session,
    client_address,
)
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.entrypoints.console.throttle import LoginThrottle
from orderpilot.services.accounts import authenticate, change_password

router = APIRouter(prefix="/console")
MIN_PASSWORD = 8


@router.get("/account/password", name="console:password")
def password_page(request: Request, console: ConsoleDep, user: User) -> Response:
    return console.render(request, "password.html", {})


@router.post("/account/password", name="console:password_submit")
def change(request: Request, hub: HubDep, console: ConsoleDep, user: User,
           current: Annotated[str, Form()] = "", new: Annotated[str, Form()] = "",
           repeat: Annotated[str, Form()] = "") -> Response:
    def refuse(message: str, field: str, status: int) -> Response:
        return console.render(request, "password.html", {
            "error": console.translate(request, message), "field": field}, status=status)

    # Guessing the current password on a borrowed session is slowed like signing in.
    throttle: LoginThrottle = request.app.state.login_throttle
    keys = (user.name, client_address(request))
    if throttle.wait_seconds(*keys):
        return refuse("Too many wrong passwords. Try again later.", "current", 429)
    if len(current) > MAX_PASSWORD or authenticate(SignInAccounts(hub), user.name,
                                                   current) is None:
        throttle.failed(*keys)
        return refuse("The current password is wrong.", "current", 403)
    if not MIN_PASSWORD <= len(new) <= MAX_PASSWORD:
        return refuse("The new password needs at least 8 characters.", "new", 422)
    if new != repeat:
        return refuse("The two new passwords differ.", "repeat", 422)
    with hub.db.write() as conn:
        change_password(AccountRepository(conn), user.name, new, hub.clock)
    begin_session(request, hub, user.id)  # every session ended: this browser gets a new one
    return console.render(request, "password.html", {"done": True})
