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
import math
import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response

from orderpilot.adapters.connectors.base import mask
from orderpilot.integrations.woocommerce import sample
from orderpilot.integrations.woocommerce.signing import read_basic_auth
from orderpilot.integrations.woocommerce.sim_admin import admin_router
from orderpilot.integrations.woocommerce.sim_state import (
    NAME,
    SIM_CREDENTIALS,
    SIM_REGION,
    SIM_SHOP_ID,
    answer,
    orders_of,
    reset,
    wp_error,
)
from orderpilot.simulators.external.recorder import Recorder, now_iso, recorder_for

ORDERBY = ("date", "id", "include", "title", "slug", "modified")
router = APIRouter()
__all__ = ["NAME", "SIM_CREDENTIALS", "SIM_REGION", "SIM_SHOP_ID", "admin_router", "reset",
           "router"]


async def _refusal(request: Request) -> Response | None:
    """Queued faults (a host's 429 with Retry-After, 5xx, slow answers), then the keys."""
    recorder = recorder_for(request, NAME)
    fault = recorder.take_fault()
    if fault is not None:
        await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status == 429:
            body = fault.body or {"code": "too_many_requests", "message": "Too Many Requests",
                                  "data": {"status": 429}}
            return answer(body, 429, {"Retry-After": "1"})
        if fault.status is not None:
            return answer(fault.body or {"code": "internal_server_error",
                                        "message": "There has been a critical error on this "
                                        "website.", "data": {"status": fault.status}},
                         fault.status)
    pair = read_basic_auth(request.headers.get("authorization", ""))
    query = request.query_params
    if pair is None and query.get("consumer_key") and query.get("consumer_secret"):
        pair = (query["consumer_key"], query["consumer_secret"])
    if pair is None or pair[0] != SIM_CREDENTIALS["consumer_key"]:
        # No keys, or a key the store does not know: the request runs as a visitor.
        return wp_error(401, "woocommerce_rest_cannot_view",
                         "Sorry, you cannot list resources.")
    if pair[1] != SIM_CREDENTIALS["consumer_secret"]:
        return wp_error(401, "woocommerce_rest_authentication_error",
                         "Consumer secret is invalid.")
    return None


def _ids(request: Request, name: str) -> list[int]:
    values = request.query_params.getlist(name) + request.query_params.getlist(f"{name}[]")
    return [int(p) for v in values for p in re.split(r"[\s,]+", v) if p.isdigit()]


def _bad_param(name: str, why: str) -> Response:
    return wp_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}",
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
    return answer(found[(page - 1) * per_page:page * per_page], 200, headers)


@router.get("/wp-json/wc/v3/orders/{order_id}")
async def get_order(request: Request, order_id: int) -> Response:
    refused = await _refusal(request)
    recorder = recorder_for(request, NAME)
    _note(request, recorder, refused)
    if refused is not None:
        return refused
    with recorder.lock:
        found = orders_of(recorder).get(order_id)
    if found is None or found.get("status") == "trash":
        return wp_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    return answer(found)


def _by_modified(recorder: Recorder, use_gmt: bool
                 ) -> tuple[list[str], list[dict[str, Any]]]:
    """The orders by (modified time, id) and their modified times, kept until they change:
    a page is a bisect, not a scan (the bench pages 10 000 orders)."""
    field = "date_modified_gmt" if use_gmt else "date_modified"
    version = (recorder.data.get("version", 0), field)
    cached = recorder.data.get("index")
    if cached is None or cached[0] != version:
        ordered = sorted(orders_of(recorder).values(), key=lambda o: (o.get(field) or "", o["id"]))
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

