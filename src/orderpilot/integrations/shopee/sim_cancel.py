"""The Shopee simulator's seller cancellation, ``POST /api/v2/order/cancel_order`` (wire facts
in client.py), behind the same signature, partner, timestamp and token checks as every shop
call (simulator.py ``_serve``): an order not yet shipped (UNPAID, READY_TO_SHIP, PROCESSED)
becomes CANCELLED with ``cancel_by`` "seller"; anything else is refused as Shopee does."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response

from orderpilot.integrations.shopee.client import CANCEL_PATH
from orderpilot.integrations.shopee.sim_state import SIM_REGION, Answer, error, ok
from orderpilot.integrations.shopee.simulator import _serve

router = APIRouter()
REASONS = ("OUT_OF_STOCK", "CUSTOMER_REQUEST", "UNDELIVERABLE_AREA", "COD_NOT_SUPPORTED")
CANCELLABLE = ("UNPAID", "READY_TO_SHIP", "PROCESSED")
REASON_TEXT = {"OUT_OF_STOCK": "Out of Stock", "CUSTOMER_REQUEST": "Customer Request",
               "UNDELIVERABLE_AREA": "Undeliverable Area",
               "COD_NOT_SUPPORTED": "COD Not Supported"}


def _wrong(detail: str) -> Answer:
    return error(400, "error_param", f"Wrong parameters, detail: {detail}.")


def cancel(data: dict[str, Any], body: Any) -> Answer:
    body = body if isinstance(body, dict) else {}
    order_sn = str(body.get("order_sn") or "")
    if not order_sn:
        return _wrong("order_sn is a required field")
    reason = str(body.get("cancel_reason") or "")
    if reason not in REASONS:
        return _wrong(f"cancel_reason must be one of {', '.join(REASONS)}")
    if reason == "UNDELIVERABLE_AREA" and SIM_REGION not in ("TW", "MY"):
        return _wrong("UNDELIVERABLE_AREA only applies to TW and MY")
    order = data["orders"].get(order_sn)
    if order is None:
        return error(400, "error_not_found", f"Wrong parameters, detail: order {order_sn} "
                                             f"not found.")
    if reason == "OUT_OF_STOCK":
        items = body.get("item_list")
        if not isinstance(items, list) or not items:
            return _wrong("item_list is required when cancel_reason is OUT_OF_STOCK")
        known = {(str(i.get("item_id")), str(i.get("model_id") or 0))
                 for i in order.get("item_list") or ()}
        for item in items:
            if not isinstance(item, dict) or (str(item.get("item_id")),
                                              str(item.get("model_id") or 0)) not in known:
                return _wrong(f"item {item!r} is not in order {order_sn}")
    if order.get("order_status") not in CANCELLABLE:
        return error(400, "order.error_limit", "Can not cancel this order")
    now = int(time.time())
    order.update(order_status="CANCELLED", cancel_by="seller",
                 cancel_reason=REASON_TEXT[reason], update_time=now)
    data["version"] += 1
    return ok({"response": {"update_time": now}})


@router.post(CANCEL_PATH)
async def cancel_order(request: Request) -> Response:
    return await _serve(request, CANCEL_PATH, True, cancel)
