"""Lazada Open Platform on the loopback simulator, mounted at /lazada (an account's base_url
``<sim>/lazada`` serves both the API gateway and the authorisation host).

API routes check the real signature (signing.py) with SIM_CREDENTIALS, the timestamp (less than
7200 s from now, per the common parameters table) and the access token, and answer in Lazada's
error shape ``{"type", "code", "message", "request_id"}``: ``IncompleteSignature`` (the message
Lazada sends, "The request signature does not conform to lazada standards"),
``MISSING_PARAMETER`` (documented on /order/items/get), ``IllegalAccessToken``,
``ApiCallLimit`` for a queued 429 fault. Paging is Lazada's: offset + limit (at most 100,
offset at most 5000), filtered and sorted by update time, with ``countTotal``.

Admin routes (/_sim/lazada): POST /orders, /generate, /status, /push, /push_raw,
/expire_tokens; reverse orders (sim_returns.py): /reverse_orders, /reverse_status,
/reverse_push (see docs/channels/lazada.md).
"""

from __future__ import annotations

import json
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.integrations.lazada.sim_admin import admin_router
from orderpilot.integrations.lazada.sim_gate import error as _error
from orderpilot.integrations.lazada.sim_gate import gate as _gate
from orderpilot.integrations.lazada.sim_gate import ok as _ok
from orderpilot.integrations.lazada.sim_returns import returns_admin_router, returns_router
from orderpilot.integrations.lazada.sim_state import (
    NAME,
    SIM_CREDENTIALS,
    SIM_REGION,
    SIM_SHOP_ID,
    header,
    moment,
    reset,
    sim_data,
)
from orderpilot.simulators.external.recorder import recorder_for

__all__ = ["NAME", "SIM_CREDENTIALS", "SIM_REGION", "SIM_SHOP_ID", "admin_router", "reset",
           "router"]
MAX_LIMIT = 100
MAX_OFFSET = 5000
router = APIRouter()
router.include_router(returns_router)
admin_router.include_router(returns_admin_router)


@router.get("/orders/get")
async def get_orders(request: Request) -> JSONResponse:
    params, refused = await _gate(request, "/orders/get")
    if refused:
        return refused
    try:
        offset, limit = int(params.get("offset", "0")), int(params.get("limit", "100"))
    except ValueError:
        return _error("14", 'E014: "offset" Invalid Offset')
    if not 0 <= offset <= MAX_OFFSET:
        return _error("14", f'E014: "{offset}" Invalid Offset')
    if not 1 <= limit <= MAX_LIMIT:
        return _error("19", f'E019: "{limit}" Invalid Limit')
    try:
        after = moment(params.get("update_after", ""), "update_after") \
            if params.get("update_after") else float("-inf")
        before = moment(params.get("update_before", ""), "update_before") \
            if params.get("update_before") else float("inf")
    except ValueError as error:
        return _error("17", f'E017: "{error}" Invalid Date Format')
    state = sim_data(recorder_for(request, NAME))
    updated: dict[str, float] = state["updated"]
    chosen = sorted((ts, oid) for oid, ts in updated.items() if after <= ts <= before)
    if params.get("sort_direction", "").upper() == "DESC":
        chosen.reverse()
    page = [header(state["orders"][oid]) for _, oid in chosen[offset:offset + limit]]
    return _ok({"data": {"count": str(len(page)), "countTotal": str(len(chosen)),
                         "orders": page}})


@router.get("/order/get")
async def get_order(request: Request) -> JSONResponse:
    params, refused = await _gate(request, "/order/get")
    if refused:
        return refused
    order = sim_data(recorder_for(request, NAME))["orders"].get(params.get("order_id", ""))
    if order is None:
        return _error("16", f'E016: "{params.get("order_id", "")}" Invalid Order ID')
    return _ok({"data": header(order)})


@router.get("/order/items/get")
async def get_order_items(request: Request) -> JSONResponse:
    params, refused = await _gate(request, "/order/items/get")
    if refused:
        return refused
    order = sim_data(recorder_for(request, NAME))["orders"].get(params.get("order_id", ""))
    if order is None:
        return _error("16", f'E016: "{params.get("order_id", "")}" Invalid Order ID')
    return _ok({"data": order["order_items"]})


@router.get("/orders/items/get")
async def get_multiple_order_items(request: Request) -> JSONResponse:
    params, refused = await _gate(request, "/orders/items/get")
    if refused:
        return refused
    try:
        wanted = [str(i) for i in json.loads(params.get("order_ids", ""))]
    except (ValueError, TypeError):
        return _error("InvalidParameter", "order_ids must be a list like [1,2]")
    if not 1 <= len(wanted) <= 50:
        return _error("InvalidParameter", "order_ids takes 1 to 50 ids")
    orders = sim_data(recorder_for(request, NAME))["orders"]
    return _ok({"data": [{"order_id": oid, "order_number": orders[oid]["order_number"],
                          "order_items": orders[oid]["order_items"]}
                         for oid in wanted if oid in orders]})


@router.get("/seller/get")
async def get_seller(request: Request) -> JSONResponse:
    _, refused = await _gate(request, "/seller/get")
    if refused:
        return refused
    return _ok({"data": {"name": "OrderPilot Sim Pets SG", "seller_id": SIM_SHOP_ID,
                         "short_code": "SGSIM01", "location": "Singapore"}})


@router.api_route("/auth/token/refresh", methods=["GET", "POST"])
async def refresh_token(request: Request) -> JSONResponse:
    params, refused = await _gate(request, "/auth/token/refresh", token=False)
    if refused:
        return refused
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        state = sim_data(recorder)
        if params.get("refresh_token", "") not in state["refresh"]:
            return _error("IllegalRefreshToken", "The specified refresh token is invalid or "
                          "expired")
        state["issued"] += 1
        access, refresh = f"sim-lazada-at-{state['issued']}", f"sim-lazada-rt-{state['issued']}"
        state["tokens"][access] = True
        state["refresh"].add(refresh)
    return JSONResponse({
        "code": "0", "access_token": access, "refresh_token": refresh, "expires_in": 604800,
        "refresh_expires_in": 2592000, "country": "sg", "account_platform": "seller_center",
        "account": "sim-seller@orderpilot.test",
        "country_user_info": [{"country": "sg", "seller_id": SIM_SHOP_ID,
                               "user_id": SIM_SHOP_ID, "short_code": "SGSIM01"}],
        "request_id": f"0ba2{time.time_ns() % 10**16:016d}"})


