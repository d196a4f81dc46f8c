"""Lazada reverse orders on the loopback simulator: GetReverseOrdersForSeller,
GetReverseOrderDetail and ReverseOrderReturnUpdate behind the same gate as every other call
(signature, timestamp, token: sim_gate.py), answering in Lazada's shapes (returns.py cites
them); admin routes under /_sim/lazada make a reverse order from a stored order, move its
lines and push Lazada's reverse-order message (type 10), signed.

The error codes are the documented ones: E0105 "reverse order id is empty or invalid", 106
"ROC internal error" for an id the store does not hold (GetReverseOrderDetail), E0107
"invalid action", E0112 "no reverse order found", E0114 "this reverse does not support this
action", E0126 "invalid reverse order lines" (ReverseOrderReturnUpdate). Refunded lines get
``ofc_status`` REFUND_SUCCESS: our reading (see returns.py), not a documented value.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from orderpilot.integrations.lazada.returns import line_refunded, return_status
from orderpilot.integrations.lazada.signing import push_signature
from orderpilot.integrations.lazada.sim_admin import _deliver
from orderpilot.integrations.lazada.sim_gate import error, gate, ok
from orderpilot.integrations.lazada.sim_state import NAME, SIM_CREDENTIALS, SIM_SHOP_ID, sim_data
from orderpilot.simulators.external.recorder import Recorder, recorder_for

ACTIONS = ("instantRefund", "agreeReturn", "refuseReturn", "agreeRefund", "refuseRefund",
           "confirmDelivery")
returns_router = APIRouter()
returns_admin_router = APIRouter()


def reverses(recorder: Recorder) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = sim_data(recorder).setdefault("reverses", {})
    return found


def _modified(reverse: dict[str, Any]) -> int:
    return max(int(line["return_order_line_gmt_modified"])
               for line in reverse["reverse_order_lines"])


def _detail(reverse: dict[str, Any]) -> dict[str, Any]:
    """GetReverseOrderDetail's shape: the lines under reverseOrderLineDTOList, the product
    under productDTO {product_id, sku}."""
    lines = []
    for line in reverse["reverse_order_lines"]:
        row = {k: v for k, v in line.items() if k not in ("product", "receiver_address")}
        row["productDTO"] = {"product_id": line["product"]["product_id"],
                             "sku": line["product"]["product_sku"]}
        lines.append(row)
    head = {k: v for k, v in reverse.items() if k != "reverse_order_lines"}
    return {**head, "reverseOrderLineDTOList": lines}


@returns_router.api_route("/reverse/getreverseordersforseller", methods=["GET", "POST"])
async def list_reverse_orders(request: Request) -> JSONResponse:
    params, refused = await gate(request, "/reverse/getreverseordersforseller")
    if refused:
        return refused
    for name in ("page_size", "page_no"):
        if not params.get(name):
            return error("MISSING_PARAMETER", f"missing required parameter: {name}")
    try:
        size, page = int(params["page_size"]), int(params["page_no"])
        start = int(params.get("ReverseOrderLineModifiedTimeRangeStart") or 0)
        end = int(params.get("ReverseOrderLineModifiedTimeRangeEnd") or 2**62)
    except ValueError:
        return error("InvalidParameter", "page and time parameters must be numbers")
    if not 1 <= size <= 100 or page < 1:
        return error("InvalidParameter", "page_size takes 1 to 100, page_no from 1")
    chosen = sorted((r for r in reverses(recorder_for(request, NAME)).values()
                     if start <= _modified(r) <= end), key=_modified)
    items = chosen[(page - 1) * size:page * size]
    return ok({"result": {"page_no": page, "page_size": size, "total": len(chosen),
                          "success": True, "items": items}})


@returns_router.get("/order/reverse/return/detail/list")
async def reverse_order_detail(request: Request) -> JSONResponse:
    params, refused = await gate(request, "/order/reverse/return/detail/list")
    if refused:
        return refused
    wanted = params.get("reverse_order_id", "")
    if not wanted.isdigit():
        return error("105", "E0105: reverse order id is empty or invalid")
    reverse = reverses(recorder_for(request, NAME)).get(wanted)
    if reverse is None:
        return error("106", "E0106: ROC internal error")
    return ok({"data": _detail(reverse)})


@returns_router.get("/order/reverse/return/update")
async def reverse_order_update(request: Request) -> JSONResponse:
    params, refused = await gate(request, "/order/reverse/return/update")
    if refused:
        return refused
    action = params.get("action", "")
    if action not in ACTIONS:
        return error("107", "E0107: invalid action")
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        reverse = reverses(recorder).get(params.get("reverse_order_id", ""))
        if reverse is None:
            return error("112", "E0112: no reverse order found")
        try:
            wanted = {str(i) for i in json.loads(params.get("reverse_order_item_ids", ""))}
        except (ValueError, TypeError):
            wanted = set()
        lines = [line for line in reverse["reverse_order_lines"]
                 if str(line["reverse_order_line_id"]) in wanted]
        if not wanted or len(lines) != len(wanted):
            return error("126", "E0126: invalid reverse order lines")
        if any(return_status([line])[0] != "requested" for line in lines):
            return error("114", "E0114: this reverse does not support this action")
        now = int(time.time() * 1000)
        for line in lines:
            line["return_order_line_gmt_modified"] = now
            line.setdefault("seller_actions", []).append(action)
            if action in ("agreeRefund", "instantRefund"):
                line.update(ofc_status="REFUND_SUCCESS", is_need_refund=False)
            elif action in ("refuseReturn", "refuseRefund"):
                line["reverse_status"] = "REQUEST_REJECT"
        total = sum(int(line["refund_amount"]) for line in lines)
    return ok({"data": {"reverse_order_id": reverse["reverse_order_id"],
                        "total_refund": str(total),
                        "reverse_order_line": [
                            {"reverse_order_line_id": line["reverse_order_line_id"],
                             "refund_amount": line["refund_amount"],
                             "seller_sku": line["seller_sku_id"],
                             "order_id": reverse["trade_order_id"],
                             "order_line_id": line["trade_order_line_id"]}
                            for line in lines]}})


class ReverseIn(BaseModel):
    external_id: str  # the stored order
    item_ids: list[str] | None = None  # its units to return (default: every live unit)
    request_type: str = "RETURN"
    reason_text: str = "Item damaged"
    reason_code: str = "10001"
    reverse_order_id: str | None = None


class ReverseMoveIn(BaseModel):
    reverse_order_id: str
    reverse_status: str | None = None
    ofc_status: str | None = None


class ReversePushIn(BaseModel):
    hook_url: str
    reverse_order_id: str
    times: int = Field(1, ge=1, le=100)


@returns_admin_router.post("/reverse_orders")
def make_reverse_order(request: Request, spec: ReverseIn) -> JSONResponse:
    """A buyer's reverse order on a stored order: one line per returned unit, refund
    amounts in cents of each unit's paid price (VN: in dong)."""
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        state = sim_data(recorder)
        order = state["orders"].get(spec.external_id)
        if order is None:
            return JSONResponse({"error": f"no order {spec.external_id}"}, 404)
        items = [i for i in order["order_items"]
                 if (spec.item_ids is None and i["status"] != "canceled")
                 or (spec.item_ids is not None and str(i["order_item_id"]) in spec.item_ids)]
        if not items:
            return JSONResponse({"error": "no such units on the order"}, 422)
        state["issued"] += 1
        reverse_id = spec.reverse_order_id or f"70{order['order_id']}{state['issued']:03d}"
        now = int(time.time() * 1000)
        lines = []
        for n, item in enumerate(items, 1):
            cents = Decimal(str(item["paid_price"])) * (1 if item["currency"] == "VND" else 100)
            lines.append({
                "reverse_order_line_id": int(f"{reverse_id}{n:02d}"),
                "trade_order_line_id": int(item["order_item_id"]),
                "seller_sku_id": item["sku"], "platform_sku_id": str(item.get("sku_id", "")),
                "product": {"product_id": int(item.get("product_id") or 0),
                            "product_sku": str(item.get("shop_sku", ""))},
                "buyer": {"buyer_id": int(item.get("buyer_id") or 0)},
                "reverse_status": "REQUEST_INITIATE", "ofc_status": "INITIAL",
                "is_need_refund": True, "refund_amount": int(cents),
                "item_unit_price": int(cents), "reason_text": spec.reason_text,
                "reason_code": int(spec.reason_code), "refund_payment_method": "Alipay",
                "return_order_line_gmt_create": now, "return_order_line_gmt_modified": now,
                "trade_order_gmt_create": now, "is_dispute": False, "tracking_number": "",
                "receiver_address": "", "sla": now + 3 * 86_400_000})
        reverses(recorder)[reverse_id] = {
            "reverse_order_id": int(reverse_id), "trade_order_id": int(order["order_id"]),
            "request_type": spec.request_type, "is_rtm": True, "shipping_type": "PICK_UP",
            "reverse_order_lines": lines}
    return JSONResponse({"reverse_order_id": reverse_id})


@returns_admin_router.post("/reverse_status")
def move_reverse_order(request: Request, spec: ReverseMoveIn) -> JSONResponse:
    """Every line of the reverse order to a status (the buyer cancels: REQUEST_CANCEL)."""
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        reverse = reverses(recorder).get(spec.reverse_order_id)
        if reverse is None:
            return JSONResponse({"error": f"no reverse order {spec.reverse_order_id}"}, 404)
        now = int(time.time() * 1000)
        for line in reverse["reverse_order_lines"]:
            if spec.reverse_status:
                line["reverse_status"] = spec.reverse_status
            if spec.ofc_status:
                line["ofc_status"] = spec.ofc_status
            line["return_order_line_gmt_modified"] = now
    return JSONResponse({"ok": True, "refunded": all(
        line_refunded(line) for line in reverse["reverse_order_lines"])})


def reverse_order_push(reverse: dict[str, Any]) -> bytes:
    """Lazada's reverse order message (message_type 10) for the reverse order's first line."""
    line = reverse["reverse_order_lines"][0]
    return json.dumps({
        "seller_id": SIM_SHOP_ID, "message_type": 10,
        "data": {"order_status": line["reverse_status"],
                 "trade_order_id": str(reverse["trade_order_id"]),
                 "trade_order_line_id": str(line["trade_order_line_id"]),
                 "reverse_order_id": str(reverse["reverse_order_id"]),
                 "reverse_order_line_id": str(line["reverse_order_line_id"]),
                 "status_update_time": int(line["return_order_line_gmt_modified"]) // 1000},
        "timestamp": int(datetime.now(UTC).timestamp() * 1000), "site": "lazada_sg"},
        separators=(",", ":")).encode()


@returns_admin_router.post("/reverse_push")
def push_reverse_order(request: Request, spec: ReversePushIn) -> JSONResponse:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        reverse = reverses(recorder).get(spec.reverse_order_id)
        body = reverse_order_push(reverse) if reverse is not None else b""
    if reverse is None:
        return JSONResponse({"error": f"no reverse order {spec.reverse_order_id}"}, 404)
    signature = push_signature(SIM_CREDENTIALS["app_key"], SIM_CREDENTIALS["app_secret"], body)
    return _deliver(spec.hook_url, body, {"Content-Type": "application/json",
                                          "Authorization": signature}, spec.times)
