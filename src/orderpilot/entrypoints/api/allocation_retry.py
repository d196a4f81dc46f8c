"""Retry allocation of orders held out of stock (docs/exceptions-retry-and-refusals.md).

    POST /api/v1/orders/{order_id}/allocation/retry   one order: allocated or what is short
    POST /api/v1/allocation/retry                     {"sku"} or {"order_ids": [...]}

Permission ``holds.release``: a retry that succeeds releases the order's out-of-stock hold and
commits stock to it, the decision of the people who work held orders (admin, ops), not of the
warehouse that reports levels (``inventory.manage``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field, model_validator

from orderpilot.entrypoints.api.deps import CanReleaseHolds, HubDep
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.services.inventory import retry
from orderpilot.services.inventory.allocation import AllocationResult

router = APIRouter(prefix="/api/v1", tags=["inventory"])


class RetryIn(Strict):
    sku: Annotated[str | None, Field(min_length=1, max_length=64, examples=["DIAPER-L"])] = None
    order_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=36)]] | None,
                         Field(min_length=1, max_length=retry.MAX_ORDERS)] = None

    @model_validator(mode="after")
    def one_of(self) -> RetryIn:
        if (self.sku is None) == (self.order_ids is None):
            raise ValueError("give either sku or order_ids")
        return self


def shown(result: AllocationResult) -> dict[str, Any]:
    return {"order_id": result.order_id, "outcome": result.outcome,
            "allocations": list(result.allocations), "short": result.short}


@router.post("/orders/{order_id}/allocation/retry",
             summary="Retry allocating one order (held out of stock)",
             description="Answers `outcome`: `allocated` (the out-of-stock hold released), "
                         "`already_allocated`, `out_of_stock` with `short` {sku: units "
                         "missing}, `not_allocatable` (moved on) or `untracked`. Recorded in "
                         "the audit trail as `allocation.retry`.")
def retry_one(order_id: str, hub: HubDep, who: CanReleaseHolds) -> dict[str, Any]:
    return shown(retry.retry_order(order_id, hub.uow, hub.clock))


@router.post("/allocation/retry", summary="Retry allocating orders for a SKU or a list",
             description="`{\"sku\"}`: every order held out of stock for it, oldest first "
                         f"(at most {retry.PER_WAKE_UP}); `{{\"order_ids\": [...]}}` (at most "
                         f"{retry.MAX_ORDERS}): those orders, oldest first, `not_found` for an "
                         "unknown id. Each order in its own transaction, each in the audit "
                         "trail.")
def retry_many(body: RetryIn, hub: HubDep, who: CanReleaseHolds) -> dict[str, Any]:
    if body.sku is not None:
        results = retry.retry_sku(body.sku, hub.uow, hub.clock)
    else:
        results = retry.retry_orders(body.order_ids or [], hub.uow, hub.clock)
    items = [shown(r) for r in results]
    return {"items": items, "allocated": sum(1 for r in results if r.outcome == "allocated"),
            "still_short": sum(1 for r in results if r.outcome == "out_of_stock")}
