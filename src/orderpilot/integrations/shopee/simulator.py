"""A loopback Shopee Open Platform v2 (mounted at /shopee) and its test controls
(/_sim/shopee). It checks the real signature, partner, shop, timestamp (5 minutes) and access
token, pages get_order_list by update or create time with Shopee's offset cursor and 15-day
limit, honours ``response_optional_fields``, and answers errors in Shopee's JSON shape
(``error``, ``message``, ``request_id``). The HTTP statuses of error answers are not
documented; it uses 403 for auth and sign errors, 400 for parameter errors, 429 for the rate
limit.

Admin (JSON): POST /orders, /generate, /status, /push, /push_raw, /lose (record a lost push
for an order, drained by v2.push.get_lost_push_message), /expire_tokens.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response

from orderpilot.adapters.channels.base import dumps, read_json
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.shopee import sample_orders
from orderpilot.integrations.shopee.signing import push_signature, sign_is_valid
from orderpilot.simulators.external.recorder import Recorder, entry_for, recorder_for

NAME = "shopee"
SIM_CREDENTIALS: dict[str, str] = {
    "partner_id": "2001887", "partner_key": "shpk4f6c7a2e9b1d4c8e8a7f3b2c1d0e9f8a7b6c5d4e3f2a1b",
    "access_token": "59777174636562737266615546704c6d",
    "refresh_token": "4c7259534969484e71734d695a6e6d55"}
SIM_SHOP_ID = "14701711"
SIM_REGION = "SG"
TOKEN_LIFE_S = 14_400
MAX_RANGE_S = 15 * 86_400
ORDER_LIST_PATH = "/api/v2/order/get_order_list"
router = APIRouter()
admin_router = APIRouter()
Answer = tuple[int, dict[str, Any]]
# get_order_detail fields returned only when asked for (the reference's "Available values")
OPTIONAL_FIELDS = frozenset((
    "buyer_user_id,buyer_username,estimated_shipping_fee,recipient_address,actual_shipping_fee,"
    "goods_to_declare,note,note_update_time,item_list,pay_time,dropshipper,dropshipper_phone,"
    "split_up,buyer_cancel_reason,cancel_by,cancel_reason,actual_shipping_fee_confirmed,"
    "buyer_cpf_id,fulfillment_flag,pickup_done_time,package_list,shipping_carrier,"
    "payment_method,total_amount,invoice_data,order_chargeable_weight_gram,"
    "return_request_due_date,edt,payment_info").split(","))


def reset(recorder: Recorder) -> None:
    recorder.data.clear()
    _state(recorder)


def _state(recorder: Recorder) -> dict[str, Any]:
    data = recorder.data
    if "orders" not in data:
        data.update(orders={}, escrow={}, lost=[], next_message=1, version=0, index={},
                    tokens={SIM_CREDENTIALS["access_token"]: time.time() + TOKEN_LIFE_S},
                    refresh_tokens={SIM_CREDENTIALS["refresh_token"]})
    return data


def _error(status: int, error: str, message: str) -> Answer:
    return status, {"error": error, "message": message, "request_id": secrets.token_hex(16)}


def _ok(content: dict[str, Any]) -> Answer:
    return 200, {"error": "", "message": "", "request_id": secrets.token_hex(16), **content}


def _json(answer: Answer) -> Response:
    return Response(dumps(answer[1]), answer[0], media_type="application/json")


def _refusal(request: Request, path: str, shop_level: bool, data: dict[str, Any]
             ) -> Answer | None:
    """What Shopee says to a call whose common parameters do not check out."""
    q = request.query_params
    if not q.get("partner_id"):
        return _error(400, "error_param", "There is no partner_id in query.")
    if q["partner_id"] != SIM_CREDENTIALS["partner_id"]:
        return _error(403, "error_auth", "partner_id is invalid")
    if not q.get("timestamp"):
        return _error(400, "error_param", "no timestamp")
    if not q["timestamp"].isdigit():
        return _error(400, "error_param", "Invalid timestamp")
    timestamp = int(q["timestamp"])
    if abs(time.time() - timestamp) > 300:
        return _error(400, "error_param", "Timestamp is expired.")
    token = shop = ""
    if shop_level:
        token, shop = q.get("access_token", ""), q.get("shop_id", "")
        if not token:
            return _error(400, "error_param", "There is no access_token in query.")
        if not shop:
            return _error(400, "error_param", "There is no shop_id in query.")
    if not q.get("sign"):
        return _error(400, "error_param", "There is no sign in query.")
    if not sign_is_valid(q["sign"], SIM_CREDENTIALS["partner_key"], q["partner_id"], path,
                         timestamp, token, shop):
        return _error(403, "error_sign", "Wrong sign.")
    if shop_level and shop != SIM_SHOP_ID:
        return _error(403, "error_auth", "Invalid partner_id or shopid.")
    if shop_level and data["tokens"].get(token, 0) <= time.time():
        return _error(403, "invalid_acceess_token", "Invalid access_token, please have a check.")
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
                return _json((429, _error(429, "error_rate_limit", "Too many requests. You have "
                              "reached the rate limit. Please try again later.")[1]))
            return _json((fault.status, _error(fault.status, "error_server",
                                               "System error. Please try again later.")[1]))
    try:
        body = read_json(raw, "body") if raw.strip() else None
    except MappingError:
        return _json(_error(400, "error_param", "parse data failed"))
    with recorder.lock:
        data = _state(recorder)
        result = _refusal(request, path, shop_level, data) or answer(data, body)
        recorder.look_ups.append({**entry_for(request, None), "status_code": result[0]})
    return _json(result)


@router.get(ORDER_LIST_PATH)
async def get_order_list(request: Request) -> Response:
    q = request.query_params

    def answer(data: dict[str, Any], _: Any) -> Answer:
        field = q.get("time_range_field", "")
        if field not in ("create_time", "update_time"):
            return _error(400, "error_param", "Wrong parameters, detail: time_range_field.")
        try:
            start, end = int(q.get("time_from", "")), int(q.get("time_to", ""))
            size = int(q.get("page_size", ""))
            offset = int(q.get("cursor") or 0)
        except ValueError:
            return _error(400, "error_param", "parameter invalid")
        if start > end or end - start > MAX_RANGE_S:
            return _error(400, "order.order_list_invalid_time",
                          "Start time must be earlier than end time and diff in 15days.")
        if not 1 <= size <= 100:
            return _error(400, "error_param", "Wrong parameters, detail: page_size.")
        found = [sn for value, sn in _sorted(data, field) if start <= value <= end]
        page = found[offset:offset + size]
        more = offset + size < len(found)
        return _ok({"response": {
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
            return _error(400, "error_param", "Wrong parameters, detail: order_sn_list "
                          "should have 1 to 50 order_sn.")
        orders = [{k: v for k, v in data["orders"][sn].items()
                   if k not in OPTIONAL_FIELDS or k in wanted}
                  for sn in ids if sn in data["orders"]]
        return _ok({"response": {"order_list": orders}})

    return await _serve(request, "/api/v2/order/get_order_detail", True, answer)


@router.post("/api/v2/payment/get_escrow_detail_batch")
async def get_escrow_detail_batch(request: Request) -> Response:
    def answer(data: dict[str, Any], body: Any) -> Answer:
        ids = body.get("order_sn_list") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= 50:
            return _error(400, "error_param", "Wrong parameters, detail: order_sn_list.")
        return _ok({"response": [{"escrow_detail": data["escrow"][str(sn)]}
                                 for sn in ids if str(sn) in data["escrow"]]})

    return await _serve(request, "/api/v2/payment/get_escrow_detail_batch", True, answer)


@router.get("/api/v2/shop/get_shop_info")
async def get_shop_info(request: Request) -> Response:
    return await _serve(request, "/api/v2/shop/get_shop_info", True, lambda d, b: _ok({
        "shop_name": "Dolphin Baby Official Store SG", "region": SIM_REGION,
        "status": "NORMAL", "is_cb": False}))


@router.post("/api/v2/auth/access_token/get")
async def refresh_access_token(request: Request) -> Response:
    def answer(data: dict[str, Any], body: Any) -> Answer:
        if not isinstance(body, dict) or str(body.get("partner_id")) \
                != SIM_CREDENTIALS["partner_id"]:
            return _error(400, "error_param", "Wrong parameters, detail: partner_id.")
        if str(body.get("shop_id")) != SIM_SHOP_ID \
                or body.get("refresh_token") not in data["refresh_tokens"]:
            return _error(403, "error_shop_refresh_token", "Your refresh token is error ,please "
                          "check refresh token or shopid.")
        data["refresh_tokens"].discard(body["refresh_token"])  # a refresh token works once
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        data["tokens"][access] = time.time() + TOKEN_LIFE_S
        data["refresh_tokens"].add(refresh)
        return _ok({"partner_id": int(SIM_CREDENTIALS["partner_id"]),
                    "shop_id": int(SIM_SHOP_ID), "access_token": access,
                    "refresh_token": refresh, "expire_in": TOKEN_LIFE_S})

    return await _serve(request, "/api/v2/auth/access_token/get", False, answer)


@router.get("/api/v2/push/get_lost_push_message")
async def get_lost_push_message(request: Request) -> Response:
    def answer(data: dict[str, Any], _: Any) -> Answer:
        page = data["lost"][:100]
        return _ok({"warning": "", "response": {
            "push_message_list": [m["message"] for m in page],
            "has_next_page": len(data["lost"]) > 100,
            "last_message_id": page[-1]["id"] if page else 0}})

    return await _serve(request, "/api/v2/push/get_lost_push_message", False, answer)


@router.post("/api/v2/push/confirm_consumed_lost_push_message")
async def confirm_consumed_lost_push_message(request: Request) -> Response:
    def answer(data: dict[str, Any], body: Any) -> Answer:
        last = body.get("last_message_id") if isinstance(body, dict) else None
        if not isinstance(last, int):
            return _error(400, "error_param", "Wrong parameters, detail: last_message_id.")
        data["lost"] = [m for m in data["lost"] if m["id"] > last]
        return _ok({"warning": ""})

    return await _serve(request, "/api/v2/push/confirm_consumed_lost_push_message", False,
                        answer)


# -- admin ---------------------------------------------------------------------------------


def _store(data: dict[str, Any], orders: list[dict[str, Any]]) -> list[str]:
    ids = []
    for order in orders:
        order = dict(order)
        order_sn = str(order["order_sn"])
        escrow = order.pop("escrow_detail", None)
        if isinstance(escrow, dict):
            data["escrow"][order_sn] = escrow
        data["orders"][order_sn] = order
        ids.append(order_sn)
    data["version"] += 1
    return ids


async def _admin_body(request: Request) -> dict[str, Any]:
    body = read_json(await request.body() or b"{}", "body")
    return body if isinstance(body, dict) else {}


@admin_router.post("/orders")
async def put_orders(request: Request) -> dict[str, Any]:
    body = await _admin_body(request)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        ids = _store(_state(recorder), [o for o in body.get("orders") or []
                                        if isinstance(o, dict) and o.get("order_sn")])
    return {"stored": len(ids)}


@admin_router.post("/generate")
async def generate(request: Request) -> dict[str, Any]:
    body = await _admin_body(request)
    start = _when(body.get("start")) or datetime.now(UTC)
    orders = sample_orders.generate(int(body.get("count") or 1), int(body.get("seed") or 0),
                                    start, int(body.get("spread_seconds") or 0), SIM_REGION)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        return {"external_ids": _store(_state(recorder), orders)}


@admin_router.post("/status")
async def set_status(request: Request) -> Response:
    body = await _admin_body(request)
    recorder = recorder_for(request, NAME)
    at = int((_when(body.get("at")) or datetime.now(UTC)).timestamp())
    with recorder.lock:
        data = _state(recorder)
        order = data["orders"].get(str(body.get("external_id")))
        if order is None:
            return _json((404, {"error": "no such order", "field": "external_id"}))
        order["order_status"] = str(body.get("status"))
        order["update_time"] = at
        if order["order_status"] not in ("UNPAID", "CANCELLED") and not order.get("pay_time"):
            order["pay_time"] = at
        data["version"] += 1
    return _json((200, {"ok": True}))


def _push_body(order: dict[str, Any]) -> bytes:
    return dumps({"data": {"ordersn": order["order_sn"], "status": order["order_status"],
                           "completed_scenario": "", "update_time": order["update_time"]},
                  "shop_id": int(SIM_SHOP_ID), "code": 3,
                  "timestamp": int(time.time())}).encode()


@admin_router.post("/push")
def push(request: Request, spec: dict[str, Any]) -> Response:
    """Shopee's order status push (code 3) for one order, signed over hook_url|body."""
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        order = _state(recorder)["orders"].get(str(spec.get("external_id")))
        body = _push_body(order) if order is not None else b""
    if order is None:
        return _json((404, {"error": "no such order", "field": "external_id"}))
    url = str(spec["hook_url"])
    headers = {"Authorization": push_signature(SIM_CREDENTIALS["partner_key"], url, body),
               "Content-Type": "application/json"}
    return _send(url, body, headers, int(spec.get("times") or 1))


@admin_router.post("/push_raw")
def push_raw(spec: dict[str, Any]) -> Response:
    return _send(str(spec["hook_url"]), str(spec.get("body") or "").encode(),
                 {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}, 1)


def _send(url: str, body: bytes, headers: dict[str, str], times: int) -> Response:
    status, text, elapsed = 0, "", 0.0
    with httpx.Client(timeout=10) as client:
        for _ in range(max(times, 1)):
            started = time.perf_counter()
            answer = client.post(url, content=body, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            status, text = answer.status_code, answer.text
    return _json((200, {"status": status, "body": text, "elapsed_ms": round(elapsed, 2)}))


@admin_router.post("/lose")
async def lose(request: Request) -> Response:
    body = await _admin_body(request)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        data = _state(recorder)
        order = data["orders"].get(str(body.get("external_id")))
        if order is None:
            return _json((404, {"error": "no such order", "field": "external_id"}))
        message = read_json(_push_body(order), "push")
        message_id = data["next_message"]
        data["next_message"] += 1
        data["lost"].append({"id": message_id, "message": {
            "shop_id": int(SIM_SHOP_ID), "code": 3, "timestamp": message["timestamp"],
            "data": message}})
    return _json((200, {"message_id": message_id}))


@admin_router.post("/expire_tokens")
async def expire_tokens(request: Request) -> dict[str, Any]:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        tokens = _state(recorder)["tokens"]
        for token in tokens:
            tokens[token] = 0
    return {"expired": len(tokens)}


def _when(value: object) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
