"""The simulated WooCommerce store's admin routes (under /_sim/woocommerce): stored and
generated orders, status moves, and webhook deliveries signed as WooCommerce signs them
(class-wc-webhook.php: ``deliver`` and ``deliver_ping``)."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response

from orderpilot.adapters.channels.base import dumps, read_json
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.woocommerce import sample
from orderpilot.integrations.woocommerce.mapping import gmt
from orderpilot.integrations.woocommerce.signing import webhook_signature
from orderpilot.integrations.woocommerce.sim_state import (
    NAME,
    SIM_CREDENTIALS,
    WEBHOOK_ID,
    answer,
    changed,
    orders_of,
)
from orderpilot.integrations.woocommerce.statuses import EVENT_OF
from orderpilot.simulators.external.recorder import now_iso, recorder_for

admin_router = APIRouter()


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = read_json(await request.body(), "body")
    except MappingError:
        body = None
    return body if isinstance(body, dict) else {}


@admin_router.post("/orders")
async def store_orders(request: Request) -> Response:
    body = await _body(request)
    orders = body.get("orders")
    if not isinstance(orders, list) or not all(isinstance(o, dict) and str(o.get("id", ""))
                                               .isdigit() for o in orders):
        return answer({"error": "orders must be a list of orders with integer ids"}, 422)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        stored = orders_of(recorder)
        for order in orders:
            order["id"] = int(order["id"])
            stored[order["id"]] = order
            recorder.data["next_id"] = max(recorder.data["next_id"], order["id"] + 1)
        changed(recorder)
    return answer({"stored": len(orders)})


@admin_router.post("/generate")
async def generate(request: Request) -> Response:
    body = await _body(request)
    try:
        count, seed = int(body.get("count", 10)), int(body.get("seed", 1))
        start = gmt(body.get("start") or now_iso(), "start")
        spread = float(body.get("spread_seconds", 3600))
    except (MappingError, TypeError, ValueError):
        return answer({"error": "count, seed, start (ISO) and spread_seconds please"}, 422)
    if not 0 <= count <= 200_000:
        return answer({"error": "count must be between 0 and 200000"}, 422)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        stored = orders_of(recorder)
        first = recorder.data["next_id"]
        made = sample.generate(first, count, seed, start, spread)
        stored.update((o["id"], o) for o in made)
        recorder.data["next_id"] = first + count
        changed(recorder)
    return answer({"external_ids": [str(o["id"]) for o in made]})


@admin_router.post("/status")
async def move_status(request: Request) -> Response:
    body = await _body(request)
    status = str(body.get("status", ""))
    if status not in EVENT_OF:
        return answer({"error": f"unknown status {status!r}", "known": sorted(EVENT_OF)}, 422)
    try:
        at = gmt(body["at"], "at") if body.get("at") else datetime.now(UTC)
    except MappingError:
        return answer({"error": "at is not an ISO time"}, 422)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        order = orders_of(recorder).get(int(str(body.get("external_id", "0")) or 0)
                                      if str(body.get("external_id", "")).isdigit() else -1)
        if order is None:
            return answer({"error": "no such order"}, 404)
        _move(order, status, at)
        changed(recorder)
    return answer({"ok": True})


def _move(order: dict[str, Any], status: str, at: datetime) -> None:
    order["status"] = status
    sample.set_time(order, "date_modified", at)
    if status in ("processing", "completed") and not order.get("date_paid_gmt"):
        sample.set_time(order, "date_paid", at)
    if status == "completed":
        sample.set_time(order, "date_completed", at)
    if status == "refunded" and not order.get("refunds"):
        order["refunds"] = [{"id": order["id"] * 10 + 5, "reason": "",
                             "total": f"-{order['total']}"}]


_deliveries = itertools.count(1)


def php_json(value: Any) -> bytes:
    """JSON as WordPress's wp_json_encode writes it: slashes and non-ASCII escaped."""
    text = dumps(value).replace("/", "\\/")
    return re.sub(r"[^\x00-\x7f]", lambda m: json.dumps(m.group())[1:-1], text).encode()


@admin_router.post("/push")
def push(request: Request, body: dict[str, Any]) -> Response:
    """Deliver an order webhook for a stored order, signed as WooCommerce signs it. A sync
    route: the delivery blocks a worker thread, never the event loop."""
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        order = orders_of(recorder).get(int(str(body.get("external_id", "-1")))
                                      if str(body.get("external_id", "")).isdigit() else -1)
    if order is None or not body.get("hook_url"):
        return answer({"error": "hook_url and a stored external_id please"}, 422)
    raw = php_json(order)
    created = order.get("date_created_gmt") == order.get("date_modified_gmt")
    topic = "order.created" if created else "order.updated"
    site = str(request.base_url).rstrip("/") + f"/{NAME}/"
    stamp = f"{WEBHOOK_ID}{time.time()}{next(_deliveries)}".encode()
    headers = {"Content-Type": "application/json",
               "User-Agent": "WooCommerce/9.8.5 Hookshot (WordPress/6.8.1)",
               "X-WC-Webhook-Source": site, "X-WC-Webhook-Topic": topic,
               "X-WC-Webhook-Resource": "order", "X-WC-Webhook-Event": topic.split(".")[1],
               "X-WC-Webhook-Signature": webhook_signature(SIM_CREDENTIALS["webhook_secret"],
                                                           raw),
               "X-WC-Webhook-ID": str(WEBHOOK_ID),
               "X-WC-Webhook-Delivery-ID": hashlib.md5(stamp).hexdigest()}  # noqa: S324
    return _deliver(str(body["hook_url"]), raw, headers, int(body.get("times", 1) or 1))


@admin_router.post("/push_raw")
def push_raw(body: dict[str, Any]) -> Response:
    """Deliver a hand-made push: BODY text and HEADERS exactly as given."""
    headers = {str(k): str(v) for k, v in dict(body.get("headers") or {}).items()}
    return _deliver(str(body.get("hook_url", "")), str(body.get("body", "")).encode(),
                    headers, int(body.get("times", 1) or 1))


@admin_router.post("/ping")
def ping(body: dict[str, Any]) -> Response:
    """The unsigned ping WooCommerce sends when a webhook is saved (form body webhook_id=N)."""
    return _deliver(str(body.get("hook_url", "")), f"webhook_id={WEBHOOK_ID}".encode(),
                    {"Content-Type": "application/x-www-form-urlencoded",
                     "User-Agent": "WooCommerce/9.8.5 Hookshot (WordPress/6.8.1)"}, 1)


@admin_router.post("/expire_tokens")
def expire_tokens() -> Response:
    """WooCommerce REST API keys do not expire (they are revoked in the admin): nothing to
    expire, so nothing changes."""
    return answer({"expired": 0, "note": "WooCommerce API keys do not expire"})


def _deliver(url: str, raw: bytes, headers: dict[str, str], times: int) -> Response:
    if not url.startswith(("http://", "https://")):
        return answer({"error": "hook_url must be an http(s) URL"}, 422)
    status, text, elapsed = 0, "", 0.0
    with httpx.Client(timeout=60) as client:
        for _ in range(max(1, min(times, 100))):
            began = time.perf_counter()
            try:
                reply = client.post(url, content=raw, headers=headers)
                status, text = reply.status_code, reply.text[:2000]
            except httpx.HTTPError as error:
                status, text = 0, f"{type(error).__name__}: {error}"
            elapsed = (time.perf_counter() - began) * 1000
    return answer({"status": status, "body": text, "elapsed_ms": round(elapsed, 2)})
