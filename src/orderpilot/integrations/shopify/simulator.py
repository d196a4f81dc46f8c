"""The Shopify simulator: the Admin REST API's order endpoints and Shopify's webhooks.

    GET  /shopify/admin/api/{version}/orders.json        list (status, ids, updated_at_min/max,
                                                         created_at_min/max, limit, order,
                                                         page_info), Link header paging
    GET  /shopify/admin/api/{version}/orders/{id}.json   one order
    GET  /shopify/admin/api/{version}/shop.json          the shop
    POST /_sim/shopify/orders | generate | status | push | push_raw | expire_tokens | reinstall

Every API call needs ``X-Shopify-Access-Token`` = SIM_CREDENTIALS["access_token"] (else
Shopify's 401); a queued 429 fault answers as Shopify does (Retry-After, call-limit header).
``expire_tokens`` revokes the token (Shopify tokens do not expire, they are revoked: the
answer is the same 401) until ``reinstall`` or a reset. Pushes are signed with
SIM_CREDENTIALS["webhook_secret"] over the exact body. Not verified against Shopify: the
exact 400 answer to page_info mixed with other parameters, and the clamping of limit > 250.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from orderpilot.adapters.channels.base import dumps
from orderpilot.integrations.shopify.client import API_VERSION
from orderpilot.integrations.shopify.signing import webhook_signature
from orderpilot.integrations.shopify.sim_orders import make_order, move
from orderpilot.simulators.external.recorder import Recorder, recorder_for

NAME = "shopify"
SIM_SHOP_ID = "dolphin-baby"
SIM_REGION = ""
SIM_CREDENTIALS: dict[str, str] = {"access_token": "sim-shopify-admin-api-token",
                                   "webhook_secret": "sim-shopify-webhook-secret"}
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
THROTTLED = ("Exceeded 2 calls per second for api client. Reduce request rates to resume "
             "uninterrupted service.")
PAGING_ONLY = {"page_info", "limit", "fields"}
router = APIRouter()
admin_router = APIRouter()


def reset(recorder: Recorder) -> None:
    recorder.data.update(orders={}, next_number=1, revoked=False)


def _orders(recorder: Recorder) -> dict[int, dict[str, Any]]:
    orders: dict[int, dict[str, Any]] = recorder.data.setdefault("orders", {})
    return orders


async def _refusal(request: Request) -> JSONResponse | None:
    """A queued fault, or Shopify's 401, before anything else."""
    recorder = recorder_for(request, NAME)
    fault = recorder.take_fault()
    if fault is not None:
        await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status == 429:
            return JSONResponse({"errors": THROTTLED}, 429, headers={
                "Retry-After": "2.0", "X-Shopify-Shop-Api-Call-Limit": "40/40"})
        if fault.status is not None:
            return JSONResponse(fault.body if fault.body is not None
                                else {"errors": "Internal Server Error"}, fault.status)
    token = request.headers.get("x-shopify-access-token", "")
    if token != SIM_CREDENTIALS["access_token"] or recorder.data.get("revoked"):
        return JSONResponse({"errors": INVALID_TOKEN}, 401)
    return None


def _answer(content: Any, status: int = 200, headers: dict[str, str] | None = None
            ) -> JSONResponse:
    return JSONResponse(content, status, headers={
        "X-Shopify-Shop-Api-Call-Limit": "1/40", **(headers or {})})


@router.get("/admin/api/{version}/shop.json")
async def shop(request: Request, version: str) -> JSONResponse:
    refused = await _refusal(request)
    return refused or _answer({"shop": {
        "id": 548380009, "name": "Dolphin Baby", "currency": "USD",
        "myshopify_domain": f"{SIM_SHOP_ID}.myshopify.com", "domain": "dolphin.example.com",
        "iana_timezone": "America/New_York", "timezone": "(GMT-05:00) Eastern Time"}})


@router.get("/admin/api/{version}/orders/{order_id}.json")
async def one_order(request: Request, version: str, order_id: str) -> JSONResponse:
    refused = await _refusal(request)
    if refused:
        return refused
    found = _orders(recorder_for(request, NAME)).get(int(order_id)) \
        if order_id.isdigit() else None
    return _answer({"order": found}) if found else _answer({"errors": "Not Found"}, 404)


@router.get("/admin/api/{version}/orders.json")
async def list_orders(request: Request, version: str) -> JSONResponse:
    refused = await _refusal(request)
    if refused:
        return refused
    query = dict(request.query_params)
    limit = max(1, min(int(query.get("limit") or 50), 250)) \
        if (query.get("limit") or "50").isdigit() else 50
    if "page_info" in query:
        if set(query) - PAGING_ONLY:
            return _answer({"errors": {"page_info": [
                "page_info cannot be combined with other parameters than limit and fields"]}},
                400)
        try:
            state = json.loads(base64.urlsafe_b64decode(query["page_info"].encode()))
            filters, after = state["filters"], tuple(state["after"])
        except (ValueError, KeyError, TypeError):
            return _answer({"errors": {"page_info": ["Invalid value."]}}, 400)
    else:
        filters, after = {k: v for k, v in query.items() if k != "limit"}, None
    try:
        rows = _filtered(_orders(recorder_for(request, NAME)), filters)
    except ValueError as error:
        return _answer({"errors": {str(error): ["is invalid"]}}, 400)
    field, _, direction = (filters.get("order") or "created_at desc").partition(" ")
    descending = direction.strip().lower() == "desc"
    keyed = sorted(((_key(o, field), o) for o in rows), key=lambda pair: pair[0],
                   reverse=descending)
    if after is not None:
        keyed = [(k, o) for k, o in keyed if (k < after if descending else k > after)]
    page, more = keyed[:limit], len(keyed) > limit
    headers = {}
    if more:
        token = base64.urlsafe_b64encode(json.dumps(
            {"filters": filters, "after": list(page[-1][0])}).encode()).decode()
        url = request.url.replace(query=f"limit={limit}&page_info={token}")
        headers["Link"] = f'<{url}>; rel="next"'
    return _answer({"orders": [o for _, o in page]}, headers=headers)


def _filtered(orders: dict[int, dict[str, Any]], filters: dict[str, str]
              ) -> list[dict[str, Any]]:
    status = filters.get("status") or "open"
    ids = {i.strip() for i in filters["ids"].split(",")} if filters.get("ids") else None
    bounds = {name: _time(filters[name], name) for name in
              ("updated_at_min", "updated_at_max", "created_at_min", "created_at_max")
              if filters.get(name)}
    found = []
    for order in orders.values():
        if ids is not None and str(order["id"]) not in ids:
            continue
        if status == "open" and (order.get("cancelled_at") or order.get("closed_at")) or \
                status == "closed" and not order.get("closed_at") or \
                status == "cancelled" and not order.get("cancelled_at"):
            continue
        if any(not _inside(order, name, bound) for name, bound in bounds.items()):
            continue
        found.append(order)
    return found


def _inside(order: dict[str, Any], name: str, bound: datetime) -> bool:
    moment = _time(order[name.rsplit("_", 1)[0]], name)
    return moment >= bound if name.endswith("_min") else moment <= bound


def _time(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise ValueError(name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _key(order: dict[str, Any], field: str) -> tuple[float, int]:
    if field in ("updated_at", "created_at", "processed_at") and order.get(field):
        return (_time(order[field], field).timestamp(), int(order["id"]))
    return (0.0, int(order["id"]))


class StoredOrders(BaseModel):
    orders: list[dict[str, Any]]


class Generate(BaseModel):
    count: int = Field(1, ge=1, le=100_000)
    seed: int = 1
    start: str | None = None
    spread_seconds: int = Field(3600, ge=0)


class StatusMove(BaseModel):
    external_id: str
    status: str
    at: str | None = None


class Push(BaseModel):
    hook_url: str
    external_id: str
    times: int = Field(1, ge=1, le=100)


class RawPush(BaseModel):
    hook_url: str
    body: str
    headers: dict[str, str] = {}


@admin_router.post("/orders")
def store_orders(request: Request, spec: StoredOrders) -> dict[str, Any]:
    orders = _orders(recorder_for(request, NAME))
    for order in spec.orders:
        orders[int(order["id"])] = order
    return {"stored": len(spec.orders)}


@admin_router.post("/generate")
def generate(request: Request, spec: Generate) -> dict[str, Any]:
    recorder = recorder_for(request, NAME)
    orders, rng = _orders(recorder), random.Random(spec.seed)
    start = _time(spec.start, "start") if spec.start else datetime.now(UTC)
    first = int(recorder.data.get("next_number", 1))
    made = []
    for n in range(spec.count):
        at = start + timedelta(seconds=spec.spread_seconds * n / max(spec.count, 1))
        order = make_order(first + n, at, rng)
        orders[order["id"]] = order
        made.append(str(order["id"]))
    recorder.data["next_number"] = first + spec.count
    return {"external_ids": made}


@admin_router.post("/status", response_model=None)
def move_status(request: Request, spec: StatusMove) -> dict[str, Any] | JSONResponse:
    order = _orders(recorder_for(request, NAME)).get(int(spec.external_id)) \
        if spec.external_id.isdigit() else None
    if order is None:
        return JSONResponse({"error": f"no order {spec.external_id}"}, 404)
    try:
        move(order, spec.status, _time(spec.at, "at") if spec.at else datetime.now(UTC))
    except ValueError:
        return JSONResponse({"error": f"unknown Shopify status {spec.status!r}"}, 400)
    return {"ok": True}


@admin_router.post("/push", response_model=None)
def push(request: Request, spec: Push) -> dict[str, Any] | JSONResponse:
    order = _orders(recorder_for(request, NAME)).get(int(spec.external_id)) \
        if spec.external_id.isdigit() else None
    if order is None:
        return JSONResponse({"error": f"no order {spec.external_id}"}, 404)
    body = dumps(order)
    headers = webhook_headers(body.encode(), _topic(order))
    return _deliver(spec.hook_url, body.encode(), headers, spec.times)


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


def webhook_headers(body: bytes, topic: str, secret: str | None = None) -> dict[str, str]:
    """The headers Shopify sends with a webhook delivery of BODY."""
    return {"Content-Type": "application/json", "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": webhook_signature(
                secret or SIM_CREDENTIALS["webhook_secret"], body),
            "X-Shopify-Shop-Domain": f"{SIM_SHOP_ID}.myshopify.com",
            "X-Shopify-API-Version": API_VERSION, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat()}


def _topic(order: dict[str, Any]) -> str:
    if order.get("cancelled_at"):
        return "orders/cancelled"
    return "orders/create" if order.get("created_at") == order.get("updated_at") \
        else "orders/updated"


def _deliver(url: str, body: bytes, headers: dict[str, str], times: int) -> dict[str, Any]:
    """POST BODY to URL TIMES times (a retried delivery: same headers, same bytes)."""
    status, text, elapsed = 0, "", 0.0
    with httpx.Client(timeout=10) as client:
        for _ in range(times):
            began = time.perf_counter()
            try:
                response = client.post(url, content=body, headers=headers)
                status, text = response.status_code, response.text[:500]
            except httpx.HTTPError as error:
                status, text = 0, f"{type(error).__name__}: {error}"
            elapsed = (time.perf_counter() - began) * 1000
    return {"status": status, "body": text, "elapsed_ms": round(elapsed, 2)}
