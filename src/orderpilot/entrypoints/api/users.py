"""/api/v1/users and /api/v1/tokens: console users and API tokens, for administrators
(``users.manage``). Every change is in the audit trail (services/accounts.py); a password is
shown once, when it is generated, and never recorded.

    GET    /api/v1/users                              users with role, state, sessions
    POST   /api/v1/users                              create (a temporary password if none)
    PATCH  /api/v1/users/{username}                   role and/or disabled
    POST   /api/v1/users/{username}/password-reset    a temporary password, shown once
    GET    /api/v1/users/{username}/sessions          live console sessions
    DELETE /api/v1/users/{username}/sessions/{session}  sign one session out
    GET    /api/v1/tokens, POST /api/v1/tokens, DELETE /api/v1/tokens/{token_id}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import Field

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.domain.errors import NotFound
from orderpilot.entrypoints.api.deps import CanManageUsers, HubDep, TokenCache
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.entrypoints.user_views import session_rows, token_rows, user_rows
from orderpilot.services import accounts

router = APIRouter(prefix="/api/v1", tags=["users"])
Username = Annotated[str, Path(min_length=1, max_length=64)]


class UserIn(Strict):
    username: Annotated[str, Field(max_length=64)]
    role: Annotated[str, Field(max_length=16)]
    display_name: Annotated[str, Field(max_length=100)] = ""
    password: Annotated[str | None, Field(min_length=8, max_length=1024)] = None
    locale: Annotated[str, Field(pattern="^(zh_CN|en)$")] = "zh_CN"


class UserChange(Strict):
    role: Annotated[str | None, Field(max_length=16)] = None
    disabled: bool | None = None


class TokenIn(Strict):
    name: Annotated[str, Field(max_length=100)]
    role: Annotated[str, Field(max_length=16)]
    sources: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=20)] = []


@router.get("/users", summary="Console users: role, state, live sessions")
def list_users(hub: HubDep, who: CanManageUsers) -> dict[str, Any]:
    with hub.db.read() as conn:
        return {"items": user_rows(AccountRepository(conn), hub.clock)}


@router.post("/users", status_code=201, summary="Create a console user")
def create_user(hub: HubDep, who: CanManageUsers, body: UserIn) -> dict[str, Any]:
    temporary = body.password is None
    password = body.password or accounts.temporary_password()
    with hub.db.write() as conn:
        repo = AccountRepository(conn)
        user_id = accounts.create_user(repo, body.username, password, body.role, hub.clock,
                                       body.display_name, body.locale, temporary=temporary)
    answer: dict[str, Any] = {"id": user_id, "username": body.username, "role": body.role}
    if temporary:
        answer["password"] = password  # shown once; they choose their own at sign-in
    return answer


@router.patch("/users/{username}", summary="Change a user's role, disable or enable them")
def change_user(hub: HubDep, who: CanManageUsers, username: Username,
                body: UserChange) -> dict[str, Any]:
    ended = 0
    with hub.db.write() as conn:
        repo = AccountRepository(conn)
        if body.role is not None:
            accounts.set_role(repo, username, body.role, hub.clock)
        if body.disabled is not None:
            ended = accounts.set_disabled(repo, username, body.disabled, hub.clock)
        user = repo.user_by_name(username)
    if user is None:
        raise NotFound.coded("user.not_found", field="username", username=username)
    return {"username": user.username, "role": user.role, "disabled": user.disabled,
            "sessions_ended": ended}


@router.post("/users/{username}/password-reset",
             summary="A temporary password (shown once); every session of the user ends")
def reset_password(hub: HubDep, who: CanManageUsers, username: Username) -> dict[str, Any]:
    with hub.db.write() as conn:
        password, ended = accounts.reset_password(AccountRepository(conn), username,
                                                  clock=hub.clock)
    return {"username": username, "password": password, "sessions_ended": ended}


@router.get("/users/{username}/sessions", summary="A user's live console sessions")
def sessions(hub: HubDep, who: CanManageUsers, username: Username) -> dict[str, Any]:
    with hub.db.read() as conn:
        return {"items": session_rows(AccountRepository(conn), username, hub.clock)}


@router.delete("/users/{username}/sessions/{session}", summary="Sign one session out")
def end_session(hub: HubDep, who: CanManageUsers, username: Username,
                session: Annotated[str, Path(min_length=8, max_length=64)]) -> dict[str, Any]:
    with hub.db.write() as conn:
        ended = accounts.end_session_of(AccountRepository(conn), username, session, hub.clock)
    if not ended:
        raise NotFound(f"no live session {session} of {username}", field="session",
                       zh=f"{username} 没有会话 {session}")
    return {"ended": ended}


@router.get("/tokens", summary="API tokens (never the tokens themselves)")
def list_tokens(hub: HubDep, who: CanManageUsers) -> dict[str, Any]:
    with hub.db.read() as conn:
        return {"items": token_rows(AccountRepository(conn))}


@router.post("/tokens", status_code=201, summary="Create an API token (shown once)")
def create_token(hub: HubDep, who: CanManageUsers, body: TokenIn) -> dict[str, Any]:
    with hub.db.write() as conn:
        token_id, token = accounts.create_token(AccountRepository(conn), body.name, body.role,
                                                hub.clock, body.sources)
    return {"id": token_id, "name": body.name.strip(), "role": body.role, "token": token}


@router.delete("/tokens/{token_id}", summary="Revoke an API token")
def revoke_token(request: Request, hub: HubDep, who: CanManageUsers,
                 token_id: Annotated[str, Path(min_length=1, max_length=36)]) -> dict[str, Any]:
    with hub.db.write() as conn:
        done = accounts.revoke_token(AccountRepository(conn), token_id, hub.clock)
    if not done:
        raise NotFound(f"no active token {token_id}", field="token_id",
                       zh=f"没有有效的令牌 {token_id}")
    cache: TokenCache = request.app.state.token_cache
    cache.forget()  # this process stops accepting it at once
    return {"revoked": token_id}
