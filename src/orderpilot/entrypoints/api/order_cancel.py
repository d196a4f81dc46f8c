"""Cancelling an order from the hub (services/cancellation.py, docs/exceptions.md).

    POST /api/v1/orders/{order_id}/cancel   {"reason", "note"}

200 ``outcome: cancelled`` (the company's own order, cancelled now) or ``already``; 202
``outcome: asked`` (a channel order: its platform is asked once, the order moves to cancelled
when the platform has done it). 409 ``order_not_cancellable`` (shipped), ``in_warehouse``,
``being_sent``, ``cancel_at_platform``. Permission ``orders.cancel``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from orderpilot.domain.cancellation import CANCEL_REASON_CODES
from orderpilot.entrypoints.api.deps import CanCancelOrders, HubDep
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.services import cancellation

router = APIRouter(prefix="/api/v1", tags=["orders"])


class CancelIn(Strict):
    reason: Annotated[str, Field(max_length=64, examples=["out_of_stock"],
                                 description=f"One of {', '.join(CANCEL_REASON_CODES)}")]
    note: Annotated[str, Field(max_length=1000)] = ""


@router.post("/orders/{order_id}/cancel", summary="Cancel an order that has not shipped",
             description="A channel order is cancelled at its platform, exactly once (202, "
                         "`outcome: asked`; the order gets the `cancel_requested` hold until "
                         "the platform confirms); any other order is cancelled now (200, "
                         "`outcome: cancelled`). Recorded in the audit trail as "
                         "`order.cancel`.",
             responses={202: {"description": "Asked of the order's platform"}})
def cancel(order_id: str, body: CancelIn, hub: HubDep, who: CanCancelOrders) -> JSONResponse:
    done = cancellation.cancel(
        cancellation.CancelOrder(order_id, body.reason.strip(), body.note.strip(), who.name),
        hub.uow, hub.clock, hub.channels.platforms())
    with hub.uow() as uow:
        order = uow.orders.get(order_id)
    return JSONResponse({"order_id": done.order_id, "outcome": done.outcome,
                         "through": done.through,
                         "status": order.status if order is not None else None},
                        status_code=202 if done.outcome == "asked" else 200)
