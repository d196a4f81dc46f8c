"""The demo's returns set-up (issue 13 item 6): what `orderpilot demo` installs (its return
centres, its policy and the return-routing and S8 templates, enabled) routes a demo return
through the rule runner and the SF and SMS simulators, and holds an unroutable one."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from conftest import order_body
from integration.rules_support import settle
from orderpilot.adapters.views.return_routes import route_of
from orderpilot.bootstrap import Hub
from orderpilot.domain.commands import ReportEvent
from orderpilot.services import ordering
from orderpilot.simulators import demo_rules
from orderpilot.simulators.demo_returns_plan import CENTRES, OLD_ADDRESSES, POLICY
from orderpilot.simulators.external.server import SimServer

S8 = ("return-refund-credit-receivable", "two-returns-lower-level", "return-low-stock-replenish")


@pytest.fixture
def demo_hub(rules_hub: Hub, sim: SimServer) -> Hub:
    sim.admin().delete("/_sim/sf_express")
    demo_rules.install_rules(rules_hub)
    return rules_hub


def shipped_by(hub: Hub, client: TestClient, external_id: str, phone: str,
               source: str, data: dict[str, str]) -> str:
    body = order_body(external_id, customer={"name": "王小明", "phone": phone})
    order_id: str = client.post("/api/v1/orders", json=body).json()["id"]
    for n, (kind, by, extra) in enumerate((("payment.succeeded", "shopee", {}),
                                           ("wms.released", "wms", {}),
                                           ("shipment.shipped", source, data))):
        ordering.report_event(ReportEvent(
            order_id, kind, by, datetime.fromisoformat(f"2026-11-27T1{n}:00:00+08:00"),
            source_event_id=f"{external_id}-{n}", data=extra), hub.uow, hub.clock)
    return order_id


def ask_return(client: TestClient, order_id: str, ref: str) -> str:
    r = client.post(f"/api/v1/orders/{order_id}/returns", json={
        "lines": [{"sku": "DIAPER-L", "quantity": 1}], "reason_text": "尺码偏小，宝宝穿不下",
        "source": "shopee", "source_event_id": ref, "customer_address": OLD_ADDRESSES[0]})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_the_demo_installs_the_registers_and_the_return_templates_once(
        demo_hub: Hub, client: TestClient) -> None:
    policy = client.get("/api/v1/return-policy").json()
    rows = {r["outlet_code"]: r["return_centre"] for r in policy["rows"]}
    assert rows == POLICY and rows["SF-0278"] == "YIWU"
    centres = {c["code"]: c for c in client.get("/api/v1/return-centres").json()["items"]}
    assert set(centres) == set(CENTRES) and centres["YIWU"]["name_zh"] == "义乌退货中心"
    with demo_hub.uow() as uow:
        enabled = {r.template_id: r.status == "enabled" for r in uow.rules.listing()}
    assert all(enabled.get(t) for t in ("return-routing", "return-route-decided", *S8))
    # a restart installs nothing again
    assert demo_rules.install_rules(demo_hub) == []
    assert client.get("/api/v1/return-policy").json()["version"] == policy["version"]


def test_a_demo_return_on_a_jd_parcel_is_routed_booked_and_texted(
        demo_hub: Hub, client: TestClient, sim: SimServer) -> None:
    order_id = shipped_by(demo_hub, client, "DEMO-R1", "13900000031", "jdl",
                          {"carrier": "jd", "tracking_number": "JDV000000000031",
                           "outlet_code": "JD-HZ031"})
    return_id = ask_return(client, order_id, "RR-DEMO-R1")
    settle(demo_hub)
    with demo_hub.db.read() as conn:
        route = route_of(conn, return_id)
    assert route is not None and route["decision_required"] is False
    assert (route["outlet_code"], route["return_centre"]) == ("JD-HZ031", "YIWU")
    assert route["address"] == CENTRES["YIWU"]["address"] and route["status"] == "pickup_booked"
    assert len([r for r in sim.requests("sf_express")
                if r["body"].get("serviceCode") == "EXP_RECE_CREATE_REVERSE_ORDER"]) == 1
    assert len(sim.requests("aliyun-sms")) == 1


@pytest.mark.parametrize(("data", "reason"), [
    ({"carrier": "zto", "tracking_number": "700000002766", "outlet_code": "ZTO-02766"},
     "no_policy_row"),
    ({"carrier": "zto", "tracking_number": "700000000000"}, "no_outlet")])
def test_an_unroutable_demo_return_needs_a_decision_and_holds_the_order(
        demo_hub: Hub, client: TestClient, sim: SimServer, data: dict[str, str],
        reason: str) -> None:
    order_id = shipped_by(demo_hub, client, f"DEMO-{reason}", "13900002766", "zto", data)
    return_id = ask_return(client, order_id, f"RR-DEMO-{reason}")
    settle(demo_hub)
    with demo_hub.db.read() as conn:
        route = route_of(conn, return_id)
    assert route is not None and route["decision_required"] is True
    assert route["exception"]["reason"] == reason and route.get("address") is None
    holds = client.get(f"/api/v1/orders/{order_id}").json()["holds"]
    assert [h["reason"] for h in holds] == ["return_decision_required"]
    assert sim.requests("aliyun-sms") == []
