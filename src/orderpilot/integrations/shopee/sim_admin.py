"""The Shopee simulator's test controls, mounted at /_sim/shopee (JSON in and out):

    POST /orders         {"orders": [<get_order_detail order>, ...]}  -> {"stored": n}
    POST /generate       {"count", "seed", "start", "spread_seconds"} -> {"external_ids": [...]}
    POST /status         {"external_id", "status", "at"?}             -> {"ok": true}
    POST /push           {"hook_url", "external_id", "times"?}  the signed code-3 push
    POST /push_raw       {"hook_url", "body", "headers"}        a hand-made push
    POST /lose           {"external_id"}  a lost push, for v2.push.get_lost_push_message
    POST /expire_tokens  every issued access token expires now
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response

from orderpilot.adapters.channels.base import read_json
from orderpilot.integrations.shopee import sample_orders
from orderpilot.integrations.shopee.signing import push_signature
from orderpilot.integrations.shopee.sim_state import (
    NAME,
    SIM_CREDENTIALS,
    SIM_REGION,
    SIM_SHOP_ID,
    json_answer,
    push_body,
    state,
    store,
)
from orderpilot.simulators.external.recorder import recorder_for

admin_router = APIRouter()


async def _body(request: Request) -> dict[str, Any]:
    body = read_json(await request.body() or b"{}", "body")
    return body if isinstance(body, dict) else {}


@admin_router.post("/orders")
async def put_orders(request: Request) -> dict[str, Any]:
    body = await _body(request)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        ids = store(state(recorder), [o for o in body.get("orders") or []
                                      if isinstance(o, dict) and o.get("order_sn")])
    return {"stored": len(ids)}


@admin_router.post("/generate")
async def generate(request: Request) -> dict[str, Any]:
    body = await _body(request)
    start = _when(body.get("start")) or datetime.now(UTC)
    orders = sample_orders.generate(int(body.get("count") or 1), int(body.get("seed") or 0),
                                    start, int(body.get("spread_seconds") or 0), SIM_REGION)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        return {"external_ids": store(state(recorder), orders)}


@admin_router.post("/status")
async def set_status(request: Request) -> Response:
    body = await _body(request)
    recorder = recorder_for(request, NAME)
    at = int((_when(body.get("at")) or datetime.now(UTC)).timestamp())
    with recorder.lock:
        data = state(recorder)
        order = data["orders"].get(str(body.get("external_id")))
        if order is None:
            return json_answer((404, {"error": "no such order", "field": "external_id"}))
        order["order_status"] = str(body.get("status"))
        order["update_time"] = at
        if order["order_status"] not in ("UNPAID", "CANCELLED") and not order.get("pay_time"):
            order["pay_time"] = at
        data["version"] += 1
    return json_answer((200, {"ok": True}))


@admin_router.post("/push")
def push(request: Request, spec: dict[str, Any]) -> Response:
    """Shopee's order status push (code 3) for one order, signed over hook_url|body."""
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        order = state(recorder)["orders"].get(str(spec.get("external_id")))
        body = push_body(order) if order is not None else b""
    if order is None:
        return json_answer((404, {"error": "no such order", "field": "external_id"}))
    url = str(spec["hook_url"])
    headers = {"Authorization": push_signature(SIM_CREDENTIALS["partner_key"], url, body),
               "Content-Type": "application/json"}
    return _send(url, body, headers, int(spec.get("times") or 1))


@admin_router.post("/push_request")
def push_request(request: Request, spec: dict[str, Any]) -> Response:
    """The signed push /push would send for one order, not sent: the body and headers (the
    bench sends them itself, so the simulator's own work is not in the timing)."""
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        order = state(recorder)["orders"].get(str(spec.get("external_id")))
        body = push_body(order) if order is not None else b""
    if order is None:
        return json_answer((404, {"error": "no such order", "field": "external_id"}))
    url = str(spec["hook_url"])
    return json_answer((200, {"body": body.decode(), "headers": {
        "Authorization": push_signature(SIM_CREDENTIALS["partner_key"], url, body),
        "Content-Type": "application/json"}}))


@admin_router.post("/push_raw")
def push_raw(spec: dict[str, Any]) -> Response:
    return _send(str(spec["hook_url"]), str(spec.get("body") or "").encode(),
                 {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}, 1)


def _send(url: str, body: bytes, headers: dict[str, str], times: int) -> Response:
    status, text, elapsed = 0, "", 0.0
    with httpx.Client(timeout=10) as client:
        for _ in range(max(times, 1)):
            started = time.perf_counter()
            try:
                answer = client.post(url, content=body, headers=headers)
            except httpx.HTTPError as error:  # the hub is down: Shopee would retry later
                status, text = 0, f"{type(error).__name__}: {error}"
                continue
            finally:
                elapsed = (time.perf_counter() - started) * 1000
            status, text = answer.status_code, answer.text
    return json_answer((200, {"status": status, "body": text, "elapsed_ms": round(elapsed, 2)}))


@admin_router.post("/lose")
async def lose(request: Request) -> Response:
    body = await _body(request)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        data = state(recorder)
        order = data["orders"].get(str(body.get("external_id")))
        if order is None:
            return json_answer((404, {"error": "no such order", "field": "external_id"}))
        message = read_json(push_body(order), "push")
        message_id = data["next_message"]
        data["next_message"] += 1
        data["lost"].append({"id": message_id, "message": {
            "shop_id": int(SIM_SHOP_ID), "code": 3, "timestamp": message["timestamp"],
            "data": message}})
    return json_answer((200, {"message_id": message_id}))


@admin_router.post("/expire_tokens")
async def expire_tokens(request: Request) -> dict[str, Any]:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        tokens = state(recorder)["tokens"]
        for token in tokens:
            tokens[token] = 0
    return {"expired": len(tokens)}


def _when(value: object) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
