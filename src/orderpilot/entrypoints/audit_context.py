"""Who is acting in a request, for the audit trail (services/audit_trail.py): a slot opened for
every request by ``ActorSlots`` and filled by the API's and the console's sign-in."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from orderpilot.domain.audit import Actor
from orderpilot.services import audit_trail
from orderpilot.services.accounts import Principal


def actor_of(principal: Principal, via: str) -> Actor:
    """Whoever signed in. What counts as a person's action is decided where it happens: the
    services record decisions (a hold released, a return approved), never a system's report
    or an order placed, whoever's token carried them."""
    return Actor(principal.name, principal.role, "user" if principal.kind == "user" else "token",
                 via, principal.id)


def acting(principal: Principal, via: str) -> None:
    audit_trail.set_actor(actor_of(principal, via))


class ActorSlots:
    """Opens a fresh actor slot for each HTTP request (pure ASGI: the endpoint's context is a
    copy of this one, so it sees the same slot)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            audit_trail.open_slot()
        await self.app(scope, receive, send)
