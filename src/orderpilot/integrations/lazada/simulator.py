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
/expire_tokens (see docs/channels/lazada.md).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.lazada.mapping import REGION_CURRENCY, lazada_time
from orderpilot.integrations.lazada.sample import lazada_times, make_order
from orderpilot.integrations.lazada.signing import push_signature, request_signed_right
from orderpilot.simulators.external.recorder import Recorder, entry_for, recorder_for

NAME = "lazada"
SIM_CREDENTIALS: dict[str, str] = {
    "app_key": "100231", "app_secret": "sim-lazada-app-secret-0b7d",
    "access_token": "sim-lazada-access-token", "refresh_token": "sim-lazada-refresh-token"}
SIM_SHOP_ID = "1000165972"
SIM_REGION = "SG"
MAX_LIMIT = 100
MAX_OFFSET = 5000
router = APIRouter()
admin_router = APIRouter()


def reset(recorder: Recorder) -> None:
    recorder.data.clear()
    _state(recorder)


def _state(recorder: Recorder) -> dict[str, Any]:
    data = recorder.data
    if "tokens" not in data:
        data.update(orders={}, updated={}, tokens={SIM_CREDENTIALS["access_token"]: True},
                    refresh={SIM_CREDENTIALS["refresh_token"]}, issued=0)
    return data


def _error(code: str, message: str, kind: str = "ISV", status: int = 200) -> JSONResponse:
    return JSONResponse({"type": kind, "code": code, "message": message,
                         "request_id": f"0ba2{time.time_ns() % 10**16:016d}"}, status)


def _ok(content: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"code": "0", **content,
                         "request_id": f"0ba2{time.time_ns() % 10**16:016d}"})


async def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method == "POST":
        params.update(parse_qsl((await request.body()).decode(errors="replace"),
                                keep_blank_values=True))
    return params


async def _gate(request: Request, path: str, *, token: bool = True
                ) -> tuple[dict[str, str], JSONResponse | None]:
    """Faults, then Lazada's checks; the request is recorded when it passes the faults."""
    recorder = recorder_for(request, NAME)
    params = await _params(request)
    fault = recorder.take_fault()
    if fault is not None:
        await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status == 429:
            return params, _error("ApiCallLimit", "The request has exceeded the limit. "
                                  "This ban will last 1 seconds", status=429)
        if fault.status is not None:
            if fault.body is not None:
                return params, JSONResponse(fault.body, fault.status)
            return params, _error("ServiceUnavailable", "The service is temporarily "
                                  "unavailable", "SYSTEM", fault.status)
    with recorder.lock:
        state = _state(recorder)
        recorder.records.append({**entry_for(request, None), "idempotency_key": None,
                                 "deliveries": 1, "status_code": 200})
    if params.get("app_key") != SIM_CREDENTIALS["app_key"]:
        return params, _error("InvalidAppKey", "The app key is invalid")
    if not request_signed_right(path, params, SIM_CREDENTIALS["app_secret"]):
        return params, _error("IncompleteSignature",
                              "The request signature does not conform to lazada standards")
    try:
        sent = int(params.get("timestamp", "0")) / 1000
    except ValueError:
        sent = 0
    if abs(time.time() - sent) > 7200:
        return params, _error("InvalidTimestamp", "The timestamp is out of range")
    if token:
        given = params.get("access_token", "")
        if not given:
            return params, _error("MISSING_PARAMETER", "missing required parameter: "
                                  "access_token")
        if not state["tokens"].get(given):
            return params, _error("IllegalAccessToken",
                                  "The specified access token is invalid or expired")
    return params, None


def _header(order: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k != "order_items"}


def _moment(value: str, field: str) -> float:
    try:
        return lazada_time(value, field).timestamp()
    except MappingError:
        raise ValueError(field) from None


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
        after = _moment(params.get("update_after", ""), "update_after") \
            if params.get("update_after") else float("-inf")
        before = _moment(params.get("update_before", ""), "update_before") \
            if params.get("update_before") else float("inf")
    except ValueError as error:
        return _error("17", f'E017: "{error}" Invalid Date Format')
    state = _state(recorder_for(request, NAME))
    updated: dict[str, float] = state["updated"]
    chosen = sorted((ts, oid) for oid, ts in updated.items() if after <= ts <= before)
    if params.get("sort_direction", "").upper() == "DESC":
        chosen.reverse()
    page = [_header(state["orders"][oid]) for _, oid in chosen[offset:offset + limit]]
    return _ok({"data": {"count": str(len(page)), "countTotal": str(len(chosen)),
                         "orders": page}})


@router.get("/order/get")
async def get_order(request: Request) -> JSONResponse:
    params, refused = await _gate(request, "/order/get")
    if refused:
        return refused
    order = _state(recorder_for(request, NAME))["orders"].get(params.get("order_id", ""))
    if order is None:
        return _error("16", f'E016: "{params.get("order_id", "")}" Invalid Order ID')
    return _ok({"data": _header(order)})


@router.get("/order/items/get")
async def get_order_items(request: Request) -> JSONResponse:
    params, refused = await _gate(request, "/order/items/get")
    if refused:
        return refused
    order = _state(recorder_for(request, NAME))["orders"].get(params.get("order_id", ""))
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
    orders = _state(recorder_for(request, NAME))["orders"]
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
        state = _state(recorder)
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


# Admin routes


class OrdersIn(BaseModel):
    orders: list[dict[str, Any]]


class GenerateIn(BaseModel):
    count: int = Field(1, ge=1, le=100_000)
    seed: int = 0
    start: str | None = None
    spread_seconds: int = Field(3600, ge=0)
    region: str = SIM_REGION


class StatusIn(BaseModel):
    external_id: str
    status: str
    at: str | None = None
    item_ids: list[str] | None = None  # only these units (a partial cancellation)


class PushIn(BaseModel):
    hook_url: str
    external_id: str
    times: int = Field(1, ge=1, le=100)


class PushRawIn(BaseModel):
    hook_url: str
    body: str
    headers: dict[str, str] = {}


def _store(state: dict[str, Any], order: dict[str, Any]) -> str:
    order_id = str(order["order_id"])
    state["orders"][order_id] = order
    state["updated"][order_id] = _moment(order.get("updated_at") or order["created_at"],
                                         "updated_at")
    return order_id


@admin_router.post("/orders")
def store_orders(request: Request, spec: OrdersIn) -> JSONResponse:
    recorder = recorder_for(request, NAME)
    try:
        with recorder.lock:
            state = _state(recorder)
            for order in spec.orders:
                _store(state, order)
    except (KeyError, ValueError) as error:
        return JSONResponse({"error": f"an order lacks a valid {error}"}, 422)
    return JSONResponse({"stored": len(spec.orders)})


@admin_router.post("/generate")
def generate(request: Request, spec: GenerateIn) -> JSONResponse:
    rng = random.Random(spec.seed)
    start = datetime.fromisoformat(spec.start) if spec.start else datetime.now(UTC)
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    recorder = recorder_for(request, NAME)
    ids = []
    with recorder.lock:
        state = _state(recorder)
        for _ in range(spec.count):
            state["issued"] += 1
            created = start + timedelta(seconds=rng.random() * spec.spread_seconds * 0.8)
            end = start + timedelta(seconds=spec.spread_seconds)
            updated = created + (end - created) * rng.random() * 0.25
            serial = spec.seed * 1_000_000 + state["issued"]
            ids.append(_store(state, make_order(rng, serial, spec.region.upper(), created,
                                                updated)))
    return JSONResponse({"external_ids": ids})


@admin_router.post("/status")
def move_status(request: Request, spec: StatusIn) -> JSONResponse:
    recorder = recorder_for(request, NAME)
    at = datetime.fromisoformat(spec.at) if spec.at else datetime.now(UTC)
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    with recorder.lock:
        state = _state(recorder)
        order = state["orders"].get(spec.external_id)
        if order is None:
            return JSONResponse({"error": f"no order {spec.external_id}"}, 404)
        currency = order["order_items"][0].get("currency")
        region = {c: r for r, c in REGION_CURRENCY.items()}.get(currency, SIM_REGION)
        header_time, item_time = lazada_times(at, region)
        for item in order["order_items"]:
            chosen = spec.item_ids is None or str(item["order_item_id"]) in spec.item_ids
            if chosen and (item["status"] != "canceled" or spec.status == "canceled"):
                item.update(status=spec.status, updated_at=item_time)
        order.update(statuses=sorted({i["status"] for i in order["order_items"]}),
                     updated_at=header_time)
        state["updated"][spec.external_id] = at.timestamp()
    return JSONResponse({"ok": True})


@admin_router.post("/expire_tokens")
def expire_tokens(request: Request) -> JSONResponse:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        tokens = _state(recorder)["tokens"]
        for token in tokens:
            tokens[token] = False
    return JSONResponse({"expired": len(tokens)})


def trade_order_push(order: Mapping[str, Any]) -> bytes:
    """Lazada's trade order message (message_type 0) for ORDER's current status."""
    items = order["order_items"]
    live = [i for i in items if i["status"] != "canceled"] or items
    seconds = int(_moment(order.get("updated_at") or order["created_at"], "updated_at"))
    return json.dumps({
        "seller_id": SIM_SHOP_ID, "message_type": 0,
        "data": {"order_status": live[0]["status"], "trade_order_id": str(order["order_id"]),
                 "trade_order_line_id": str(live[0]["order_item_id"]),
                 "status_update_time": seconds},
        "timestamp": int(time.time() * 1000), "site": "lazada_sg"},
        separators=(",", ":")).encode()


def _deliver(url: str, body: bytes, headers: dict[str, str], times: int) -> JSONResponse:
    status, text, started = 0, "", time.perf_counter()
    with httpx.Client(timeout=10) as client:
        for _ in range(times):
            try:
                answer = client.post(url, content=body, headers=headers)
                status, text = answer.status_code, answer.text[:2000]
            except httpx.HTTPError as error:
                status, text = 0, f"{type(error).__name__}: {error}"
    elapsed = (time.perf_counter() - started) * 1000 / times
    return JSONResponse({"status": status, "body": text, "elapsed_ms": round(elapsed, 2)})


@admin_router.post("/push")
def push(request: Request, spec: PushIn) -> JSONResponse:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        order = _state(recorder)["orders"].get(spec.external_id)
        body = trade_order_push(order) if order is not None else b""
    if order is None:
        return JSONResponse({"error": f"no order {spec.external_id}"}, 404)
    signature = push_signature(SIM_CREDENTIALS["app_key"], SIM_CREDENTIALS["app_secret"], body)
    return _deliver(spec.hook_url, body, {"Content-Type": "application/json",
                                          "Authorization": signature}, spec.times)


@admin_router.post("/push_raw")
def push_raw(spec: PushRawIn) -> JSONResponse:
    return _deliver(spec.hook_url, spec.body.encode(),
                    {"Content-Type": "application/json", **spec.headers}, 1)
