"""Issue 13's S7 story end to end, through the public HTTP API only, the dispatcher and rule
runner, and the SF, SMS, Kingdee and CRM simulators (each checks its platform's signature or
session): centres, policy and rule templates installed through the API; an order shipped with
SF outlet SF-0278; a return taken by ``POST /api/v1/orders/{id}/returns``; routed to the Yiwu
centre (the buyer's typed address kept), one SF pickup, one SMS with the address and window;
then in transit, received, inspected (restockable units back on hand at once), refunded ->
one Kingdee red receivable and ``erp.receivable_closed``; the same buyer's second return within
90 days lowers the CRM level once. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import TEST_SOURCES, order_body
from integration.rules_support import settle
from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token
from orderpilot.simulators.external.server import SimServer
from returns.routing_support import TYPED, YIWU, set_up_policy

PHONE = "13900000278"
TEMPLATES = ("return-routing", "return-refund-credit-receivable", "two-returns-lower-level")


@pytest.fixture
def hub(rules_hub: Hub, sim: SimServer) -> Hub:
    for system in ("sf_express", "kingdee", "crm"):
        sim.admin().delete(f"/_sim/{system}").raise_for_status()
    return rules_hub


@pytest.fixture
def as_role(hub: Hub) -> Iterator[dict[str, TestClient]]:
    """One API client per role, each with its own token (least privilege per step)."""
    clients: dict[str, TestClient] = {}
    app = create_app(hub, with_console=False)
    for role in ("ops", "warehouse", "finance"):
        with hub.db.write() as conn:
            token = create_token(AccountRepository(conn), f"e2e-{role}", role, hub.clock,
                                 TEST_SOURCES)[1]
        c = TestClient(app)
        c.headers["Authorization"] = f"Bearer {token}"
        clients[role] = c.__enter__()
    yield clients
    for c in clients.values():
        c.__exit__(None, None, None)


def ok(answer: Any, *codes: int) -> dict[str, Any]:
    assert answer.status_code in (codes or (200, 201)), answer.text
    found: dict[str, Any] = answer.json()
    return found


def shipped(ops: TestClient, external_id: str, waybill: str) -> str:
    order_id = str(ok(ops.post("/api/v1/orders", json=order_body(
        external_id, customer={"name": "王小明", "phone": PHONE})), 201)["id"])
    for n, (kind, source, data) in enumerate((
            ("payment.succeeded", "shopee", {}), ("wms.released", "wms", {}),
            ("shipment.shipped", "sf", {"carrier": "sf", "tracking_number": waybill,
                                        "outlet_code": "SF-0278"}))):
        ok(ops.post(f"/api/v1/orders/{order_id}/events", json={
            "type": kind, "source": source, "source_event_id": f"{external_id}-{n}",
            "occurred_at": f"2026-11-27T1{n}:00:00+08:00", "data": data}))
    return order_id


def sf(sim: SimServer, service: str) -> list[dict[str, Any]]:
    return [r for r in sim.requests("sf_express") if r["body"].get("serviceCode") == service]


def order_events(ops: TestClient, order_id: str, kind: str) -> list[dict[str, Any]]:
    items = ok(ops.get(f"/api/v1/orders/{order_id}/events"))["items"]
    return [e for e in items if e["type"] == kind]


def on_hand(ops: TestClient, sku: str) -> int:
    [level] = [lv for lv in ok(ops.get("/api/v1/inventory/levels", params={"sku": sku}))["items"]
               if lv["source"] == "NB"]
    return int(level["available"])


def test_the_s7_story_through_the_public_api(
        hub: Hub, as_role: dict[str, TestClient], sim: SimServer) -> None:
    ops, warehouse, finance = as_role["ops"], as_role["warehouse"], as_role["finance"]
    set_up_policy(ops)
    for template in TEMPLATES:
        ok(ops.post(f"/api/v1/rules/templates/{template}/draft",
                    json={"answers": {}, "publish": True, "enable": True}), 201)
    ok(ops.put("/api/v1/inventory/sources/NB", json={
        "kind": "bonded_spot", "name_zh": "宁波仓", "name_en": "Ningbo", "region": "浙江省",
        "lead_time_days": 1, "low_threshold": 5}))
    ok(ops.put("/api/v1/inventory/levels", json={"source_event_id": "stock-e2e", "levels": [
        {"source": "NB", "sku": "DIAPER-L", "on_hand": 20,
         "as_of": "2026-11-26T09:00:00+08:00"}]}))
    order_id = shipped(ops, "S7-E2E-1", "SF1040000278")
    sim.admin().post("/_sim/kingdee/receivables", json={"receivables": [
        {"bill_no": "AR-S7-E2E-1", "order_no": "S7-E2E-1", "amount": "258.00",
         "status": "A"}]}).raise_for_status()
    settle(hub)
    stock_before = on_hand(ops, "DIAPER-L")

    taken = ok(ops.post(f"/api/v1/orders/{order_id}/returns", json={
        "lines": [{"sku": "DIAPER-L", "quantity": 1}], "reason_tags": ["wrong_size"],
        "reason_text": "尺码偏小", "source": "shopee", "source_event_id": "RR-S7-1",
        "customer_address": TYPED}), 201)
    return_id = str(taken["id"])
    assert taken["route"] is None  # routing is the runner's work, not the request's
    settle(hub)

    ret = ok(ops.get(f"/api/v1/returns/{return_id}"))
    route = ret["route"]
    assert route["decision_required"] is False
    assert (route["outlet_code"], route["return_centre"]) == ("SF-0278", "YIWU")
    assert route["address"] == YIWU["address"]  # overwritten with the centre's
    assert ret["customer_address"] == TYPED  # the buyer's typed one kept for audit
    assert route["status"] == "pickup_booked" and route["pickup_waybill"]
    window = route["pickup_window"]
    assert window["start"] < window["end"]

    [booking] = sf(sim, "EXP_RECE_CREATE_REVERSE_ORDER")
    assert json.loads(booking["body"]["msgData"])["orderId"] == f"RT{return_id}"
    [sms] = sim.requests("aliyun-sms")
    assert sms["body"]["PhoneNumbers"] == PHONE
    params = json.loads(sms["body"]["TemplateParam"])
    assert params["centre"] == "义乌退货中心"
    assert params["address"] == "浙江省金华市义乌市稠江街道退货路88号"
    assert params["window"]  # the pickup window the booking kept
    [booked] = order_events(ops, order_id, "return.pickup_booked")
    assert booked["payload"]["data"]["pickup_window"] == window
    assert hub_window_texts(hub) == [params["window"]]

    # The life of the parcel, each move by the role allowed to make it.
    # SF confirmed the pickup before ops approved: the approval lands on pickup booked.
    assert ok(ops.post(f"/api/v1/returns/{return_id}/approve", json={}))["status"] == \
        "pickup_booked"
    assert warehouse.post(f"/api/v1/returns/{return_id}/refund", json={}).status_code == 403
    ok(warehouse.post(f"/api/v1/returns/{return_id}/in-transit", json={}))
    ok(warehouse.post(f"/api/v1/returns/{return_id}/received", json={}))
    inspected = ok(warehouse.post(f"/api/v1/returns/{return_id}/inspect", json={
        "lines": [{"sku": "DIAPER-L", "restockable": 1, "damaged": 0}],
        "stock_source": "NB"}))
    assert inspected["status"] == "inspected"
    assert on_hand(ops, "DIAPER-L") == stock_before + 1  # at once, before any runner
    refunded = ok(finance.post(f"/api/v1/returns/{return_id}/refund", json={}))
    assert refunded["status"] == "refunded"
    amount = refunded["refund"]["amount"]
    settle(hub)

    receivables = sim.state.recorders["kingdee"].data["receivables"]
    assert [n for n in receivables if n.startswith("RC-")] == [f"RC-{return_id}"]
    assert receivables["AR-S7-E2E-1"]["FWRITTENOFFSTATUS"] == "B"  # 129 of 258
    [closed] = order_events(ops, order_id, "erp.receivable_closed")
    assert closed["payload"]["data"]["return_id"] == return_id
    assert str(closed["payload"]["data"]["amount"]) == str(amount) == "129.00"
    assert sim.requests("crm") == []  # one return: the level stays

    # The same buyer's second return within 90 days lowers the CRM level, once.
    second_order = shipped(ops, "S7-E2E-2", "SF1040000279")
    ok(ops.post(f"/api/v1/orders/{second_order}/returns", json={
        "lines": [{"sku": "DIAPER-L", "quantity": 2}], "reason_tags": ["quality_issue"],
        "source": "shopee", "source_event_id": "RR-S7-2", "customer_address": TYPED}), 201)
    settle(hub)
    assert dict(sim.state.recorders["crm"].data["levels"]) == {PHONE: 2}
    assert len(order_events(ops, second_order, "crm.level_changed")) == 1
    assert len(sf(sim, "EXP_RECE_CREATE_REVERSE_ORDER")) == 2  # one per return
    assert len(sim.requests("aliyun-sms")) == 2

    settle(hub)  # delivering again sends nothing again
    assert len(sf(sim, "EXP_RECE_CREATE_REVERSE_ORDER")) == 2
    assert len(sim.requests("aliyun-sms")) == 2
    assert len(sim.state.recorders["crm"].data["level_changes"]) == 1
    assert dict(sim.state.recorders["crm"].data["levels"]) == {PHONE: 2}
    assert len([n for n in sim.state.recorders["kingdee"].data["receivables"]
                if n.startswith("RC-")]) == 1
    assert len(order_events(ops, order_id, "erp.receivable_closed")) == 1


def hub_window_texts(hub: Hub) -> list[str]:
    """The pickup windows the runs' pickup steps kept (the SMS must say the same)."""
    with hub.db.read() as conn:
        outputs = [r.outputs for r in conn.execute(sa.select(t.rule_runs.c.outputs))]
    return [str(o["pickup"]["window_text"]) for o in outputs
            if isinstance(o, dict) and isinstance(o.get("pickup"), dict)]
