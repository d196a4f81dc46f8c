"""A WooCommerce store's REST API v3 and webhooks, for tests, the bench and the demo.

Mounted at ``/woocommerce``: an account's ``base_url`` is ``<sim>/woocommerce`` (the "site
URL"), so the orders live at ``<sim>/woocommerce/wp-json/wc/v3/orders``. Authentication is
checked as WooCommerce checks it (HTTP Basic, or ``consumer_key``/``consumer_secret`` in the
query; the simulator also accepts them over plain HTTP) and refused in its error format.
Listing pages as the REST API does (see client.py for the facts). Admin routes under
``/_sim/woocommerce``: orders, generate, status, push, push_raw, ping, expire_tokens.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import itertools
import json
import math
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request, Response

from orderpilot.adapters.channels.base import dumps, read_json
from orderpilot.adapters.connectors.base import mask
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.woocommerce import sample
from orderpilot.integrations.woocommerce.mapping import gmt
from orderpilot.integrations.woocommerce.signing import read_basic_auth, webhook_signature
from orderpilot.integrations.woocommerce.statuses import EVENT_OF
from orderpilot.simulators.external.recorder import Recorder, now_iso, recorder_for

NAME = "woocommerce"
SIM_CREDENTIALS = {"consumer_key": "ck_4f1b0c2a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
                   "consumer_secret": "cs_0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
                   "webhook_secret": "orderpilot-woocommerce-webhook-secret"}
SIM_SHOP_ID = "woo-demo-store"
SIM_REGION = ""  # WooCommerce has no regions: every store is its own site
WEBHOOK_ID = 7
ORDERBY = ("date", "id", "include", "title", "slug", "modified")
router = APIRouter()
admin_router = APIRouter()


def reset(recorder: Recorder) -> None:
    recorder.data.update(orders={}, next_id=1000, version=0)


def _orders(recorder: Recorder) -> dict[int, dict[str, Any]]:
    if "orders" not in recorder.data:
        reset(recorder)
    orders: dict[int, dict[str, Any]] = recorder.data["orders"]
    return orders


def _changed(recorder: Recorder) -> None:
    recorder.data["version"] = recorder.data.get("version", 0) + 1


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(content), status, headers=headers, media_type="application/json")


def _wp_error(status: int, code: str, message: str, **data: Any) -> Response:
    return _json({"code": code, "message": message, "data": {"status": status, **data}}, status)


async def _refusal(request: Request) -> Response | None:
    """Queued faults (a host's 429 with Retry-After, 5xx, slow answers), then the keys."""
    recorder = recorder_for(request, NAME)
    fault = recorder.take_fault()
    if fault is not None:
        await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status == 429:
            body = fault.body or {"code": "too_many_requests", "message": "Too Many Requests",
                                  "data": {"status": 429}}
            return _json(body, 429, {"Retry-After": "1"})
        if fault.status is not None:
            return _json(fault.body or {"code": "internal_server_error",
                                        "message": "There has been a critical error on this "
                                        "website.", "data": {"status": fault.status}},
                         fault.status)
    pair = read_basic_auth(request.headers.get("authorization", ""))
    query = request.query_params
    if pair is None and query.get("consumer_key") and query.get("consumer_secret"):
        pair = (query["consumer_key"], query["consumer_secret"])
    if pair is None or pair[0] != SIM_CREDENTIALS["consumer_key"]:
        # No keys, or a key the store does not know: the request runs as a visitor.
        return _wp_error(401, "woocommerce_rest_cannot_view",
                         "Sorry, you cannot list resources.")
    if pair[1] != SIM_CREDENTIALS["consumer_secret"]:
        return _wp_error(401, "woocommerce_rest_authentication_error",
                         "Consumer secret is invalid.")
    return None


def _ids(request: Request, name: str) -> list[int]:
    values = request.query_params.getlist(name) + request.query_params.getlist(f"{name}[]")
    return [int(p) for v in values for p in re.split(r"[\s,]+", v) if p.isdigit()]


def _bad_param(name: str, why: str) -> Response:
    return _wp_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}",
                     params={name: why})


@router.get("/wp-json/wc/v3/orders")
async def list_orders(request: Request) -> Response:
    refused = await _refusal(request)
    recorder = recorder_for(request, NAME)
    _note(request, recorder, refused)
    if refused is not None:
        return refused
    q = request.query_params
    try:
        per_page, page = int(q.get("per_page", "10")), int(q.get("page", "1"))
    except ValueError:
        return _bad_param("per_page", "per_page is not of type integer.")
    if not 1 <= per_page <= 100:
        return _bad_param("per_page", "per_page must be between 1 (inclusive) and 100 "
                          "(inclusive)")
    orderby, order = q.get("orderby", "date"), q.get("order", "desc")
    if orderby not in ORDERBY or order not in ("asc", "desc") or page < 1:
        return _bad_param("orderby", "orderby is not one of date, id, include, title, slug, "
                          "and modified.")
    use_gmt = q.get("dates_are_gmt", "").lower() in ("1", "true")
    include, exclude = _ids(request, "include"), set(_ids(request, "exclude"))
    statuses = {s for v in q.getlist("status") for s in v.split(",") if s} or {"any"}
    try:
        bounds = {k: _bound(q.get(k), use_gmt) for k in ("modified_after", "modified_before",
                                                         "after", "before")}
    except ValueError:
        return _bad_param("modified_after", "Invalid date.")
    with recorder.lock:
        stamps, ordered = _by_modified(recorder, use_gmt)
    after, before = bounds["modified_after"], bounds["modified_before"]
    window = ordered[bisect.bisect_right(stamps, after) if after else 0:
                     bisect.bisect_left(stamps, before) if before else len(stamps)]
    found = [o for o in window if _wanted(o, statuses, include, exclude, bounds, use_gmt)]
    if not (orderby == "modified" and order == "asc" and use_gmt):  # else: in order already
        found.sort(key=_sort_key(orderby, include), reverse=order == "desc")
    total, pages = len(found), math.ceil(len(found) / per_page)
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    if page < pages:
        headers["Link"] = f'<{request.url.include_query_params(page=page + 1)}>; rel="next"'
    return _json(found[(page - 1) * per_page:page * per_page], 200, headers)


@router.get("/wp-json/wc/v3/orders/{order_id}")
async def get_order(request: Request, order_id: int) -> Response:
    refused = await _refusal(request)
    recorder = recorder_for(request, NAME)
    _note(request, recorder, refused)
    if refused is not None:
        return refused
    with recorder.lock:
        found = _orders(recorder).get(order_id)
    if found is None or found.get("status") == "trash":
        return _wp_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    return _json(found)


def _by_modified(recorder: Recorder, use_gmt: bool
                 ) -> tuple[list[str], list[dict[str, Any]]]:
    """The orders by (modified time, id) and their modified times, kept until they change:
    a page is a bisect, not a scan (the bench pages 10 000 orders)."""
    field = "date_modified_gmt" if use_gmt else "date_modified"
    version = (recorder.data.get("version", 0), field)
    cached = recorder.data.get("index")
    if cached is None or cached[0] != version:
        ordered = sorted(_orders(recorder).values(), key=lambda o: (o.get(field) or "", o["id"]))
        cached = (version, [o.get(field) or "" for o in ordered], ordered)
        recorder.data["index"] = cached
    return cached[1], cached[2]


def _note(request: Request, recorder: Recorder, refused: Response | None) -> None:
    with recorder.lock:
        recorder.look_ups.append({"received_at": now_iso(), "path": request.url.path,
                                  "query": mask(dict(request.query_params)),
                                  "status_code": refused.status_code if refused else 200})


def _bound(value: str | None, use_gmt: bool) -> str | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        return sample.gmt_text(moment) if use_gmt else sample.local_text(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")  # read in the column's own zone


def _wanted(o: dict[str, Any], statuses: set[str], include: list[int], exclude: set[int],
            bounds: dict[str, str | None], use_gmt: bool) -> bool:
    status = o.get("status")
    if "any" in statuses and status == "trash" or "any" not in statuses \
            and status not in statuses:
        return False
    if include and o["id"] not in include or o["id"] in exclude:
        return False
    suffix = "_gmt" if use_gmt else ""
    modified, created = o.get(f"date_modified{suffix}") or "", o.get(f"date_created{suffix}")
    after, before = bounds["modified_after"], bounds["modified_before"]
    if after and not modified > after or before and not modified < before:
        return False
    if bounds["after"] and not (created or "") > bounds["after"]:
        return False
    return not (bounds["before"] and not (created or "") < bounds["before"])


def _sort_key(orderby: str, include: list[int]) -> Any:
    if orderby == "modified":
        return lambda o: (o.get("date_modified_gmt") or "", o["id"])
    if orderby == "include" and include:
        place = {i: n for n, i in enumerate(include)}
        return lambda o: place.get(o["id"], len(place))
    if orderby == "id":
        return lambda o: o["id"]
    return lambda o: (o.get("date_created_gmt") or "", o["id"])


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
        return _json({"error": "orders must be a list of orders with integer ids"}, 422)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        stored = _orders(recorder)
        for order in orders:
            order["id"] = int(order["id"])
            stored[order["id"]] = order
            recorder.data["next_id"] = max(recorder.data["next_id"], order["id"] + 1)
        _changed(recorder)
    return _json({"stored": len(orders)})


@admin_router.post("/generate")
async def generate(request: Request) -> Response:
    body = await _body(request)
    try:
        count, seed = int(body.get("count", 10)), int(body.get("seed", 1))
        start = gmt(body.get("start") or now_iso(), "start")
        spread = float(body.get("spread_seconds", 3600))
    except (MappingError, TypeError, ValueError):
        return _json({"error": "count, seed, start (ISO) and spread_seconds please"}, 422)
    if not 0 <= count <= 200_000:
        return _json({"error": "count must be between 0 and 200000"}, 422)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        stored = _orders(recorder)
        first = recorder.data["next_id"]
        made = sample.generate(first, count, seed, start, spread)
        stored.update((o["id"], o) for o in made)
        recorder.data["next_id"] = first + count
        _changed(recorder)
    return _json({"external_ids": [str(o["id"]) for o in made]})


@admin_router.post("/status")
async def move_status(request: Request) -> Response:
    body = await _body(request)
    status = str(body.get("status", ""))
    if status not in EVENT_OF:
        return _json({"error": f"unknown status {status!r}", "known": sorted(EVENT_OF)}, 422)
    try:
        at = gmt(body["at"], "at") if body.get("at") else datetime.now(UTC)
    except MappingError:
        return _json({"error": "at is not an ISO time"}, 422)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        order = _orders(recorder).get(int(str(body.get("external_id", "0")) or 0)
                                      if str(body.get("external_id", "")).isdigit() else -1)
        if order is None:
            return _json({"error": "no such order"}, 404)
        _move(order, status, at)
        _changed(recorder)
    return _json({"ok": True})


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
        order = _orders(recorder).get(int(str(body.get("external_id", "-1")))
                                      if str(body.get("external_id", "")).isdigit() else -1)
    if order is None or not body.get("hook_url"):
        return _json({"error": "hook_url and a stored external_id please"}, 422)
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
    return _json({"expired": 0, "note": "WooCommerce API keys do not expire"})


def _deliver(url: str, raw: bytes, headers: dict[str, str], times: int) -> Response:
    if not url.startswith(("http://", "https://")):
        return _json({"error": "hook_url must be an http(s) URL"}, 422)
    status, text, elapsed = 0, "", 0.0
    with httpx.Client(timeout=60) as client:
        for _ in range(max(1, min(times, 100))):
            began = time.perf_counter()
            try:
                answer = client.post(url, content=raw, headers=headers)
                status, text = answer.status_code, answer.text[:2000]
            except httpx.HTTPError as error:
                status, text = 0, f"{type(error).__name__}: {error}"
            elapsed = (time.perf_counter() - began) * 1000
    return _json({"status": status, "body": text, "elapsed_ms": round(elapsed, 2)})
