"""A loopback Shopee Open Platform v2 (mounted at /shopee) and its test controls
(/_sim/shopee). It checks the real signature, partner, shop, timestamp (5 minutes) and access
token, pages get_order_list by update or create time with Shopee's offset cursor and 15-day
limit, honours ``response_optional_fields``, and answers errors in Shopee's JSON shape
(``error``, ``message``, ``request_id``). The HTTP statuses of error answers are not
documented; it uses 403 for auth and sign errors, 400 for parameter errors, 429 for the rate
limit.

The test controls are sim_admin.py; the state and answer shape sim_state.py.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from orderpilot.adapters.channels.base import dumps, read_json
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.shopee.signing import sign_is_valid
from orderpilot.integrations.shopee.sim_admin import admin_router
from orderpilot.integrations.shopee.sim_state import (
    NAME,
    SIM_CREDENTIALS,
    SIM_REGION,
    SIM_SHOP_ID,
    TOKEN_LIFE_S,
    Answer,
    error,
    json_answer,
    ok,
    reset,
    state,
)
from orderpilot.simulators.external.recorder import entry_for, recorder_for

MAX_RANGE_S = 15 * 86_400
ORDER_LIST_PATH = "/api/v2/order/get_order_list"
router = APIRouter()
# get_order_detail fields returned only when asked for (the reference's "Available values")
OPTIONAL_FIELDS = frozenset((
    "buyer_user_id,buyer_username,estimated_shipping_fee,recipient_address,actual_shipping_fee,"
    "goods_to_declare,note,note_update_time,item_list,pay_time,dropshipper,dropshipper_phone,"
    "split_up,buyer_cancel_reason,cancel_by,cancel_reason,actual_shipping_fee_confirmed,"
    "buyer_cpf_id,fulfillment_flag,pickup_done_time,package_list,shipping_carrier,"
    "payment_method,total_amount,invoice_data,order_chargeable_weight_gram,"
    "return_request_due_date,edt,payment_info").split(","))
__all__ = ["SIM_CREDENTIALS", "SIM_REGION", "SIM_SHOP_ID", "admin_router", "reset", "router"]


def _refusal(request: Request, path: str, shop_level: bool, data: dict[str, Any]
             ) -> Answer | None:
    """What Shopee says to a call whose common parameters do not check out."""
    q = request.query_params
    if not q.get("partner_id"):
        return error(400, "error_param", "There is no partner_id in query.")
    if q["partner_id"] != SIM_CREDENTIALS["partner_id"]:
        return error(403, "error_auth", "partner_id is invalid")
    if not q.get("timestamp"):
        return error(400, "error_param", "no timestamp")
    if not q["timestamp"].isdigit():
        return error(400, "error_param", "Invalid timestamp")
    timestamp = int(q["timestamp"])
    if abs(time.time() - timestamp) > 300:
        return error(400, "error_param", "Timestamp is expired.")
    token = shop = ""
    if shop_level:
        token, shop = q.get("access_token", ""), q.get("shop_id", "")
        if not token:
            return error(400, "error_param", "There is no access_token in query.")
        if not shop:
            return error(400, "error_param", "There is no shop_id in query.")
    if not q.get("sign"):
        return error(400, "error_param", "There is no sign in query.")
    if not sign_is_valid(q["sign"], SIM_CREDENTIALS["partner_key"], q["partner_id"], path,
                         timestamp, token, shop):
        return error(403, "error_sign", "Wrong sign.")
    if shop_level and shop != SIM_SHOP_ID:
        return error(403, "error_auth", "Invalid partner_id or shopid.")
    if shop_level and data["tokens"].get(token, 0) <= time.time():
        return error(403, "invalid_acceess_token", "Invalid access_token, please have a check.")
    return None


async def _serve(request: Request, path: str, shop_level: bool,
                 answer: Callable[[dict[str, Any], Any], Answer]) -> Response:
    """Faults first (429 is Shopee's rate-limit answer), then the common checks, then ANSWER
    with the state and the JSON body (None for a GET)."""
    recorder = recorder_for(request, NAME)
    raw = await request.body()
    fault = recorder.take_fault()
    if fault is not None:
        await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status is not None:
            if fault.body is not None:
                return Response(dumps(fault.body), fault.status, media_type="application/json")
            if fault.status == 429:
                return json_answer(error(429, "error_rate_limit", "Too many requests. You "
                                         "have reached the rate limit. Please try again later."))
            return json_answer(error(fault.status, "error_server",
                                     "System error. Please try again later."))
    try:
        body = read_json(raw, "body") if raw.strip() else None
    except MappingError:
        return json_answer(error(400, "error_param", "parse data failed"))
    with recorder.lock:
        data = state(recorder)
        result = _refusal(request, path, shop_level, data) or answer(data, body)
        recorder.look_ups.append({**entry_for(request, None), "status_code": result[0]})
    return json_answer(result)


@router.get(ORDER_LIST_PATH)
async def get_order_list(request: Request) -> Response:
    q = request.query_params

    def answer(data: dict[str, Any], _: Any) -> Answer:
        field = q.get("time_range_field", "")
        if field not in ("create_time", "update_time"):
            return error(400, "error_param", "Wrong parameters, detail: time_range_field.")
        try:
            start, end = int(q.get("time_from", "")), int(q.get("time_to", ""))
            size = int(q.get("page_size", ""))
            offset = int(q.get("cursor") or 0)
        except ValueError:
            return error(400, "error_param", "parameter invalid")
        if start > end or end - start > MAX_RANGE_S:
            return error(400, "order.order_list_invalid_time",
                          "Start time must be earlier than end time and diff in 15days.")
        if not 1 <= size <= 100:
            return error(400, "error_param", "Wrong parameters, detail: page_size.")
        found = [sn for value, sn in _sorted(data, field) if start <= value <= end]
        page = found[offset:offset + size]
        more = offset + size < len(found)
        return ok({"response": {
            "more": more, "next_cursor": str(offset + size) if more else "",
            "order_list": [{"order_sn": sn, "order_status": data["orders"][sn]["order_status"]}
                           for sn in page]}})

    return await _serve(request, ORDER_LIST_PATH, True, answer)


def _sorted(data: dict[str, Any], field: str) -> list[tuple[int, str]]:
    cached = data["index"].get(field)
    if cached is None or cached[0] != data["version"]:
        ordered = sorted((int(o[field]), sn) for sn, o in data["orders"].items())
        cached = data["index"][field] = (data["version"], ordered)
    found: list[tuple[int, str]] = cached[1]
    return found


@router.get("/api/v2/order/get_order_detail")
async def get_order_detail(request: Request) -> Response:
    q = request.query_params
    wanted = {f.strip() for f in q.get("response_optional_fields", "").split(",")}

    def answer(data: dict[str, Any], _: Any) -> Answer:
        ids = [x.strip() for x in q.get("order_sn_list", "").split(",") if x.strip()]
        if not 1 <= len(ids) <= 50:
            return error(400, "error_param", "Wrong parameters, detail: order_sn_list "
                          "should have 1 to 50 order_sn.")
        orders = [{k: v for k, v in data["orders"][sn].items()
                   if k not in OPTIONAL_FIELDS or k in wanted}
                  for sn in ids if sn in data["orders"]]
        return ok({"response": {"order_list": orders}})

    return await _serve(request, "/api/v2/order/get_order_detail", True, answer)


@router.post("/api/v2/payment/get_escrow_detail_batch")
async def get_escrow_detail_batch(request: Request) -> Response:
    def answer(data: dict[str, Any], body: Any) -> Answer:
        ids = body.get("order_sn_list") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 50:
            return error(400, "error_param", "Wrong parameters, detail: order_sn_list.")
        return ok({"response": [{"escrow_detail": data["escrow"][str(sn)]}
                                 for sn in ids if str(sn) in data["escrow"]]})

    return await _serve(request, "/api/v2/payment/get_escrow_detail_batch", True, answer)


@router.get("/api/v2/shop/get_shop_info")
async def get_shop_info(request: Request) -> Response:
    return await _serve(request, "/api/v2/shop/get_shop_info", True, lambda d, b: ok({
        "shop_name": "Dolphin Baby Official Store SG", "region": SIM_REGION,
        "status": "NORMAL", "is_cb": False}))


@router.post("/api/v2/auth/access_token/get")
async def refresh_access_token(request: Request) -> Response:
    def answer(data: dict[str, Any], body: Any) -> Answer:
        if not isinstance(body, dict) or str(body.get("partner_id")) \
                != SIM_CREDENTIALS["partner_id"]:
            return error(400, "error_param", "Wrong parameters, detail: partner_id.")
        if str(body.get("shop_id")) != SIM_SHOP_ID \
                or body.get("refresh_token") not in data["refresh_tokens"]:
            return error(403, "error_shop_refresh_token", "Your refresh token is error ,please "
                          "check refresh token or shopid.")
        data["refresh_tokens"].discard(body["refresh_token"])  # a refresh token works once
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        data["tokens"][access] = time.time() + TOKEN_LIFE_S
        data["refresh_tokens"].add(refresh)
        return ok({"partner_id": int(SIM_CREDENTIALS["partner_id"]),
                    "shop_id": int(SIM_SHOP_ID), "access_token": access,
                    "refresh_token": refresh, "expire_in": TOKEN_LIFE_S})

    return await _serve(request, "/api/v2/auth/access_token/get", False, answer)


@router.get("/api/v2/push/get_lost_push_message")
async def get_lost_push_message(request: Request) -> Response:
    def answer(data: dict[str, Any], _: Any) -> Answer:
        page = data["lost"][:100]
        return ok({"warning": "", "response": {
            "push_message_list": [m["message"] for m in page],
            "has_next_page": len(data["lost"]) > 100,
            "last_message_id": page[-1]["id"] if page else 0}})

    return await _serve(request, "/api/v2/push/get_lost_push_message", False, answer)


@router.post("/api/v2/push/confirm_consumed_lost_push_message")
async def confirm_consumed_lost_push_message(request: Request) -> Response:
    def answer(data: dict[str, Any], body: Any) -> Answer:
        last = body.get("last_message_id") if isinstance(body, dict) else None
        if not isinstance(last, int):
            return error(400, "error_param", "Wrong parameters, detail: last_message_id.")
        data["lost"] = [m for m in data["lost"] if m["id"] > last]
        return ok({"warning": ""})

    return await _serve(request, "/api/v2/push/confirm_consumed_lost_push_message", False,
                        answer)
