"""FastAPI dependencies: the hub, and the caller's identity checked against a permission."""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.access import allowed
from orderpilot.entrypoints.audit_context import acting
from orderpilot.services.accounts import Principal, hash_token, principal_for_token

TOKEN_CACHE_SECONDS = 30.0  # a revoked token stops working within this time


# The dependencies are ``async def`` and do no blocking work on the event loop (a token not in
# the cache is looked up in the thread pool): a plain ``def`` dependency costs a hop to a
# worker thread and back on every request, three per API call (in a profile of `serve` under
# `bench rules` those hops held the interpreter lock about 8% of the time).
async def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


class TokenCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, Principal | None]] = {}

    def cached(self, token: str) -> tuple[bool, Principal | None]:
        """(True, the principal or None) when the cache still knows TOKEN's answer."""
        with self._lock:
            hit = self._seen.get(hash_token(token))
        if hit is not None and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def resolve(self, hub: Hub, token: str) -> Principal | None:
        known, principal = self.cached(token)
        if known:
            return principal
        key = hash_token(token)
        now = time.monotonic()
        with hub.db.read() as conn:
            principal = principal_for_token(AccountRepository(conn), token)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = (now + TOKEN_CACHE_SECONDS, principal)
        return principal

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()


async def current_principal(request: Request, hub: HubDep) -> Principal:
    principal = _session_user(request)
    if principal is None:
        token = _bearer(request)
        cache: TokenCache = request.app.state.token_cache
        known, found = cache.cached(token)
        if not known:  # a database read: off the event loop
            found = await run_in_threadpool(cache.resolve, hub, token)
        principal = _known(found)
    return _settle(request, principal)


def principal_now(request: Request, hub: Hub) -> Principal:
    """:func:`current_principal` for a plain ``def`` route that checks by hand (it runs in
    the thread pool already, so it may read the database)."""
    principal = _session_user(request)
    if principal is None:
        cache: TokenCache = request.app.state.token_cache
        principal = _known(cache.resolve(hub, _bearer(request)))
    return _settle(request, principal)


def _settle(request: Request, principal: Principal) -> Principal:
    request.state.principal = principal  # the response masking (api/masking.py) reads it
    acting(principal, "console" if principal.kind == "user" else "api")  # the audit trail
    return principal


def _session_user(request: Request) -> Principal | None:
    session_user: Principal | None = getattr(request.state, "console_principal", None)
    if session_user is not None and session_user.must_change_password:
        raise HTTPException(403, "your password was reset: choose a new one in the console "
                                 "(/console/account/password) first")
    return session_user


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "send Authorization: Bearer <token> (create one with "
                                 "`orderpilot token create`)",
                            headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def _known(principal: Principal | None) -> Principal:
    if principal is None:
        raise HTTPException(401, "the token is unknown or revoked",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal


def allow(principal: Principal, permission: str) -> Principal:
    if not allowed(principal.role, permission):
        raise HTTPException(403, f"role {principal.role} may not {permission}")
    return principal


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        return allow(principal, permission)

    return check


def _can(permission: str) -> Any:
    return Annotated[Principal, Depends(require(permission))]


# One alias per permission, so a route's signature says who may call it.
CanReadOrders = _can("orders.read")
CanCreateOrders = _can("orders.create")
CanReportEvents = _can("orders.report")
CanPlaceHolds = _can("holds.place")
CanReleaseHolds = _can("holds.release")
CanCancelOrders = _can("orders.cancel")
CanTagOrders = _can("orders.tag")
CanNoteOrders = _can("orders.note")
CanExportOrders = _can("orders.export")
CanManageDispatch = _can("dispatch.manage")
CanManageUsers = _can("users.manage")
CanReadAuditLog = _can("audit_log.read")
CanManageRules = _can("rules.manage")
CanReadInventory = _can("inventory.read")
CanManageInventory = _can("inventory.manage")
CanManagePromotions = _can("promotions.manage")
CanManageChannels = _can("channels.manage")
CanOperateChannels = _can("channels.operate")
CanManageErp = _can("erp.manage")
CanRunAudits = _can("audit.run")
CanReadAudits = _can("audit.read")
CanReadExpectations = _can("expectations.read")
CanEditExpectations = _can("expectations.edit")
CanReadDiagnosis = _can("diagnosis.read")
CanReadReturns = _can("returns.read")
CanCreateReturns = _can("returns.create")
CanDecideReturns = _can("returns.decide")
CanReceiveReturns = _can("returns.receive")
CanRefundReturns = _can("returns.refund")
CanEditReasonKeywords = _can("returns.keywords")
CanManageReturnPolicy = _can("returns.policy")
CanReadKpis = _can("kpis.read")
CanManageWebhooks = _can("webhooks.manage")
CanReadWebhooks = _can("webhooks.read")
