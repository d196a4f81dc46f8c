"""重试分配 / Retry allocation: the button on an order held out of stock
(services/inventory/retry.py). Answered like the holds' forms (``holds.after_change``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.domain.errors import OrderpilotError
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import HoldReleaser
from orderpilot.entrypoints.console.holds import after_change, error_status
from orderpilot.entrypoints.console.render import ConsoleDep
from orderpilot.services.inventory import retry

router = APIRouter(prefix="/console")


@router.post("/orders/{order_id}/allocation/retry", name="console:retry_allocation")
def retry_allocation(request: Request, order_id: str, hub: HubDep, console: ConsoleDep,
                     who: HoldReleaser) -> Response:
    try:
        result = retry.retry_order(order_id, hub.uow, hub.clock)
    except OrderpilotError as exc:
        return after_change(request, hub, console, order_id, error=console.say(request, exc),
                            status=error_status(exc))
    if result.outcome in ("allocated", "already_allocated"):
        return after_change(request, hub, console, order_id, notice=console.translate(
            request, "Stock allocated: the stock hold is released."))
    if result.outcome == "out_of_stock":
        short = ", ".join(f"{sku} × {qty}" for sku, qty in sorted((result.short or {}).items()))
        return after_change(request, hub, console, order_id, error=console.translate(
            request, "Still out of stock: %(items)s.") % {"items": short}, status=200)
    return after_change(request, hub, console, order_id, error=console.translate(
        request, "This order cannot be allocated any more (it has moved on)."), status=409)
