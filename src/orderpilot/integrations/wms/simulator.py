"""The in-house WMS: stock of the demo company's three warehouses, by warehouse code.

    GET /wms/api/stock?warehouse=NB-BONDED   {"warehouse", "as_of", "items": [...]}
    PUT /_sim/wms/stock                      {"warehouse", "items": [...], "replace": false}

Items are ``{"sku", "on_hand", "expected_at"?}``; the Los Angeles warehouse holds stock in
transit, each SKU with the day it is expected to land.

    POST /wms/api/outbound-orders           {"order_id", "lines": [...], ...} (our contract,
                                            services/wms_outbound.py) -> {"outbound_id",
                                            "order_id", "status": "accepted"}; one outbound
                                            order per order id, whatever the key
    GET  /wms/api/outbound-orders/{order_id} the outbound order as the WMS has it: {"outbound_id",
                                            "order_id", "status", "events": [{"event_id",
                                            "type", "occurred_at"}]} (the status checks of
                                            services/wms_checks.py read it); 404 unknown
    GET  /_sim/wms/outbound-orders          {"outbound_orders": [...]}
    POST /_sim/wms/outbound-orders/{order_id}/events  {"type", "occurred_at"?, "event_id"?}:
                                            the warehouse did it (released, picked, packed);
                                            no callback is sent (the tests play a lost one)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.simulators.external.checks import hub_signature_refusal
from orderpilot.simulators.external.recorder import (
    Recorder,
    handle,
    handle_look_up,
    read_body,
    recorder_for,
)

NAME = "wms"
router = APIRouter()
admin_router = APIRouter()

WAREHOUSES = {  # code -> (kind, zh, en)
    "NB-BONDED": ("bonded_spot", "宁波北仑保税仓", "Ningbo Beilun bonded"),
    "HZ-DOMESTIC": ("domestic_transfer", "杭州仓", "Hangzhou"),
    "LA-TRANSIT": ("in_transit", "洛杉矶仓", "Los Angeles"),
}
# sku -> on hand per warehouse; TEETHER-01 is short on purpose, so some demo orders are held.
DEMO_STOCK: dict[str, dict[str, int]] = {
    "DIAPER-L": {"NB-BONDED": 6000, "HZ-DOMESTIC": 3000, "LA-TRANSIT": 2000},
    "DIAPER-M": {"NB-BONDED": 5000, "HZ-DOMESTIC": 2000},
    "FORMULA-2": {"NB-BONDED": 4000, "HZ-DOMESTIC": 1500, "LA-TRANSIT": 3000},
    "FORMULA-3": {"NB-BONDED": 150, "HZ-DOMESTIC": 3000},
    "WIPES-80": {"NB-BONDED": 20000, "HZ-DOMESTIC": 5000},
    "BOTTLE-240": {"NB-BONDED": 2500, "HZ-DOMESTIC": 800},
    "TEETHER-01": {"NB-BONDED": 6, "HZ-DOMESTIC": 10, "LA-TRANSIT": 400},
    "CREAM-50": {"NB-BONDED": 3000, "HZ-DOMESTIC": 1000},
    "SAMPLE-FORMULA-2": {"NB-BONDED": 300},
}
IN_TRANSIT_DAYS = {"DIAPER-L": 18, "FORMULA-2": 12, "TEETHER-01": 25}


def demo_stock(today: date) -> dict[str, dict[str, dict[str, Any]]]:
    """warehouse -> sku -> {"on_hand", "expected_at"}; arrival dates count from ``today``."""
    stock: dict[str, dict[str, dict[str, Any]]] = {code: {} for code in WAREHOUSES}
    for sku, places in DEMO_STOCK.items():
        for code, on_hand in places.items():
            item: dict[str, Any] = {"on_hand": on_hand}
            if WAREHOUSES[code][0] == "in_transit":
                item["expected_at"] = (today + timedelta(days=IN_TRANSIT_DAYS[sku])).isoformat()
            stock[code][sku] = item
    return stock


def _stock(recorder: Recorder) -> dict[str, dict[str, dict[str, Any]]]:
    if "stock" not in recorder.data:
        recorder.data["stock"] = demo_stock(datetime.now(UTC).date())
    stock: dict[str, dict[str, dict[str, Any]]] = recorder.data["stock"]
    return stock


def _items(stock: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"sku": sku, **item} for sku, item in sorted(stock.items())]


def reset(recorder: Recorder) -> None:
    recorder.data["stock"] = demo_stock(datetime.now(UTC).date())


@router.get("/api/stock")
async def stock_of(request: Request) -> JSONResponse:
    raw, _ = await read_body(request)
    recorder = recorder_for(request, NAME)
    warehouse = request.query_params.get("warehouse", "")

    def answer() -> tuple[int, Any]:
        stock = _stock(recorder)
        if warehouse not in stock:
            return 404, {"error": f"no warehouse {warehouse!r}", "field": "warehouse",
                         "known": sorted(stock)}
        return 200, {"warehouse": warehouse,
                     "as_of": datetime.now(UTC).isoformat(timespec="milliseconds"),
                     "items": _items(stock[warehouse])}

    return await handle(request, NAME, body=None, key=request.headers.get("idempotency-key"),
                        reject=lambda: hub_signature_refusal(request, raw), answer=answer)


@admin_router.put("/stock")
async def set_stock(request: Request) -> JSONResponse:
    """Set levels of one warehouse (tests, demos); ``replace`` drops the SKUs not listed."""
    _, body = await read_body(request)
    refusal = _stock_refusal(body)
    if refusal is not None:
        return JSONResponse(refusal, 422)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        stock = _stock(recorder)
        place = stock.setdefault(body["warehouse"], {})
        if body.get("replace"):
            place.clear()
        for item in body["items"]:
            place[item["sku"]] = {k: item[k] for k in ("on_hand", "expected_at")
                                  if item.get(k) is not None}
        return JSONResponse({"warehouse": body["warehouse"], "items": _items(place)})


def _stock_refusal(body: Any) -> dict[str, Any] | None:
    if not isinstance(body, dict) or not isinstance(body.get("warehouse"), str) \
            or not body["warehouse"]:
        return {"error": "warehouse is required", "field": "warehouse"}
    if not isinstance(body.get("items"), list):
        return {"error": "items must be a list", "field": "items"}
    for i, item in enumerate(body["items"]):
        if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
            return {"error": "sku is required", "field": f"items[{i}].sku"}
        on_hand = item.get("on_hand")
        if isinstance(on_hand, bool) or not isinstance(on_hand, int):
            return {"error": "on_hand must be a whole number", "field": f"items[{i}].on_hand"}
    return None


def _outbound_refusal(body: Any) -> tuple[int, Any] | None:
    if not isinstance(body, dict) or not isinstance(body.get("order_id"), str) \
            or not body["order_id"]:
        return 422, {"error": "order_id is required", "field": "order_id"}
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        return 422, {"error": "lines must be a non-empty list", "field": "lines"}
    for i, line in enumerate(lines):
        quantity = line.get("quantity") if isinstance(line, dict) else None
        if not isinstance(line, dict) or not isinstance(line.get("sku"), str) \
                or isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            return 422, {"error": "each line needs a sku and a whole quantity >= 1",
                         "field": f"lines[{i}]"}
    return None


@router.post("/api/outbound-orders")
async def create_outbound_order(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)

    def answer() -> tuple[int, Any]:
        orders: dict[str, dict[str, Any]] = recorder.data.setdefault("outbound", {})
        known = orders.get(body["order_id"])
        if known is not None:  # idempotent by order id, whatever the key
            return 200, {**known["answer"], "duplicate": True}
        outbound_id = f"OUT{next(recorder.serial):08d}"
        reply = {"outbound_id": outbound_id, "order_id": body["order_id"],
                 "status": "accepted"}
        orders[body["order_id"]] = {"answer": reply, "body": body}
        return 201, reply

    return await handle(request, NAME, body=body, key=request.headers.get("idempotency-key"),
                        reject=lambda: hub_signature_refusal(request, raw)
                        or _outbound_refusal(body), answer=answer)


@admin_router.get("/outbound-orders")
def outbound_orders(request: Request) -> dict[str, Any]:
    orders = recorder_for(request, NAME).data.get("outbound", {})
    return {"outbound_orders": [{**o["answer"], "body": o["body"]} for o in orders.values()]}


STATUS_OF = {"wms.released": "released", "wms.picked": "picked", "wms.packed": "packed"}


@router.get("/api/outbound-orders/{order_id}")
async def outbound_order(order_id: str, request: Request) -> JSONResponse:
    raw, _ = await read_body(request)
    recorder = recorder_for(request, NAME)

    def answer() -> tuple[int, Any]:
        known = recorder.data.get("outbound", {}).get(order_id)
        if known is None:
            return 404, {"error": f"no outbound order for {order_id!r}", "field": "order_id"}
        events = known.setdefault("events", [])
        status = STATUS_OF.get(events[-1]["type"], "accepted") if events else "accepted"
        return 200, {**known["answer"], "status": status, "events": list(events)}

    return await handle_look_up(request, NAME, query={"order_id": order_id},
                                reject=lambda: hub_signature_refusal(request, raw),
                                answer=answer)


@admin_router.post("/outbound-orders/{order_id}/events")
async def outbound_event(order_id: str, request: Request) -> JSONResponse:
    _, body = await read_body(request)
    kind = body.get("type") if isinstance(body, dict) else None
    if kind not in STATUS_OF:
        return JSONResponse({"error": f"type must be one of {', '.join(STATUS_OF)}",
                             "field": "type"}, 422)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        known = recorder.data.get("outbound", {}).get(order_id)
        if known is None:
            return JSONResponse({"error": f"no outbound order for {order_id!r}",
                                 "field": "order_id"}, 404)
        events = known.setdefault("events", [])
        event = {"event_id": str(body.get("event_id") or f"wms:{kind}:{order_id}"),
                 "type": kind, "occurred_at": str(body.get("occurred_at")
                                                  or datetime.now(UTC).isoformat())}
        events.append(event)
        return JSONResponse(event, 201)
