"""Placing and releasing holds from an order's page.

HTMX requests get the holds section back, plus the status badge and the timeline swapped out
of band (both changed); a plain form post is redirected back to the order page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.domain.commands import PlaceHold, ReleaseHold
from orderpilot.domain.errors import Forbidden, InvalidInput, NotFound, OrderpilotError
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import HoldPlacer, HoldReleaser
from orderpilot.entrypoints.console.pages import order_context
from orderpilot.entrypoints.console.render import ConsoleDep, is_htmx
from orderpilot.services import ordering

router = APIRouter(prefix="/console")
AUTO_RELEASE_CHOICES = ("60", "240", "1440", "4320")  # minutes, as the form offers them
MAX_NOTE = 1000
BLOCKS = ["holds", "held_badge", "timeline"]


def after_change(request: Request, hub: HubDep, console: ConsoleDep, order_id: str,
           notice: str | None = None, error: str | None = None, status: int = 200, *,
           blocks: list[str] = BLOCKS, anchor: str = "holds") -> Response:
    if not is_htmx(request) and error is None:
        return RedirectResponse(f"/console/orders/{order_id}#{anchor}", status_code=303)
    context = order_context(hub, order_id)
    if context is None:
        missing = console.translate(request, "There is no order with this ID.")
        return console.error(request, missing, 404)
    context.update(notice=notice, error=error, here=f"/console/orders/{order_id}",
                   section=anchor)
    return console.render(request, "order.html", context,
                          blocks=blocks if is_htmx(request) else None, status=status)


def error_status(exc: OrderpilotError) -> int:
    for kind, status in ((NotFound, 404), (InvalidInput, 422), (Forbidden, 403)):
        if isinstance(exc, kind):
            return status
    return 409


@router.post("/orders/{order_id}/holds", name="console:place_hold")
def place_hold(request: Request, order_id: str, hub: HubDep, console: ConsoleDep,
               who: HoldPlacer,
               reason: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
               release_after: Annotated[str, Form()] = "") -> Response:
    minutes = int(release_after) if release_after in AUTO_RELEASE_CHOICES else None
    error = None
    if not reason:
        error = console.translate(request, "Choose a reason for the hold.")
    elif len(note) > MAX_NOTE:
        error = console.translate(request, "The note is longer than 1000 characters.")
    if error:
        return after_change(request, hub, console, order_id, error=error, status=422)
    try:
        ordering.place_hold(PlaceHold(order_id, reason, note.strip(), who.name, "user", minutes),
                            hub.uow, hub.clock)
    except OrderpilotError as exc:
        return after_change(request, hub, console, order_id, error=console.say(request, exc),
                      status=error_status(exc))
    return after_change(request, hub, console, order_id,
                  notice=console.translate(request, "The order is on hold."))


@router.post("/orders/{order_id}/holds/{hold_id}/release", name="console:release_hold")
def release_hold(request: Request, order_id: str, hold_id: str, hub: HubDep,
                 console: ConsoleDep,
                 who: HoldReleaser,
                 reason: Annotated[str, Form()] = "",
                 note: Annotated[str, Form()] = "") -> Response:
    if len(note) > MAX_NOTE:
        error = console.translate(request, "The note is longer than 1000 characters.")
        return after_change(request, hub, console, order_id, error=error, status=422)
    try:
        ordering.release_hold(ReleaseHold(order_id, hold_id, who.name, note.strip(),
                                          reason=reason), hub.uow, hub.clock)
    except OrderpilotError as exc:
        return after_change(request, hub, console, order_id, error=console.say(request, exc),
                      status=error_status(exc))
    return after_change(request, hub, console, order_id,
                  notice=console.translate(request, "The hold is released."))
