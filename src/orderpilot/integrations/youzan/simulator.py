"""A Youzan Cloud open API for one shop, speaking the real wire format (client.py, push.py).

    POST /youzan/auth/token                       silent token (client_id/secret/grant_id)
    POST /youzan/api/{api}/{version}?access_token  youzan.trades.sold.get 4.0.x,
                                                   youzan.trade.get 4.0.x, youzan.shop.basic.get,
                                                   youzan.cloud.secret.decrypt.batch/.single
Admin (/_sim/youzan): POST /orders, /generate, /status, /push, /push_raw, /expire_tokens
(the simulator contract of issue 10), /decrypt_permission {"allowed": false} (the shop's app
loses its decryption permission); after-sales (维权): /refunds, /refund_status, /refund_push
and the youzan.trade.refund.* / returngoods.agree APIs (sim_refunds.py). Queued faults:
429 -> HTTP 429 with a gateway error body (Youzan's real throttling answer is not
documented: see client.py), other statuses as given, ``delay_ms`` slow answers.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from bisect import bisect_left, bisect_right
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from orderpilot.integrations.youzan import sim_refunds
from orderpilot.integrations.youzan.sim_orders import generate, move, unseal
from orderpilot.integrations.youzan.sim_push import message_for
from orderpilot.integrations.youzan.statuses import ORDER_STATUSES
from orderpilot.simulators.external.channel_contract import (
    Generate,
    Push,
    RawPush,
    StatusMove,
    StoredOrders,
    deliver,
)
from orderpilot.simulators.external.recorder import Recorder, entry_for, read_body, recorder_for

NAME = "youzan"
SIM_CREDENTIALS: dict[str, str] = {"client_id": "3f2a9c1d7b5e804c6a",
                                   "client_secret": "sim-youzan-secret-7d1e4c2b9a",
                                   "access_token": "sim-youzan-static-token-0001"}
SIM_SHOP_ID = "45678901"
SIM_REGION = ""
SHOP_NAME = "母婴优选小程序店"
WEEK_MS = 7 * 24 * 3600 * 1000
APIS = {("youzan.trades.sold.get", "4.0.0"), ("youzan.trades.sold.get", "4.0.1"),
        ("youzan.trades.sold.get", "4.0.2"), ("youzan.trades.sold.get", "4.0.3"),
        ("youzan.trades.sold.get", "4.0.4"), ("youzan.trade.get", "4.0.0"),
        ("youzan.trade.get", "4.0.1"), ("youzan.trade.get", "4.0.2"),
        ("youzan.shop.basic.get", "3.0.0"), ("youzan.cloud.secret.decrypt.batch", "1.0.0"),
        ("youzan.cloud.secret.decrypt.single", "1.0.0")} | sim_refunds.REFUND_APIS
MAX_SOURCES = 10_000
router = APIRouter()
admin_router = APIRouter()


class DecryptPermission(BaseModel):
    allowed: bool


def reset(recorder: Recorder) -> None:
    recorder.data.clear()


def _state(recorder: Recorder) -> dict[str, Any]:
    data = recorder.data
    if "orders" not in data:
        data["orders"] = {}
        data["serial"] = 1
        data["tokens"] = {SIM_CREDENTIALS["access_token"]: _now_ms() + WEEK_MS}
    return data


def _now_ms() -> int:
    return int(time.time() * 1000)


def _gateway_body(code: int, message: str) -> dict[str, Any]:
    return {"gw_err_resp": {"trace_id": f"yz7-{uuid.uuid4().hex[:20]}", "err_code": code,
                            "err_msg": message}}


def _gateway(code: int, message: str, status: int = 200) -> JSONResponse:
    return JSONResponse(_gateway_body(code, message), status)


def _ok(data: Any) -> dict[str, Any]:
    return {"success": True, "code": 200, "message": "successful", "data": data,
            "trace_id": f"yz7-{uuid.uuid4().hex[:20]}"}


def _fail(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "code": code, "data": None, "message": message}


async def _fault(recorder: Recorder) -> JSONResponse | None:
    fault = recorder.take_fault()
    if fault is None:
        return None
    await asyncio.sleep(fault.delay_ms / 1000)
    if fault.status is None:
        return None
    if fault.status == 429:
        return _gateway(429, "请求过于频繁，已触发限流", 429)
    return JSONResponse(fault.body if fault.body is not None else
                        {"error": f"simulated fault in {NAME}"}, fault.status)


@router.post("/auth/token")
async def token(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)
    failed = await _fault(recorder)
    if failed is not None:
        return failed
    if "json" not in request.headers.get("content-type", ""):
        return JSONResponse(_fail(1000, "Content type not supported,Please use "
                                        "'application/json;charset=UTF-8'"))
    if not isinstance(body, dict) or body.get("client_id") != SIM_CREDENTIALS["client_id"]:
        return JSONResponse(_fail(1103, "Client 不存在"))
    if body.get("client_secret") != SIM_CREDENTIALS["client_secret"]:
        return JSONResponse(_fail(1104, "client_secret 错误"))
    if body.get("authorize_type") != "silent" or str(body.get("grant_id")) != SIM_SHOP_ID:
        return JSONResponse(_fail(1105, "授权关系不存在"))

    def issue() -> tuple[int, Any]:
        tokens = _state(recorder)["tokens"]
        value = secrets.token_hex(16)
        expires = _now_ms() + WEEK_MS
        tokens[value] = expires
        return 200, _ok({"access_token": value, "expires": expires, "scope": "all",
                         "authority_id": SIM_SHOP_ID})

    status, content = recorder.once(None, entry_for(request, {**body, "client_secret": "***"}),
                                    issue)
    return JSONResponse(content, status)


@router.post("/api/{api}/{version}")
async def call(request: Request, api: str, version: str) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)
    failed = await _fault(recorder)
    if failed is not None:
        return failed
    if (api, version) not in APIS:
        return _gateway(4005, "非法的API")
    if "json" not in request.headers.get("content-type", ""):
        return _gateway(4007, f"非法的请求姿势，httpMethod:POST, contentType:"
                              f"{request.headers.get('content-type', '')}")
    given = request.query_params.get("access_token", "")
    state = _state(recorder)
    if not given:
        return _gateway(4201, "非法的请求凭证")
    if given not in state["tokens"]:
        return _gateway(4203, "Token 不存在")
    if state["tokens"][given] <= _now_ms():
        return _gateway(4202, "请求凭证已过期")
    params = body if isinstance(body, dict) else {}

    def answer() -> tuple[int, Any]:
        if api == "youzan.trade.get":
            order = state["orders"].get(str(params.get("tid") or ""))
            return 200, (_ok(order) if order else _fail(101100701, "订单不存在"))
        if api == "youzan.shop.basic.get":
            return 200, _ok({"id": int(SIM_SHOP_ID), "name": SHOP_NAME})
        if api.startswith("youzan.cloud.secret.decrypt."):
            return _decrypt(state, api, params)
        if (api, version) in sim_refunds.REFUND_APIS:
            return sim_refunds.answer(state, api, params)
        return 200, _sold(state, params)

    status, content = recorder.once(None, entry_for(request, params), answer)
    return JSONResponse(content, status)


def _decrypt(state: dict[str, Any], api: str, params: dict[str, Any]) -> tuple[int, Any]:
    """The shop's ciphertexts (sim_orders.seal) in plain text: batch ``{sources}`` -> {cipher:
    plain}, single ``{source}`` -> plain; a plain value comes back as it is. Without the
    decryption permission (admin /decrypt_permission) a gateway error that says so (Youzan's
    own code for it is not documented: this one is the simulator's)."""
    if not state.get("decrypt_allowed", True):
        return 200, _gateway_body(4004, "应用没有该API的访问权限（未授权解密）")
    if api.endswith(".single"):
        source = str(params.get("source") or "")
        return 200, _ok(unseal(source) or source) if source else _fail(10500, "系统异常")
    sources = params.get("sources")
    if not isinstance(sources, list) or not sources or len(sources) > MAX_SOURCES:
        return 200, _fail(4000, f"sources 为 1 至 {MAX_SOURCES} 条密文")
    if any(not isinstance(v, str) or not v for v in sources):
        return 200, _fail(10500, "系统异常")  # an empty string among the sources
    return 200, _ok({v: unseal(v) or v for v in sources})


def _index(state: dict[str, Any]) -> list[tuple[str, str]]:
    """(update_time, tid), oldest first; rebuilt after a change ("yyyy-MM-dd HH:mm:ss"
    strings sort as the times they are)."""
    if state.get("index") is None:
        state["index"] = sorted((order["full_order_info"]["order_info"]["update_time"], tid)
                                for tid, order in state["orders"].items())
    index: list[tuple[str, str]] = state["index"]
    return index


def _changed(state: dict[str, Any]) -> None:
    state["index"] = None


def _sold(state: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    try:
        page, size = int(params.get("page_no") or 1), int(params.get("page_size") or 20)
    except (TypeError, ValueError):
        return _fail(4000, "page_no/page_size 不是数字")
    if not 1 <= page <= 100 or not 1 <= size <= 100 or page * size > 3200:
        return _fail(4000, "page_no 最大100，page_size 最大100，且相乘不能大于3200")
    start, end = str(params.get("start_update") or ""), str(params.get("end_update") or "")
    index = _index(state)
    if start and end:
        found = index[bisect_left(index, (start, "")):bisect_right(index, (end, "\uffff"))]
    else:  # "开始时间和结束时间必须成对出现" (otherwise the condition is void)
        found = index
    orders = state["orders"]
    if params.get("status"):
        found = [row for row in found
                 if orders[row[1]]["full_order_info"]["order_info"]["status"] == params["status"]]
    newest = len(found) - (page - 1) * size  # newest first
    chosen = [found[n][1] for n in range(newest - 1, max(newest - size, 0) - 1, -1)]
    return _ok({"total_results": len(found), "full_order_info_list": [
        {"full_order_info": orders[tid]["full_order_info"]} for tid in chosen]})


# -- admin ------------------------------------------------------------------------------

def _when(value: str | None) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else datetime.now(UTC)


@admin_router.post("/orders")
def store(request: Request, spec: StoredOrders) -> dict[str, Any]:
    orders = _state(recorder_for(request, NAME))["orders"]
    for order in spec.orders:
        trade = order["data"] if "full_order_info" not in order and "data" in order else order
        orders[str(trade["full_order_info"]["order_info"]["tid"])] = trade
    _changed(_state(recorder_for(request, NAME)))
    return {"stored": len(spec.orders)}


@admin_router.post("/generate")
def make(request: Request, spec: Generate) -> dict[str, Any]:
    recorder = recorder_for(request, NAME)
    state = _state(recorder)
    with recorder.lock:
        first = state["serial"]
        state["serial"] += spec.count
    made = generate(spec.count, spec.seed, _when(spec.start), spec.spread_seconds, first)
    for order in made:
        state["orders"][order["full_order_info"]["order_info"]["tid"]] = order
    _changed(state)
    return {"external_ids": [o["full_order_info"]["order_info"]["tid"] for o in made]}


@admin_router.post("/status", response_model=None)
def set_status(request: Request, spec: StatusMove) -> dict[str, Any] | JSONResponse:
    state = _state(recorder_for(request, NAME))
    order = state["orders"].get(spec.external_id)
    if order is None or spec.status not in ORDER_STATUSES:
        return JSONResponse({"error": "unknown order or status",
                             "statuses": list(ORDER_STATUSES)}, 404)
    move(order, spec.status, _when(spec.at))
    _changed(state)
    return {"ok": True}


def push_of(order: dict[str, Any], send_count: int = 1) -> tuple[bytes, dict[str, str]]:
    """The push Youzan sends for ORDER's current status, signed with SIM_CREDENTIALS."""
    return message_for(order, client_id=SIM_CREDENTIALS["client_id"],
                       client_secret=SIM_CREDENTIALS["client_secret"], kdt_id=int(SIM_SHOP_ID),
                       kdt_name=SHOP_NAME, send_count=send_count)


def _post(url: str, raw: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return deliver(url, raw, headers, keep=100_000)


@admin_router.post("/push", response_model=None)
def push(request: Request, spec: Push) -> dict[str, Any] | JSONResponse:
    order = _state(recorder_for(request, NAME))["orders"].get(spec.external_id)
    if order is None:
        return JSONResponse({"error": f"no order {spec.external_id!r}"}, 404)
    result: dict[str, Any] = {}
    for n in range(spec.times):  # a replay is Youzan's retry: same msg_id, sendCount + 1
        raw, headers = push_of(order, send_count=n + 1)
        result = _post(spec.hook_url, raw, headers)
    return result


@admin_router.post("/push_raw")
def push_raw(spec: RawPush) -> dict[str, Any]:
    return _post(spec.hook_url, spec.body.encode(), spec.headers)


@admin_router.post("/decrypt_permission")
def decrypt_permission(request: Request, spec: DecryptPermission) -> dict[str, Any]:
    """Grant or withdraw the shop's decryption permission (Youzan Cloud console: 解密权限)."""
    _state(recorder_for(request, NAME))["decrypt_allowed"] = spec.allowed
    return {"allowed": spec.allowed}


@admin_router.post("/expire_tokens")
def expire_tokens(request: Request) -> dict[str, Any]:
    tokens = _state(recorder_for(request, NAME))["tokens"]
    for value in tokens:
        tokens[value] = 0
    return {"expired": len(tokens)}


def _refund_push(refund: dict[str, Any], send_count: int) -> tuple[bytes, dict[str, str]]:
    return sim_refunds.push_of(refund, client_id=SIM_CREDENTIALS["client_id"],
                               client_secret=SIM_CREDENTIALS["client_secret"],
                               kdt_id=int(SIM_SHOP_ID), kdt_name=SHOP_NAME,
                               send_count=send_count)


sim_refunds.register(lambda request: _state(recorder_for(request, NAME)), _refund_push,
                     int(SIM_SHOP_ID))
admin_router.include_router(sim_refunds.admin)
