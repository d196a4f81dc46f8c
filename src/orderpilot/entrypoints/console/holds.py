"""Placing and releasing holds from an order's page.

HTMX requests get the holds section back, plus the status badge and the timeline swapped out
of band (both changed); a plain form post is redirected back to the order page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.domain.commands import PlaceHold, ReleaseHold
from orderpilot.domain.errors import NotFound, OrderpilotError
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Permit
from orderpilot.entrypoints.console.pages import order_context
from orderpilot.entrypoints.console.render import ConsoleDep, is_htmx
from orderpilot.services import ordering

router = APIRouter(prefix="/console")
AUTO_RELEASE_CHOICES = (60, 240, 1440, 4320)
BLOCKS = ["holds", "held_badge", "timeline"]


def _after(request: Request, hub: HubDep, console: ConsoleDep, order_id: str,
           notice: str | None = None, error: str | None = None, status: int = 200) -> Response:
    if not is_htmx(request) and error is None:
        return RedirectResponse(f"/console/orders/{order_id}#holds", status_code=303)
    context = order_context(hub, order_id)
    if context is None:
        return console.error(request, console.translate(request, "There is no order with this ID."),
                             404)
    context.update(notice=notice, error=error, here=f"/console/orders/{order_id}")
    return console.render(request, "order.html", context,
                          blocks=BLOCKS if is_htmx(request) else None, status=status)


def _error_status(exc: OrderpilotError) -> int:
    return 404 if isinstance(exc, NotFound) else 409 if exc.code != "invalid_input" else 422


@router.post("/orders/{order_id}/holds", name="place_hold")
def place_hold(request: Request, order_id: str, hub: HubDep, console: ConsoleDep,
               who: Permit("holds.place"),  # type: ignore[valid-type]
               reason: Annotated[str, Form(max_length=64)] = "",
               note: Annotated[str, Form(max_length=1000)] = "",
               release_after: Annotated[str, Form(max_length=8)] = "") -> Response:
    minutes = int(release_after) if release_after.isdigit() else None
    if minutes is not None and minutes not in AUTO_RELEASE_CHOICES:
        minutes = None
    if not reason:
        error = console.translate(request, "Choose a reason for the hold.")
        return _after(request, hub, console, order_id, error=error, status=422)
    try:
        ordering.place_hold(PlaceHold(order_id, reason, note.strip(), who.name, "user", minutes),
                            hub.uow, hub.clock)
    except OrderpilotError as exc:
        return _after(request, hub, console, order_id, error=exc.message,
                      status=_error_status(exc))
    return _after(request, hub, console, order_id,
                  notice=console.translate(request, "The order is on hold."))


@router.post("/orders/{order_id}/holds/{hold_id}/release", name="release_hold")
def release_hold(request: Request, order_id: str, hold_id: str, hub: HubDep,
                 console: ConsoleDep,
                 who: Permit("holds.release"),  # type: ignore[valid-type]
                 note: Annotated[str, Form(max_length=1000)] = "") -> Response:
    try:
        ordering.release_hold(ReleaseHold(order_id, hold_id, who.name, note.strip()),
                              hub.uow, hub.clock)
    except OrderpilotError as exc:
        return _after(request, hub, console, order_id, error=exc.message,
                      status=_error_status(exc))
    return _after(request, hub, console, order_id,
                  notice=console.translate(request, "The hold is released."))
