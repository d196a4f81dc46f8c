"""A loopback TikTok Shop: the Partner API 202309 order endpoints, token refresh, webhooks.

    POST /tiktok/order/202309/orders/search   Get Order List (page_token, update_time_ge/lt)
    GET  /tiktok/order/202309/orders?ids=...  Get Order Detail (at most 50 ids)
    GET  /tiktok/authorization/202309/shops   Get Authorized Shops
    GET  /tiktok/api/v2/token/refresh         token refresh (auth.tiktok-shops.com)

Every API call is checked as TikTok checks it: ``app_key``, a 10-digit ``timestamp``, the
``sign`` over the full request path (so ``/tiktok`` too), sorted query and raw body, the
``x-tts-access-token`` header (an expired token gets code 105002) and ``shop_cipher``. The
timestamp's 5-minute window is not enforced (tests run on fixed clocks). Queued faults:
429 answers TikTok's rate-limit body (code 36009002), other statuses a TikTok error body.

Admin (``/_sim/tiktok``): ``POST /orders``, ``/generate``, ``/status``, ``/push``,
``/push_raw``, ``/expire_tokens`` (see COMMON simulator contract).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.domain.channel_orders import iso
from orderpilot.integrations.tiktok.push import push_body
from orderpilot.integrations.tiktok.samples import generate
from orderpilot.integrations.tiktok.signing import request_sign_ok, webhook_signature
from orderpilot.integrations.tiktok.sim_state import (
    NAME,
    ORDER_STATUSES,
    SIM_CREDENTIALS,
    SIM_REFRESH_TOKEN,
    SIM_REGION,
    SIM_SHOP_ID,
    deliver,
    error,
    fault_answer,
    noted,
    ok,
    page_token,
    read_cursor,
    reset,
    sorted_keys,
    state_of,
    store,
)
from orderpilot.integrations.tiktok.statuses import PAID
from orderpilot.simulators.external.channel_contract import (
    Generate,
    Push,
    RawPush,
    StatusMove,
    StoredOrders,
)
from orderpilot.simulators.external.recorder import recorder_for

__all__ = ["SIM_CREDENTIALS", "SIM_REFRESH_TOKEN", "SIM_REGION", "SIM_SHOP_ID",
           "admin_router", "reset", "router"]

router = APIRouter()
admin_router = APIRouter()


async def _refused(request: Request, raw: bytes, *, shop: bool = True) -> JSONResponse | None:
    """TikTok's own checks, in its order: faults first (the system is down)."""
    recorder = recorder_for(request, NAME)
    failed = await fault_answer(recorder)
    if failed is not None:
        return failed
    state = state_of(recorder)
    query = dict(request.query_params)
    if query.get("app_key") != SIM_CREDENTIALS["app_key"]:
        return error(401, 36009004, "Invalid credentials. Invalid 'app_key' query parameter.")
    stamp = query.get("timestamp", "")
    if not (stamp.isdigit() and len(stamp) == 10):
        return error(401, 36009004, "Invalid credentials. Invalid 'timestamp' query "
                                     "parameter. It must be a 10-digit unix timestamp.")
    content_type = request.headers.get("content-type", "")
    if not request_sign_ok(SIM_CREDENTIALS["app_secret"], request.url.path, query, raw,
                           content_type):
        return error(401, 106001, "Invalid credentials. The 'sign' query parameter is "
                                   "invalid.")
    token = request.headers.get("x-tts-access-token", "")
    if token not in state["tokens"]:
        return error(401, 36009004, "Invalid credentials. The 'x-tts-access-token' header "
                                     "is invalid.")
    if not state["tokens"][token]:
        return error(401, 105002, "Expired credentials. The access token has expired; "
                                   "refresh it.")
    if shop and query.get("shop_cipher") != SIM_CREDENTIALS["shop_cipher"]:
        return error(400, 106013, "Invalid 'shop_cipher' query parameter.")
    return None


@router.post("/order/202309/orders/search")
async def search_orders(request: Request) -> JSONResponse:
    return noted(request, await _search_orders(request))


async def _search_orders(request: Request) -> JSONResponse:
    raw = await request.body()
    refused = await _refused(request, raw)
    if refused is not None:
        return refused
    query = request.query_params
    size = query.get("page_size", "")
    if not size.isdigit() or not 1 <= int(size) <= 100:
        return error(400, 36009004, "Invalid param: page_size must be between 1 and 100.")
    field = query.get("sort_field", "create_time")
    order = query.get("sort_order", "DESC")
    if field not in ("create_time", "update_time") or order not in ("ASC", "DESC"):
        return error(400, 36009004, "Invalid param: sort_field or sort_order.")
    try:
        body = json.loads(raw) if raw else {}
        low, high = int(body.get("update_time_ge", 0)), int(body.get("update_time_lt", 2**62))
        after = read_cursor(query.get("page_token", ""))
    except (ValueError, TypeError, AttributeError):
        return error(400, 36009004, "Invalid param: request body or page_token.")
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        keys = sorted_keys(state_of(recorder), field, order)
        chosen = [k for k in keys if low <= k[2] < high]
        if after is not None:
            chosen = [k for k in chosen if (k[0], k[1]) > after] if order == "ASC" \
                else [k for k in chosen if (k[0], k[1]) < after]
        page = chosen[:int(size)]
        orders = [state_of(recorder)["orders"][k[1]] for k in page]
    more = len(chosen) > len(page)
    token = page_token(page[-1]) if more and page else ""
    return ok({"orders": orders, "next_page_token": token, "total_count": len(chosen)})


@router.get("/order/202309/orders")
async def order_detail(request: Request) -> JSONResponse:
    return noted(request, await _order_detail(request))


async def _order_detail(request: Request) -> JSONResponse:
    refused = await _refused(request, await request.body())
    if refused is not None:
        return refused
    ids = [i for i in request.query_params.get("ids", "").split(",") if i]
    if not ids or len(ids) > 50:
        return error(400, 36009004, "Invalid param: ids must hold 1 to 50 order ids.")
    orders = state_of(recorder_for(request, NAME))["orders"]
    return ok({"orders": [orders[i] for i in ids if i in orders]})


@router.get("/authorization/202309/shops")
async def authorized_shops(request: Request) -> JSONResponse:
    return noted(request, await _authorized_shops(request))


async def _authorized_shops(request: Request) -> JSONResponse:
    refused = await _refused(request, await request.body(), shop=False)
    if refused is not None:
        return refused
    return ok({"shops": [{"id": SIM_SHOP_ID, "name": "orderpilot 模拟店 (TikTok Shop)",
                          "region": SIM_REGION, "seller_type": "LOCAL", "code": "MYLCSIM001",
                          "cipher": SIM_CREDENTIALS["shop_cipher"]}]})


@router.get("/api/v2/token/refresh")
async def refresh_token(request: Request) -> JSONResponse:
    return noted(request, await _refresh_token(request))


async def _refresh_token(request: Request) -> JSONResponse:
    recorder = recorder_for(request, NAME)
    failed = await fault_answer(recorder)
    if failed is not None:
        return failed
    query = request.query_params
    if query.get("app_key") != SIM_CREDENTIALS["app_key"] \
            or query.get("app_secret") != SIM_CREDENTIALS["app_secret"]:
        return error(401, 36004004, "Invalid app_key or app_secret.")
    with recorder.lock:
        state = state_of(recorder)
        if query.get("grant_type") != "refresh_token" \
                or query.get("refresh_token") not in state["refresh"]:
            return error(400, 36004004, "Invalid refresh_token.")
        state["issued"] += 1
        token = f"TTP_sim-access-{state['issued']}"
        state["tokens"][token] = True
    now = int(time.time())
    return ok({"access_token": token, "access_token_expire_in": now + 7 * 86400,
               "refresh_token": query["refresh_token"],
               "refresh_token_expire_in": now + 60 * 86400, "open_id": "sim-open-id",
               "seller_name": "orderpilot sim", "seller_base_region": SIM_REGION,
               "user_type": 0, "granted_scopes": ["seller.order.info"]})


@admin_router.post("/orders")
def put_orders(request: Request, spec: StoredOrders) -> dict[str, Any]:
    return {"stored": len(store(recorder_for(request, NAME), spec.orders))}


@admin_router.post("/generate")
def generate_orders(request: Request, spec: Generate) -> dict[str, Any]:
    start = iso(spec.start, "start") if spec.start else datetime.now(UTC)
    made = generate(spec.count, spec.seed, start, spec.spread_seconds, SIM_REGION)
    return {"external_ids": store(recorder_for(request, NAME), made)}


@admin_router.post("/status", response_model=None)
def move_status(request: Request, spec: StatusMove) -> dict[str, Any] | JSONResponse:
    if spec.status not in ORDER_STATUSES:
        return JSONResponse({"error": f"unknown status {spec.status!r}",
                             "known": list(ORDER_STATUSES)}, 400)
    at = int((iso(spec.at, "at") if spec.at else datetime.now(UTC)).timestamp())
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        state = state_of(recorder)
        order = state["orders"].get(spec.external_id)
        if order is None:
            return JSONResponse({"error": f"no order {spec.external_id!r}"}, 404)
        order.update(status=spec.status, update_time=at,
                     is_on_hold_order=spec.status == "ON_HOLD")
        if spec.status in PAID and not order.get("paid_time"):
            order["paid_time"] = at
        if spec.status == "CANCELLED":
            order.setdefault("cancel_time", at)
        if spec.status in ("DELIVERED", "COMPLETED"):
            order.setdefault("delivery_time", at)
        for unit in order.get("line_items", []):
            unit["display_status"] = spec.status
        state["version"] += 1
    return {"ok": True}


@admin_router.post("/push", response_model=None)
def push(request: Request, spec: Push) -> dict[str, Any] | JSONResponse:
    """The order status change webhook for that order, signed as TikTok signs it."""
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        state = state_of(recorder)
        order = state["orders"].get(spec.external_id)
        state["pushes"] += 1
        serial = state["pushes"]
    if order is None:
        return JSONResponse({"error": f"no order {spec.external_id!r}"}, 404)
    notification = str(7327112393057371910 + serial)
    body = json.dumps(push_body(notification, SIM_SHOP_ID, spec.external_id, order["status"],
                                int(order["update_time"]), int(time.time())),
                      separators=(",", ":")).encode()
    signature = webhook_signature(SIM_CREDENTIALS["app_key"], SIM_CREDENTIALS["app_secret"],
                                  body)
    return deliver(spec.hook_url, body, {"authorization": signature}, spec.times)


@admin_router.post("/push_raw")
def push_raw(spec: RawPush) -> dict[str, Any]:
    return deliver(spec.hook_url, spec.body.encode(), spec.headers, 1)


@admin_router.post("/expire_tokens")
def expire_tokens(request: Request) -> dict[str, Any]:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        tokens = state_of(recorder)["tokens"]
        for token in tokens:
            tokens[token] = False
    return {"expired": len(tokens)}
