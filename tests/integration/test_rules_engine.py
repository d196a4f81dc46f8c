"""The rules engine through the API and the runner: refusals at save, retries with backoff,
visible failures and replay, versions pinned per run, loop protection, timeouts, backtest,
YAML import; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import FakeClock
from integration.rules_support import place, publish, settle
from orderpilot.adapters.rule_files import RuleFileError
from orderpilot.bootstrap import Hub
from orderpilot.services.rules.files import import_rule_files
from orderpilot.simulators.external.server import SimServer

CHECK = {"id": "check", "type": "http.call",
         "params": {"connector": "customs", "path": "/api/qualification/check",
                    "body": {"phone": "{{ order.customer.phone }}"},
                    "output": {"qualified": "qualified"}},
         "on_error": {"retries": 2, "backoff_seconds": 10, "then": "fail"}}


def rule(actions: list[dict[str, Any]], event: str = "order.placed",
         **conditions: Any) -> dict[str, Any]:
    return {"name": "test rule", "trigger": {"kind": "event", "event": event},
            "conditions": conditions or {"all": []}, "actions": actions}


def runs(client: TestClient, **filters: Any) -> list[dict[str, Any]]:
    return list(client.get("/api/v1/rule-runs", params=filters).json()["items"])


def test_a_bad_rule_is_refused_with_every_problem_named(client: TestClient,
                                                         tokens: Any = None) -> None:
    answer = client.post("/api/v1/rules", json={"definition": rule(
        [{"id": "s", "type": "sms.send", "params": {"template": "NOPE"}},
         {"id": "h", "type": "http.call", "params": {"url": "https://evil.example.com/x"}}],
        all=[{"field": "order.total", "op": "gt", "value": "lots"}])})
    assert answer.status_code == 422
    error = answer.json()["error"]
    fields = {d["field"] for d in error["details"]}
    assert {"conditions.all[0].value", "actions[0].params.template",
            "actions[1].params.url"} <= fields
    assert "evil.example.com" in str(error["details"])
    assert client.get("/api/v1/rules").json()["items"] == []


def test_transient_failures_retry_with_backoff_then_succeed(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock) -> None:
    publish(rules_hub, rule([CHECK]), "check-all")
    sim.admin().post("/_sim/customs/faults", json={"status": 503, "times": 2})
    place(client, "R-1")
    settle(rules_hub)
    [run] = runs(client)
    assert run["status"] == "pending" and run["attempts"] == 1
    clock.advance(seconds=11)
    settle(rules_hub)
    assert runs(client)[0]["attempts"] == 2
    clock.advance(seconds=21)
    settle(rules_hub)
    detail = client.get(f"/api/v1/rule-runs/{run['id']}").json()
    assert detail["status"] == "succeeded"
    assert [a["status"] for a in detail["attempts_detail"]] == ["retry", "retry", "ok"]
    assert len(sim.requests("customs")) == 1


def test_a_4xx_fails_the_step_visibly_and_replay_finishes_it(
        rules_hub: Hub, client: TestClient, sim: SimServer) -> None:
    publish(rules_hub, rule([CHECK, {"id": "tag", "type": "order.tag",
                                     "params": {"tags": ["checked"]}}]), "check-tag")
    sim.admin().post("/_sim/customs/faults", json={"status": 422, "times": 1})
    order_id = place(client, "R-2")
    settle(rules_hub)
    [run] = runs(client, status="failed")
    assert "422" in (run["last_error"] or "") or run["last_error"]
    replayed = client.post("/api/v1/rule-runs/replay", json={"run_ids": [run["id"]]})
    assert replayed.status_code == 201
    settle(rules_hub)
    assert [r["status"] for r in runs(client)] == ["succeeded", "failed"]
    assert "checked" in client.get(f"/api/v1/orders/{order_id}").json()["tags"]


def test_runs_stay_on_their_version_and_rollback_makes_a_new_one(
        rules_hub: Hub, client: TestClient) -> None:
    rule_id = publish(rules_hub, rule([{"id": "t", "type": "order.tag",
                                        "params": {"tags": ["v1"]}}]), "versions")
    order_id = place(client, "R-3")
    rules_hub.dispatcher("d").run_once()  # the run is recorded on version 1...
    rules_hub.rules.save_draft(rule_id, rule([{"id": "t", "type": "order.tag",
                                               "params": {"tags": ["v2"]}}]), "ops")
    rules_hub.rules.publish(rule_id, "ops", "v2")  # ...then version 2 is published
    settle(rules_hub)
    assert "v1" in client.get(f"/api/v1/orders/{order_id}").json()["tags"]
    detail = client.post(f"/api/v1/rules/{rule_id}/rollback",
                         json={"version": 1, "reason": "v2 was wrong"}).json()
    assert detail["published_version"] == 3
    assert detail["versions"][0]["diff"] == [
        {"path": "actions[0].params.tags[0]", "before": "v2", "after": "v1"}]
    assert [a["action"] for a in detail["audit"]][:2] == ["rolled_back", "published"]


def test_rules_that_trigger_each_other_stop_at_the_depth_limit(
        rules_hub: Hub, client: TestClient) -> None:
    publish(rules_hub, rule([{"id": "t", "type": "order.tag",
                              "params": {"tags": ["{{ run.id }}"]}}],
                            event="order.tagged"), "loop")
    publish(rules_hub, rule([{"id": "t", "type": "order.tag", "params": {"tags": ["start"]}}]),
            "starter")
    place(client, "R-4")
    settle(rules_hub, rounds=30)
    statuses = [r["status"] for r in runs(client, rule="loop")]
    assert "skipped" in statuses
    skipped = runs(client, rule="loop", status="skipped")[0]
    assert "loop protection" in skipped["last_error"]


def test_timeout_fires_unless_the_other_event_came(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock) -> None:
    rules_hub.rules.install_template("unpaid-30min-reminder", "ops", enable=True)
    unpaid = place(client, "R-5", channel="youzan")
    paid = place(client, "R-6", channel="youzan")
    settle(rules_hub)
    client.post(f"/api/v1/orders/{paid}/events", json={
        "type": "payment.succeeded", "source": "youzan",
        "occurred_at": "2026-11-26T10:05:00+08:00"})
    settle(rules_hub)
    clock.advance(minutes=31)
    settle(rules_hub)
    reminded = [r["order_id"] for r in runs(client, status="succeeded")]
    assert reminded == [unpaid]
    assert len(sim.requests("aliyun-sms")) == 1
    assert "已催付" in client.get(f"/api/v1/orders/{unpaid}").json()["tags"]


def test_backtest_counts_without_side_effects(rules_hub: Hub, client: TestClient) -> None:
    for n in range(3):
        place(client, f"R-7{n}", total="258.00")
    place(client, "R-80", lines=[{"sku": "X", "quantity": 1, "unit_price": "900.00"}],
          total="900.00")
    definition = rule([{"id": "h", "type": "order.hold", "params": {"reason": "big"}}],
                      all=[{"field": "order.total", "op": "gt", "value": 500}])
    result = client.post("/api/v1/rules/backtest", json={"definition": definition,
                                                        "days": 7}).json()
    assert (result["events_examined"], result["matched"]) == (4, 1)
    assert result["actions"] == {"order.hold": 1}
    assert runs(client) == []


def test_tickets_are_listed_by_order_and_moved_along(rules_hub: Hub, client: TestClient) -> None:
    publish(rules_hub, rule([{"id": "t", "type": "ticket.create",
                              "params": {"title": "看看 {{ order.external_id }}",
                                         "priority": "urgent", "tags": ["测试"]}}]), "tickets")
    order_id = place(client, "R-9")
    settle(rules_hub)
    [ticket] = client.get("/api/v1/tickets", params={"order_id": order_id}).json()["items"]
    assert (ticket["title"], ticket["priority"], ticket["status"]) == ("看看 R-9", "urgent", "open")
    moved = client.patch(f"/api/v1/tickets/{ticket['id']}", json={"status": "resolved"})
    assert moved.json()["status"] == "resolved"
    assert client.patch(f"/api/v1/tickets/{ticket['id']}",
                        json={"status": "lost"}).status_code == 422


def test_the_api_refuses_a_ticket_move_its_state_does_not_allow(
        rules_hub: Hub, client: TestClient) -> None:
    publish(rules_hub, rule([{"id": "t", "type": "ticket.create",
                              "params": {"title": "看看 {{ order.external_id }}"}}]), "tickets")
    order_id = place(client, "R-10")
    settle(rules_hub)
    [ticket] = client.get("/api/v1/tickets", params={"order_id": order_id}).json()["items"]
    url = f"/api/v1/tickets/{ticket['id']}"
    refused = client.patch(url, json={"status": "closed"})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "illegal_transition" and error["field"] == "status"
    assert "open" in error["message"] and "closed" in error["message"]
    [still] = client.get("/api/v1/tickets", params={"order_id": order_id}).json()["items"]
    assert (still["status"], still["updated_at"]) == ("open", ticket["updated_at"])
    assert client.patch(url, json={"status": "open"}).status_code == 409
    assert client.patch(url, json={"status": "in_progress"}).json()["status"] == "in_progress"
    assert client.patch(url, json={"status": "open"}).status_code == 409
    assert client.patch("/api/v1/tickets/nope", json={"status": "open"}).status_code == 404


def test_yaml_import_names_file_line_and_field(rules_hub: Hub, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("key: big-orders\nname: 大单\ntrigger:\n  event: order.placed\n"
                    "actions:\n- id: h\n  type: order.hold\n  params:\n    reason: big\n",
                    encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: broken\nname: x\ntrigger:\n  event: order.placed\nconditions:\n"
                   "  all:\n  - field: order.total\n    op: gt\n    value: lots\n"
                   "actions:\n- type: order.tag\n  params: {tags: [a]}\n", encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        import_rule_files(rules_hub.rules, [good, bad], "ops")
    assert str(caught.value).startswith("bad.yaml:9 conditions.all[0].value")
    with rules_hub.uow() as uow:
        assert uow.rules.listing() == []  # nothing was written
    assert import_rule_files(rules_hub.rules, [good], "ops") == [("big-orders", "created")]
    assert import_rule_files(rules_hub.rules, [good], "ops") == [("big-orders", "unchanged")]
