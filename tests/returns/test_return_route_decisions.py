"""Ops decide a return that could not be routed: ``POST /api/v1/returns/{id}/route`` with the
centre a person picked, or ``{"retry": true}`` after the policy was fixed. The hold is released,
``return.route_decided`` is recorded once, and the template return-route-decided books the SF
pickup and texts the buyer exactly once, however often ops click. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from integration.rules_support import settle
from orderpilot.bootstrap import Hub
from orderpilot.simulators.external.server import SimServer
from returns.routing_support import NINGBO, TYPED, YIWU, set_up_policy, shipped_order


@pytest.fixture
def deciding_hub(routing_hub: Hub) -> Hub:
    routing_hub.rules.install_template("return-route-decided", "ops", enable=True)
    return routing_hub


def unroutable(client: TestClient, hub: Hub, name: str, outlet: str = "SF-9999") -> tuple[
        str, str]:
    """An order shipped from an outlet the policy does not list, and its return (held)."""
    order_id = shipped_order(client, name, "13900000777",
                             {"carrier": "sf", "tracking_number": f"SF{name}",
                              "outlet_code": outlet})
    taken = client.post(f"/api/v1/orders/{order_id}/returns", json={
        "lines": [{"sku": "DIAPER-L", "quantity": 1}], "reason_tags": ["wrong_size"],
        "source": "shopee", "source_event_id": f"RR-{name}", "customer_address": TYPED})
    assert taken.status_code == 201, taken.text
    settle(hub)
    route = client.get(f"/api/v1/returns/{taken.json()['id']}").json()["route"]
    assert route["decision_required"] is True and route["exception"]["reason"] == \
        "no_policy_row"
    assert [r for r, _ in rule_holds(client, order_id)] == ["return_decision_required"]
    return order_id, str(taken.json()["id"])


def rule_holds(client: TestClient, order_id: str) -> list[tuple[str, str]]:
    """The order's active holds a rule placed: (reason, note)."""
    holds = client.get(f"/api/v1/orders/{order_id}").json()["holds"]
    return [(h["reason"], h.get("note") or "") for h in holds
            if h["placed_by_kind"] == "rule" and h["released_at"] is None]


def bookings(sim: SimServer) -> list[dict[str, Any]]:
    return [r for r in sim.requests("sf_express")
            if r["body"].get("serviceCode") == "EXP_RECE_CREATE_REVERSE_ORDER"]


def decided_events(client: TestClient, order_id: str) -> list[dict[str, Any]]:
    items = client.get(f"/api/v1/orders/{order_id}/events").json()["items"]
    return [e for e in items if e["type"] == "return.route_decided"]


def test_a_person_picks_the_centre_and_the_pickup_and_sms_happen_once(
        deciding_hub: Hub, client: TestClient, sim: SimServer) -> None:
    set_up_policy(client)
    order_id, return_id = unroutable(client, deciding_hub, "D-1")
    assert bookings(sim) == [] and sim.requests("aliyun-sms") == []

    answer = client.post(f"/api/v1/returns/{return_id}/route",
                         json={"return_centre": "YIWU", "note": "买家在义乌附近"})
    assert answer.status_code == 200, answer.text
    route = answer.json()["route"]
    assert (route["decision_required"], route["return_centre"], route["status"]) == (
        False, "YIWU", "routed")
    assert route["address"] == YIWU["address"]
    assert route["decided"]["decision"] == "centre" and route["decided"]["by"] == "ops"
    assert route["decided"]["note"] == "买家在义乌附近"
    assert rule_holds(client, order_id) == []  # the hold released with the decision
    again = client.post(f"/api/v1/returns/{return_id}/route", json={"return_centre": "NINGBO"})
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "return_not_awaiting_decision"
    assert len(decided_events(client, order_id)) == 1

    settle(deciding_hub)
    route = client.get(f"/api/v1/returns/{return_id}").json()["route"]
    assert (route["return_centre"], route["status"]) == ("YIWU", "pickup_booked")
    assert route["pickup_window"]["start"] < route["pickup_window"]["end"]
    assert route["address"] == YIWU["address"]  # the person's centre, not a policy's
    [booking] = bookings(sim)
    receiver = next(c for c in json.loads(booking["body"]["msgData"])["contactInfoList"]
                    if c["contactType"] == 2)
    assert receiver["county"] == "义乌市"
    [sms] = sim.requests("aliyun-sms")
    params = json.loads(sms["body"]["TemplateParam"])
    assert params["centre"] == "义乌退货中心" and params["window"]
    assert params["address"] == "浙江省金华市义乌市稠江街道退货路88号"

    assert client.post(f"/api/v1/returns/{return_id}/route",
                       json={"retry": True}).status_code == 409
    settle(deciding_hub)
    assert len(bookings(sim)) == 1 and len(sim.requests("aliyun-sms")) == 1


def test_after_the_policy_is_fixed_a_retry_routes_by_the_policy_once(
        deciding_hub: Hub, client: TestClient, sim: SimServer) -> None:
    set_up_policy(client)
    order_id, return_id = unroutable(client, deciding_hub, "D-2")
    fixed = client.put("/api/v1/return-policy", json={"rows": [
        {"outlet_code": "SF-0278", "return_centre": "YIWU"},
        {"outlet_code": "SF-9999", "return_centre": "NINGBO"}]})
    assert fixed.status_code == 200, fixed.text

    answer = client.post(f"/api/v1/returns/{return_id}/route", json={"retry": True})
    assert answer.status_code == 200, answer.text
    assert answer.json()["route"]["status"] == "rerouting"
    assert answer.json()["route"]["decided"]["decision"] == "retry"
    assert client.post(f"/api/v1/returns/{return_id}/route",
                       json={"retry": True}).status_code == 409  # a double click
    settle(deciding_hub)

    route = client.get(f"/api/v1/returns/{return_id}").json()["route"]
    assert (route["return_centre"], route["status"], route["policy_version"]) == (
        "NINGBO", "pickup_booked", 2)
    assert route["address"] == NINGBO["address"]
    assert len(bookings(sim)) == 1
    [sms] = sim.requests("aliyun-sms")
    assert json.loads(sms["body"]["TemplateParam"])["centre"] == "宁波退货中心"
    assert rule_holds(client, order_id) == []
    assert len(decided_events(client, order_id)) == 1


def test_a_retry_that_still_cannot_route_holds_again_and_may_be_decided_again(
        deciding_hub: Hub, client: TestClient, sim: SimServer) -> None:
    set_up_policy(client)
    order_id, return_id = unroutable(client, deciding_hub, "D-3")
    assert client.post(f"/api/v1/returns/{return_id}/route",
                       json={"retry": True}).status_code == 200
    settle(deciding_hub)
    route = client.get(f"/api/v1/returns/{return_id}").json()["route"]
    assert route["decision_required"] is True and "address" not in route
    assert [r for r, _ in rule_holds(client, order_id)] == ["return_decision_required"]
    assert bookings(sim) == []

    assert client.post(f"/api/v1/returns/{return_id}/route",
                       json={"return_centre": "NINGBO"}).status_code == 200
    settle(deciding_hub)
    assert len(bookings(sim)) == 1 and len(sim.requests("aliyun-sms")) == 1
    assert client.get(f"/api/v1/returns/{return_id}").json()["route"]["return_centre"] == \
        "NINGBO"


def test_bad_decisions_are_refused_and_change_nothing(
        routing_hub: Hub, client: TestClient, sim: SimServer) -> None:
    set_up_policy(client)
    order_id, return_id = unroutable(client, routing_hub, "D-4")
    url = f"/api/v1/returns/{return_id}/route"

    def refused(body: Any, status: int, field: str | None = None,
                code: str | None = None) -> None:
        answer = client.post(url, json=body)
        assert answer.status_code == status, answer.text
        error = answer.json()["error"]
        if field:
            assert error["field"] == field
        if code:
            assert error["code"] == code
        assert error.get("message_zh") or error.get("message")

    refused({"return_centre": "YIWU", "retry": True}, 422, "return_centre")
    refused({}, 422, "return_centre")
    refused({"return_centre": "NOWHERE"}, 422, "return_centre")
    # the template that books after a decision is not installed: nothing would book
    refused({"return_centre": "YIWU"}, 409, code="no_rule_for_route_decisions")
    answer = client.post("/api/v1/returns/00000000-0000-0000-0000-000000000000/route",
                         json={"retry": True})
    assert answer.status_code == 404
    route = client.get(f"/api/v1/returns/{return_id}").json()["route"]
    assert route["decision_required"] is True and route["decided"] is None
    assert [r for r, _ in rule_holds(client, order_id)] == ["return_decision_required"]
    assert decided_events(client, order_id) == []


def test_only_ops_and_admins_decide(deciding_hub: Hub, client: TestClient,
                                    sim: SimServer) -> None:
    from conftest import TEST_SOURCES
    from orderpilot.adapters.accounts import AccountRepository
    from orderpilot.services.accounts import create_token

    set_up_policy(client)
    _, return_id = unroutable(client, deciding_hub, "D-5")
    with deciding_hub.db.write() as conn:
        token = create_token(AccountRepository(conn), "wh", "warehouse", deciding_hub.clock,
                             TEST_SOURCES)[1]
    answer = client.post(f"/api/v1/returns/{return_id}/route", json={"return_centre": "YIWU"},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert client.get(f"/api/v1/returns/{return_id}").json()["route"]["decision_required"]
