"""Shopify returns and refunds on the loopback simulator.

    GET  /shopify/admin/api/{version}/orders/{id}/refunds.json            the order's refunds
    POST /shopify/admin/api/{version}/orders/{id}/refunds/calculate.json  suggested transactions
    POST /shopify/admin/api/{version}/orders/{id}/refunds.json            create a refund
    POST /shopify/admin/api/{version}/graphql.json   the two queries the client sends: one
                                                     return(id:), orders(query:) with returns
    POST /_sim/shopify/returns | return_status | return_push | refund_push

The API routes pass the same gate as the order routes (faults, then the access token) and
each call that passes is recorded, so a test counts refunds sent. Shapes follow the REST
Refund resource (returns.py cites it); the sale transaction every order gets here (id
``order id * 10 + 3``, gateway "shopify_payments") stands in for the order's real
transactions. A refund whose note names a return (the hub's marker) is that return's refund,
and a return's change updates its order's ``updated_at`` (how the GraphQL list by update
time finds it). Not verified against Shopify: the exact 422 texts for too many units or too
much money.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from orderpilot.adapters.channels.base import dumps
from orderpilot.integrations.shopify.returns import hub_return_of
from orderpilot.integrations.shopify.sim_gate import (
    NAME,
    _deliver,
    _json,
    _refusal,
    _store,
    webhook_headers,
)
from orderpilot.simulators.external.recorder import Recorder, entry_for, recorder_for

returns_router = APIRouter()
returns_admin_router = APIRouter()
CENT = Decimal("0.01")
GATEWAY = "shopify_payments"
TOPICS = {"requested": "returns/request", "open": "returns/approve",
          "declined": "returns/decline", "canceled": "returns/cancel", "closed": "returns/close"}


def _record(request: Request, body: Any, status: int) -> None:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        recorder.records.append({**entry_for(request, body), "idempotency_key": None,
                                 "deliveries": 1, "status_code": status})


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _paid(order: dict[str, Any]) -> Decimal:
    return Decimal(order["total_price"])


def _refunded_money(order: dict[str, Any]) -> Decimal:
    return sum((Decimal(t["amount"]) for r in order["refunds"]
                for t in r.get("transactions") or [] if t.get("kind") == "refund"),
               Decimal("0.00"))


def _refunded_units(order: dict[str, Any]) -> dict[int, int]:
    units: dict[int, int] = {}
    for refund in order["refunds"]:
        for row in refund.get("refund_line_items") or []:
            units[int(row["line_item_id"])] = units.get(int(row["line_item_id"]), 0) + \
                int(row["quantity"])
    return units


def _line_subtotal(item: dict[str, Any], quantity: int) -> Decimal:
    discount = sum((Decimal(a["amount"]) for a in item.get("discount_allocations") or []),
                   Decimal(0))
    each = Decimal(item["price"]) - discount / max(int(item["quantity"]), 1)
    return (each * quantity).quantize(CENT)


async def _order_for(request: Request, order_id: str) -> tuple[dict[str, Any] | None,
                                                               Response | None]:
    refused = await _refusal(request)
    if refused:
        return None, refused
    order = _store(recorder_for(request, NAME)).get(order_id)
    if order is None:
        return None, _json('{"errors":"Not Found"}', 404)
    return order, None


def _asked_lines(order: dict[str, Any], asked: Any) -> tuple[list[dict[str, Any]], str]:
    """The refund_line_items asked for, checked against the order ("" or the refusal)."""
    items = {int(i["id"]): i for i in order["line_items"]}
    done = _refunded_units(order)
    rows = []
    for row in asked if isinstance(asked, list) else []:
        try:
            item, quantity = items[int(row["line_item_id"])], int(row["quantity"])
        except (KeyError, TypeError, ValueError):
            return [], "refund_line_items: line_item_id is not on the order"
        if quantity < 1 or done.get(item["id"], 0) + quantity > int(item["quantity"]):
            return [], f"refund_line_items: cannot refund more items than were purchased " \
                       f"({item['id']})"
        done[item["id"]] = done.get(item["id"], 0) + quantity
        rows.append({"line_item_id": item["id"], "quantity": quantity,
                     "restock_type": str(row.get("restock_type") or "no_restock"),
                     "subtotal": str(_line_subtotal(item, quantity)), "line_item": item})
    return rows, ""


@returns_router.get("/admin/api/{version}/orders/{order_id}/refunds.json",
                    response_model=None)
async def list_refunds(request: Request, version: str, order_id: str) -> Response:
    order, refused = await _order_for(request, order_id)
    _record(request, None, 200 if refused is None else refused.status_code)
    if refused or order is None:
        return refused or _json("{}", 404)
    return _json(dumps({"refunds": order["refunds"]}))


@returns_router.post("/admin/api/{version}/orders/{order_id}/refunds/calculate.json",
                     response_model=None)
async def calculate_refund(request: Request, version: str, order_id: str) -> Response:
    order, refused = await _order_for(request, order_id)
    body = json.loads(await request.body() or b"{}", parse_float=Decimal)
    _record(request, body, 200 if refused is None else refused.status_code)
    if refused or order is None:
        return refused or _json("{}", 404)
    rows, problem = _asked_lines(order, (body.get("refund") or {}).get("refund_line_items"))
    if problem:
        return _json(json.dumps({"errors": {"refund_line_items": [problem]}}), 422)
    left = _paid(order) - _refunded_money(order)
    wanted = min(sum((Decimal(r["subtotal"]) for r in rows), Decimal(0)), left)
    return _json(json.dumps({"refund": {
        "currency": order["currency"], "shipping": {"amount": "0.00", "tax": "0.00",
                                                    "maximum_refundable": "0.00"},
        "refund_line_items": [{k: v for k, v in r.items() if k != "line_item"} for r in rows],
        "transactions": [{"order_id": order["id"], "kind": "suggested_refund",
                          "gateway": GATEWAY, "parent_id": order["id"] * 10 + 3,
                          "amount": f"{wanted:.2f}", "currency": order["currency"],
                          "maximum_refundable": f"{left:.2f}"}]}}))


@returns_router.post("/admin/api/{version}/orders/{order_id}/refunds.json",
                     response_model=None)
async def create_refund(request: Request, version: str, order_id: str) -> Response:
    order, refused = await _order_for(request, order_id)
    body = json.loads(await request.body() or b"{}")
    _record(request, body, 200 if refused is None else refused.status_code)
    if refused or order is None:
        return refused or _json("{}", 404)
    asked = body.get("refund") or {}
    rows, problem = _asked_lines(order, asked.get("refund_line_items"))
    if problem:
        return _json(json.dumps({"errors": {"refund_line_items": [problem]}}), 422)
    money = [Decimal(str(t.get("amount"))) for t in asked.get("transactions") or []]
    if sum(money, Decimal(0)) > _paid(order) - _refunded_money(order):
        return _json(json.dumps({"errors": {"base": [
            "Refund amount must be less than or equal to the refundable amount"]}}), 422)
    stamp = _stamp()
    refund_id = order["id"] * 10 + 7 + len(order["refunds"])
    refund = {"id": refund_id, "order_id": order["id"], "created_at": stamp,
              "processed_at": stamp, "note": asked.get("note"), "restock": False,
              "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
              "refund_line_items": [{"id": refund_id * 10 + n, **row}
                                    for n, row in enumerate(rows)],
              "transactions": [{"id": refund_id * 10 + n, "order_id": order["id"],
                                "kind": "refund", "gateway": t.get("gateway") or GATEWAY,
                                "status": "success", "created_at": stamp,
                                "parent_id": t.get("parent_id"), "amount": f"{amount:.2f}",
                                "currency": order["currency"]}
                               for n, (t, amount) in enumerate(
                                   zip(asked.get("transactions") or [], money, strict=True))],
              "order_adjustments": []}
    order["refunds"].append(refund)
    order["financial_status"] = "refunded" if _refunded_money(order) >= _paid(order) \
        else "partially_refunded"
    order["updated_at"] = stamp
    _store(recorder_for(request, NAME)).put([order])
    return _json(dumps({"refund": refund}), 201)


class ReturnIn(BaseModel):
    external_id: str  # the stored order
    lines: list[dict[str, Any]] | None = None  # [{"line_item_id", "quantity"}]; default all
    reason: str = "defective"
    note: str = ""


class ReturnMove(BaseModel):
    return_id: str
    status: str


class ReturnPush(BaseModel):
    hook_url: str
    return_id: str
    times: int = Field(1, ge=1, le=100)


class RefundPush(BaseModel):
    hook_url: str
    external_id: str
    refund_id: str | None = None  # default: the order's last refund


def _returns(recorder: Recorder) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = recorder.data.setdefault("returns", {})
    return found


@returns_admin_router.post("/returns", response_model=None)
def make_return(request: Request, spec: ReturnIn) -> dict[str, Any] | JSONResponse:
    """A buyer's return request on a stored order, as Shopify's returns/request body: line
    items named by id only, as in Shopify's sample."""
    recorder = recorder_for(request, NAME)
    order = _store(recorder).get(spec.external_id)
    if order is None:
        return JSONResponse({"error": f"no order {spec.external_id}"}, 404)
    wanted = spec.lines or [{"line_item_id": i["id"], "quantity": i["quantity"]}
                            for i in order["line_items"]]
    with recorder.lock:
        returns = _returns(recorder)
        return_id = order["id"] * 100 + 11 + len(returns)
        returns[str(return_id)] = {
            "id": return_id, "admin_graphql_api_id": f"gid://shopify/Return/{return_id}",
            "status": "requested", "name": f"{order['name']}-R{len(returns) + 1}",
            "order": {"id": order["id"], "admin_graphql_api_id": order["admin_graphql_api_id"]},
            "total_return_line_items": sum(int(w["quantity"]) for w in wanted),
            "return_line_items": [{
                "id": return_id * 10 + n,
                "admin_graphql_api_id": f"gid://shopify/ReturnLineItem/{return_id * 10 + n}",
                "fulfillment_line_item": {
                    "id": int(w["line_item_id"]) + 5,
                    "line_item": {"id": int(w["line_item_id"]), "admin_graphql_api_id":
                                  f"gid://shopify/LineItem/{w['line_item_id']}"}},
                "quantity": int(w["quantity"]), "return_reason": spec.reason,
                "return_reason_note": spec.note, "customer_note": ""}
                for n, w in enumerate(wanted)],
            "return_shipping_fees": [], "exchange_line_items": [],
            "total_exchange_line_items": 0}
    touch_order(recorder, order["id"])
    return {"return_id": str(return_id)}


@returns_admin_router.post("/return_status", response_model=None)
def move_return(request: Request, spec: ReturnMove) -> dict[str, Any] | JSONResponse:
    if spec.status not in TOPICS:
        return JSONResponse({"error": f"unknown return status {spec.status!r}"}, 400)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        found = _returns(recorder).get(spec.return_id)
        if found is None:
            return JSONResponse({"error": f"no return {spec.return_id}"}, 404)
        found["status"] = spec.status
    touch_order(recorder, found["order"]["id"])
    return {"ok": True}


@returns_admin_router.post("/return_push", response_model=None)
def push_return(request: Request, spec: ReturnPush) -> dict[str, Any] | JSONResponse:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        found = _returns(recorder).get(spec.return_id)
        body = dumps(found).encode() if found else b""
    if found is None:
        return JSONResponse({"error": f"no return {spec.return_id}"}, 404)
    return _deliver(spec.hook_url, body, webhook_headers(body, TOPICS[found["status"]]),
                    spec.times)


@returns_admin_router.post("/refund_push", response_model=None)
def push_refund(request: Request, spec: RefundPush) -> dict[str, Any] | JSONResponse:
    order = _store(recorder_for(request, NAME)).get(spec.external_id)
    refunds = [r for r in (order or {}).get("refunds") or []
               if spec.refund_id in (None, str(r["id"]))]
    if not refunds:
        return JSONResponse({"error": "no such refund"}, 404)
    body = dumps(refunds[-1]).encode()
    return _deliver(spec.hook_url, body, webhook_headers(body, "refunds/create"), 1)


def _gid(kind: str, value: object) -> str:
    return f"gid://shopify/{kind}/{value}"


def _graphql_return(found: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    items = {int(i["id"]): i for i in order["line_items"]}
    nodes = []
    for row in found["return_line_items"]:
        item = items[int(row["fulfillment_line_item"]["line_item"]["id"])]
        nodes.append({"id": _gid("ReturnLineItem", row["id"]), "quantity": row["quantity"],
                      "returnReason": str(row["return_reason"]).upper(),
                      "returnReasonNote": row["return_reason_note"],
                      "customerNote": row["customer_note"],
                      "fulfillmentLineItem": {"lineItem": {
                          "id": _gid("LineItem", item["id"]), "sku": item.get("sku"),
                          "product": {"legacyResourceId": str(item.get("product_id"))},
                          "variant": {"legacyResourceId": str(item.get("variant_id"))}}}})
    refunds = [{"id": _gid("Refund", r["id"]), "note": r.get("note")}
               for r in order["refunds"] if hub_return_of(r) == str(found["id"])]
    return {"id": found["admin_graphql_api_id"], "name": found["name"],
            "status": str(found["status"]).upper(),
            "order": {"legacyResourceId": str(order["id"])},
            "refunds": {"nodes": refunds}, "returnLineItems": {"nodes": nodes}}


_RANGE = re.compile(r"updated_at:>='([^']+)'\s+updated_at:<'([^']+)'")


@returns_router.post("/admin/api/{version}/graphql.json", response_model=None)
async def graphql(request: Request, version: str) -> Response:
    refused = await _refusal(request)
    body = json.loads(await request.body() or b"{}")
    _record(request, body, 200 if refused is None else refused.status_code)
    if refused:
        return refused
    query, variables = str(body.get("query") or ""), body.get("variables") or {}
    recorder = recorder_for(request, NAME)
    store = _store(recorder)
    if "return(id:" in query:
        found = _returns(recorder).get(str(variables.get("id", "")).rsplit("/", 1)[-1])
        order = store.get(str(found["order"]["id"])) if found else None
        node = _graphql_return(found, order) if found and order else None
        return _json(dumps({"data": {"return": node}}))
    if "orders(" in query:
        matched = _RANGE.search(str(variables.get("query") or ""))
        if matched is None:
            return _json(json.dumps({"errors": [{"message": "unsupported orders query"}]}))
        start, end = (datetime.fromisoformat(t).timestamp() for t in matched.groups())
        chosen = sorted((facts.updated, order_id) for order_id, facts in store.facts.items()
                        if start <= facts.updated < end)
        offset = int(variables.get("after") or 0)
        page = chosen[offset:offset + 50]
        by_order: dict[str, list[str]] = {}
        for found in _returns(recorder).values():
            by_order.setdefault(str(found["order"]["id"]), []).append(
                found["admin_graphql_api_id"])
        nodes = [{"legacyResourceId": str(order_id), "returns": {"nodes": [
            {"id": gid} for gid in by_order.get(str(order_id), [])]}} for _, order_id in page]
        more = offset + len(page) < len(chosen)
        return _json(json.dumps({"data": {"orders": {
            "pageInfo": {"hasNextPage": more, "endCursor": str(offset + len(page))},
            "nodes": nodes}}}))
    return _json(json.dumps({"errors": [{"message": "the simulator answers two queries: "
                                                    "return(id:) and orders(query:)"}]}))


def touch_order(recorder: Recorder, order_id: object) -> None:
    """The order's updated_at moves to now (a return on it changed)."""
    store = _store(recorder)
    order = store.get(str(order_id))
    if order is not None:
        order["updated_at"] = _stamp()
        store.put([order])
