"""The Shopify simulator: the Admin REST API's order endpoints and Shopify's webhooks.

    GET  /shopify/admin/api/{version}/orders.json        list (status, ids, updated_at_min/max,
                                                         created_at_min/max, limit, order,
                                                         page_info), Link header paging
    GET  /shopify/admin/api/{version}/orders/{id}.json   one order
    GET  /shopify/admin/api/{version}/shop.json          the shop
    POST /_sim/shopify/orders | generate | status | push | push_raw | expire_tokens | reinstall
    refunds and returns: see sim_returns.py

Every API call needs ``X-Shopify-Access-Token`` = SIM_CREDENTIALS["access_token"] (else
Shopify's 401); a queued 429 fault answers as Shopify does (Retry-After, call-limit header).
``expire_tokens`` revokes the token (Shopify tokens do not expire, they are revoked: the
answer is the same 401) until ``reinstall`` or a reset. Pushes are signed with
SIM_CREDENTIALS["webhook_secret"] over the exact body. Not verified against Shopify: the
exact 400 answer to page_info mixed with other parameters, and the clamping of limit > 250.
"""

from __future__ import annotations

import base64
import gc
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from orderpilot.integrations.shopify.sim_gate import (
    NAME,
    SIM_CREDENTIALS,
    SIM_REGION,
    SIM_SHOP_ID,
    _deliver,
    _json,
    _refusal,
    _store,
    reset,
    webhook_headers,
)
from orderpilot.integrations.shopify.sim_orders import make_order, move
from orderpilot.integrations.shopify.sim_returns import returns_admin_router, returns_router
from orderpilot.integrations.shopify.sim_store import parse_time
from orderpilot.simulators.external.channel_contract import (
    Generate,
    Push,
    RawPush,
    StatusMove,
    StoredOrders,
)
from orderpilot.simulators.external.recorder import recorder_for

PAGING_ONLY = {"page_info", "limit", "fields"}
__all__ = ["NAME", "SIM_CREDENTIALS", "SIM_REGION", "SIM_SHOP_ID", "admin_router", "reset",
           "router", "webhook_headers"]
router = APIRouter()
admin_router = APIRouter()
router.include_router(returns_router)
admin_router.include_router(returns_admin_router)


@router.get("/admin/api/{version}/shop.json", response_model=None)
async def shop(request: Request, version: str) -> Response:
    refused = await _refusal(request)
    return refused or _json(json.dumps({"shop": {
        "id": 548380009, "name": "Dolphin Baby", "currency": "USD",
        "myshopify_domain": f"{SIM_SHOP_ID}.myshopify.com", "domain": "dolphin.example.com",
        "iana_timezone": "America/New_York", "timezone": "(GMT-05:00) Eastern Time"}}))


@router.get("/admin/api/{version}/orders/{order_id}.json", response_model=None)
async def one_order(request: Request, version: str, order_id: str) -> Response:
    refused = await _refusal(request)
    if refused:
        return refused
    store = _store(recorder_for(request, NAME))
    text = store.texts.get(int(order_id)) if order_id.isdigit() else None
    return _json('{"order":' + text + "}") if text else \
        _json('{"errors":"Not Found"}', 404)


@router.get("/admin/api/{version}/orders.json", response_model=None)
async def list_orders(request: Request, version: str) -> Response:
    refused = await _refusal(request)
    if refused:
        return refused
    query = dict(request.query_params)
    limit = max(1, min(int(query.get("limit") or 50), 250)) \
        if (query.get("limit") or "50").isdigit() else 50
    if "page_info" in query:
        if set(query) - PAGING_ONLY:
            return _json(json.dumps({"errors": {"page_info": [
                "page_info cannot be combined with other parameters than limit and "
                "fields"]}}), 400)
        try:
            state = json.loads(base64.urlsafe_b64decode(query["page_info"].encode()))
            filters, after = state["filters"], (float(state["after"][0]),
                                                int(state["after"][1]))
        except (ValueError, KeyError, TypeError, IndexError):
            return _json('{"errors":{"page_info":["Invalid value."]}}', 400)
    else:
        filters, after = {k: v for k, v in query.items() if k != "limit"}, None
    try:
        texts, last = _store(recorder_for(request, NAME)).page(filters, after, limit)
    except ValueError as error:
        return _json(json.dumps({"errors": {str(error): ["is invalid"]}}), 400)
    headers = {}
    if last is not None:
        token = base64.urlsafe_b64encode(json.dumps(
            {"filters": filters, "after": list(last)}).encode()).decode()
        url = request.url.replace(query=f"limit={limit}&page_info={token}")
        headers["Link"] = f'<{url}>; rel="next"'
    return _json('{"orders":[' + ",".join(texts) + "]}", headers=headers)


@admin_router.post("/orders")
def store_orders(request: Request, spec: StoredOrders) -> dict[str, Any]:
    return {"stored": _store(recorder_for(request, NAME)).put(spec.orders)}


@admin_router.post("/generate")
def generate(request: Request, spec: Generate) -> dict[str, Any]:
    recorder = recorder_for(request, NAME)
    rng = random.Random(spec.seed)
    start = parse_time(spec.start, "start") if spec.start else datetime.now(UTC)
    first = int(recorder.data.get("next_number", 1))
    step = spec.spread_seconds / max(spec.count, 1)
    collecting = gc.isenabled()
    gc.disable()  # thousands of short-lived dicts: no use walking them
    try:
        orders = [make_order(first + n, start + timedelta(seconds=step * n), rng)
                  for n in range(spec.count)]
        _store(recorder).put(orders)
    finally:
        if collecting:
            gc.enable()
    recorder.data["next_number"] = first + spec.count
    return {"external_ids": [str(o["id"]) for o in orders]}


@admin_router.post("/status", response_model=None)
def move_status(request: Request, spec: StatusMove) -> dict[str, Any] | JSONResponse:
    store = _store(recorder_for(request, NAME))
    order = store.get(spec.external_id)
    if order is None:
        return JSONResponse({"error": f"no order {spec.external_id}"}, 404)
    try:
        move(order, spec.status, parse_time(spec.at, "at") if spec.at else datetime.now(UTC))
    except ValueError:
        return JSONResponse({"error": f"unknown Shopify status {spec.status!r}"}, 400)
    store.put([order])
    return {"ok": True}


@admin_router.post("/push", response_model=None)
def push(request: Request, spec: Push) -> dict[str, Any] | JSONResponse:
    store = _store(recorder_for(request, NAME))
    order = store.get(spec.external_id)
    if order is None:
        return JSONResponse({"error": f"no order {spec.external_id}"}, 404)
    body = store.texts[int(spec.external_id)].encode()  # the very bytes Shopify would send
    return _deliver(spec.hook_url, body, webhook_headers(body, _topic(order)), spec.times)


@admin_router.post("/push_raw")
def push_raw(spec: RawPush) -> dict[str, Any]:
    return _deliver(spec.hook_url, spec.body.encode(), spec.headers, 1)


@admin_router.post("/expire_tokens")
def expire_tokens(request: Request) -> dict[str, Any]:
    recorder_for(request, NAME).data["revoked"] = True
    return {"ok": True}


@admin_router.post("/reinstall")
def reinstall(request: Request) -> dict[str, Any]:
    recorder_for(request, NAME).data["revoked"] = False
    return {"ok": True, "access_token": SIM_CREDENTIALS["access_token"]}


def _topic(order: dict[str, Any]) -> str:
    if order.get("cancelled_at"):
        return "orders/cancelled"
    return "orders/create" if order.get("created_at") == order.get("updated_at") \
        else "orders/updated"
