"""The Lazada simulator's admin routes (/_sim/lazada): stored and generated orders, status
moves, signed pushes to the hub, expired tokens. See docs/channels/lazada.md."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from orderpilot.integrations.lazada.mapping import REGION_CURRENCY
from orderpilot.integrations.lazada.sample import lazada_times, make_order
from orderpilot.integrations.lazada.signing import push_signature
from orderpilot.integrations.lazada.sim_state import (
    NAME,
    SIM_CREDENTIALS,
    SIM_REGION,
    moment,
    sim_data,
    trade_order_push,
)
from orderpilot.simulators.external.recorder import recorder_for

admin_router = APIRouter()


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
    state["updated"][order_id] = moment(order.get("updated_at") or order["created_at"],
                                         "updated_at")
    return order_id


@admin_router.post("/orders")
def store_orders(request: Request, spec: OrdersIn) -> JSONResponse:
    recorder = recorder_for(request, NAME)
    try:
        with recorder.lock:
            state = sim_data(recorder)
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
        state = sim_data(recorder)
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
        state = sim_data(recorder)
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
        tokens = sim_data(recorder)["tokens"]
        for token in tokens:
            tokens[token] = False
    return JSONResponse({"expired": len(tokens)})


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
        order = sim_data(recorder)["orders"].get(spec.external_id)
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
