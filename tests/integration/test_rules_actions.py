"""More of the rules engine: decision tables in conditions and steps, failure branches,
messages to mail and group robots, schedules; on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import FakeClock
from integration.rules_support import place, publish, settle
from orderpilot.bootstrap import Hub
from orderpilot.domain.decision_tables import example_return_centres
from orderpilot.simulators.external.server import SimServer


def test_a_decision_table_decides_in_conditions_and_feeds_a_step(
        rules_hub: Hub, client: TestClient) -> None:
    rules_hub.decision_tables.save(example_return_centres(), "ops", "first version")
    publish(rules_hub, {
        "name": "return routing",
        "trigger": {"kind": "event", "event": "system.status", "sources": ["sf"]},
        "conditions": {"all": [{"field": "tables.return_centres.centre", "op": "ne",
                                "value": "RC-NB", "type": "text"}]},
        "actions": [
            {"id": "route", "type": "table.lookup", "params": {"table": "return_centres"}},
            {"id": "mark", "type": "order.set_field",
             "params": {"name": "return_centre", "value": "{{ steps.route.centre }}"}}]},
        "routing")
    order_id = place(client, "T-1")
    for outlet in ("SZ02", "NB99"):  # the carrier reports a refusal at an outlet
        answer = client.post(f"/api/v1/orders/{order_id}/events", json={
            "type": "system.status", "source": "sf", "source_event_id": f"refused-{outlet}",
            "occurred_at": "2026-11-26T10:00:00+08:00",
            "data": {"status": "refused", "outlet_code": outlet}})
        assert answer.status_code == 201, answer.text
    settle(rules_hub)
    # NB99 falls to the table's catch-all row (RC-NB): the condition is false, no run.
    [run] = client.get("/api/v1/rule-runs", params={"rule": "routing"}).json()["items"]
    runs = [run]
    detail = client.get(f"/api/v1/rule-runs/{runs[0]['id']}").json()
    assert detail["status"] == "succeeded"
    assert detail["trace"]["tables"]["return_centres"]["rows"] == [1]
    assert detail["outputs"]["route"]["centre"] == "RC-SZ"
    events = client.get(f"/api/v1/orders/{order_id}/events").json()["items"]
    assert any(e["type"] == "order.field_set" and e["payload"]["value"] == "RC-SZ"
               for e in events)


def test_a_failed_step_runs_its_branch(rules_hub: Hub, client: TestClient,
                                       sim: SimServer) -> None:
    publish(rules_hub, {
        "name": "check or escalate", "trigger": {"kind": "event", "event": "order.placed"},
        "actions": [
            {"id": "check", "type": "http.call",
             "params": {"connector": "customs", "path": "/api/qualification/check",
                        "body": {"phone": "{{ order.customer.phone }}"}},
             "on_error": {"retries": 0, "then": "branch", "branch": [
                 {"id": "escalate", "type": "notify.dingtalk",
                  "params": {"text": "海关核验失败: {{ order.external_id }}"}},
                 {"id": "mail", "type": "email.send",
                  "params": {"to": "ops@example.com", "subject": "核验失败",
                             "body": "{{ steps.check.error }}"}}]}},
            {"id": "after", "type": "notify.wecom", "params": {"text": "核验完成"}}]},
        "branching")
    sim.admin().post("/_sim/customs/faults", json={"status": 400, "times": 1})
    place(client, "T-2")
    settle(rules_hub)
    [run] = client.get("/api/v1/rule-runs", params={"rule": "branching"}).json()["items"]
    # The branch replaces the rest of the rule; the run says what failed.
    assert run["status"] == "succeeded" and "400" in run["last_error"]
    assert "T-2" in str(sim.requests("dingtalk")[0]["body"])
    assert len(sim.requests("smtp")) == 1
    assert sim.requests("wecom") == []


def test_a_schedule_fires_at_its_time_in_shanghai(rules_hub: Hub, client: TestClient,
                                                  sim: SimServer, clock: FakeClock) -> None:
    publish(rules_hub, {
        "name": "morning report", "trigger": {"kind": "schedule", "cron": "0 9 * * *"},
        "actions": [{"id": "say", "type": "notify.dingtalk",
                     "params": {"text": "早上好 {{ now.date }}"}}]}, "morning")
    # The clock starts at 02:00 UTC = 10:00 in Shanghai: the next 09:00 is tomorrow, 01:00 UTC.
    clock.advance(hours=22, minutes=59)
    settle(rules_hub)
    assert client.get("/api/v1/rule-runs", params={"rule": "morning"}).json()["items"] == []
    clock.advance(minutes=2)
    settle(rules_hub)
    [run] = client.get("/api/v1/rule-runs", params={"rule": "morning"}).json()["items"]
    assert run["trigger_kind"] == "schedule" and run["status"] == "succeeded"
    assert "2026-11-27" in str(sim.requests("dingtalk")[-1]["body"])
    clock.advance(hours=24)
    settle(rules_hub)
    assert len(client.get("/api/v1/rule-runs", params={"rule": "morning"}).json()["items"]) == 2


def test_a_rule_reacts_to_stock_falling_below_its_threshold(
        rules_hub: Hub, client: TestClient, sim: SimServer) -> None:
    from integration.test_inventory import setup_stock

    publish(rules_hub, {
        "name": "low stock alarm", "trigger": {"kind": "event", "event": "inventory.low"},
        "conditions": {"all": [{"field": "event.payload.available", "op": "lte", "value": 2,
                                "type": "number"}]},
        "actions": [{"id": "alarm", "type": "notify.dingtalk", "params": {
            "text": "库存告警 {{ event.payload.sku }} @ {{ event.payload.source }}: "
                    "剩 {{ event.payload.available }}"}}]}, "low-stock")
    setup_stock(client)  # NB holds 3 DIAPER-L, threshold 2
    order_id = place(client, "L-1")  # two DIAPER-L
    paid = client.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "shopee",
        "occurred_at": "2026-11-26T10:05:00+08:00"})
    assert paid.status_code == 201, paid.text
    settle(rules_hub)
    [run] = client.get("/api/v1/rule-runs", params={"rule": "low-stock"}).json()["items"]
    assert run["status"] == "succeeded" and run["order_id"] is None
    assert "库存告警 DIAPER-L @ NB: 剩 1" in str(sim.requests("dingtalk")[-1]["body"])


def test_a_claimed_gift_tags_the_buyer_high_intent_in_the_crm(
        rules_hub: Hub, client: TestClient, sim: SimServer) -> None:
    from integration.test_inventory import setup_stock

    rules_hub.rules.install_template("promotion-high-intent", "ops", enable=True)
    setup_stock(client)
    client.put("/api/v1/inventory/levels", json={"source_event_id": "gifts", "levels": [
        {"source": "NB", "sku": "BIB", "on_hand": 10}]})
    promotion = client.post("/api/v1/promotions", json={
        "name": "直播间前5单送围兜", "trigger_sku": "DIAPER-L", "gift_sku": "BIB",
        "gift_source": "NB", "quota": 5}).json()
    client.post(f"/api/v1/promotions/{promotion['id']}/start")
    order_id = place(client, "G-1")
    settle(rules_hub)
    order = client.get(f"/api/v1/orders/{order_id}").json()
    assert order["gifts"][0]["sku"] == "BIB" and "直播赠品" in order["tags"]
    [push] = sim.requests("crm")
    assert push["body"]["tags"] == ["高意向"]
