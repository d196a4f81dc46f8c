"""The S4 story end to end: a bonded-zone mini-program order over 500 paid by a buyer who is
not qualified is held, texted and ticketed, once each; a qualified buyer's order is untouched.
Through the public API, the dispatcher, the rule runner and the loopback simulators."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from conftest import order_body
from integration.rules_support import settle
from orderpilot.bootstrap import Hub
from orderpilot.simulators.external.server import SimServer


def paid_bonded_order(client: TestClient, external_id: str, phone: str,
                      total: str = "600.00") -> str:
    body = order_body(external_id, channel="youzan", total=total,
                      customer={"name": "李四", "phone": phone},
                      lines=[{"sku": "MILK-900", "quantity": 1, "unit_price": total}])
    order_id: str = client.post("/api/v1/orders", json=body).json()["id"]
    answer = client.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "youzan", "source_event_id": f"pay-{external_id}",
        "occurred_at": "2026-11-26T10:01:00+08:00", "data": {"amount": total}})
    assert answer.status_code in (200, 201), answer.text
    return order_id


def test_s4_unqualified_buyer_is_held_texted_and_ticketed_once(
        rules_hub: Hub, client: TestClient, sim: SimServer) -> None:
    rules_hub.rules.install_template("bonded-zone-customs-check", "ops", enable=True)
    sim.admin().post("/_sim/customs/qualified", json={"phone": "13900000001"})

    unqualified = paid_bonded_order(client, "S4-001", "13800000002")
    qualified = paid_bonded_order(client, "S4-002", "13900000001")
    small = paid_bonded_order(client, "S4-003", "13800000003", total="300.00")
    settle(rules_hub)

    def rule_holds(order_id: str) -> list[str]:
        holds = client.get(f"/api/v1/orders/{order_id}").json()["holds"]
        return [h["reason"] for h in holds if h["placed_by_kind"] == "rule"]

    assert rule_holds(unqualified) == ["qualification_pending"]
    assert rule_holds(qualified) == []
    assert rule_holds(small) == []

    checks = sim.requests("customs")
    assert sorted(r["body"]["phone"] for r in checks) == ["13800000002", "13900000001"]
    sms = sim.requests("aliyun-sms")
    assert len(sms) == 1 and sms[0]["deliveries"] == 1
    assert "13800000002" in str(sms[0]["body"]) or "138****0002" in str(sms[0]["body"])
    assert sms[0]["body"]["TemplateCode"] == "SMS_QUAL_UPLOAD"

    tickets: Any = client.get("/api/v1/tickets", params={"order_id": unqualified}).json()
    assert [(t["priority"], t["tags"]) for t in tickets["items"]] == [("high", ["资质待核验"])]
    assert client.get("/api/v1/tickets", params={"order_id": qualified}).json()["items"] == []

    # Delivering everything again changes nothing: runs are recorded once per event.
    settle(rules_hub)
    assert len(sim.requests("aliyun-sms")) == 1
