"""Named actions and their outcome branches through the API and the runner: 海关资质核验 called
once per order with retries, 如果核验不通过 run exactly once and shown in run history, a
transport failure taking the failure branch instead, backtest counts that follow the branch,
overlap on publish with "keep both", templates with answers, amounts in a currency; on
SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import FakeClock, order_body
from integration.rules_support import settle
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.currency_rates import CurrencyRates
from orderpilot.domain.rules.templates import TEMPLATE_BY_ID
from orderpilot.simulators.external.server import SimServer

S4_ID = "bonded-zone-customs-check"
S4: dict[str, Any] = TEMPLATE_BY_ID[S4_ID].definition
QUALIFIED = "13900000001"


def paid_bonded_order(client: TestClient, external_id: str, phone: str,
                      total: str = "600.00", currency: str = "CNY") -> str:
    body = order_body(external_id, channel="youzan", total=total, currency=currency,
                      customer={"name": "李四", "phone": phone},
                      lines=[{"sku": "MILK-900", "quantity": 1, "unit_price": total}])
    order_id: str = client.post("/api/v1/orders", json=body).json()["id"]
    paid = client.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "youzan", "source_event_id": f"pay-{external_id}",
        "occurred_at": "2026-11-26T10:01:00+08:00", "data": {"amount": total}})
    assert paid.status_code in (200, 201), paid.text
    return order_id


def from_template(client: TestClient, **body: Any) -> Any:
    return client.post(f"/api/v1/rules/templates/{S4_ID}/draft", json=body)


def publish_s4(client: TestClient, **answers: Any) -> dict[str, Any]:
    answer = from_template(client, answers=answers, publish=True, enable=True)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def run_of(client: TestClient, order_id: str) -> dict[str, Any]:
    [run] = client.get("/api/v1/rule-runs", params={"order_id": order_id}).json()["items"]
    return dict(client.get(f"/api/v1/rule-runs/{run['id']}").json())


def rule_holds(client: TestClient, order_id: str) -> list[str]:
    holds = client.get(f"/api/v1/orders/{order_id}").json()["holds"]
    return [h["reason"] for h in holds if h["placed_by_kind"] == "rule"]


def test_not_qualified_runs_its_branch_exactly_once_and_run_history_shows_it(
        rules_hub: Hub, client: TestClient, sim: SimServer) -> None:
    publish_s4(client)
    sim.admin().post("/_sim/customs/qualified", json={"phone": QUALIFIED})
    refused = paid_bonded_order(client, "OUT-1", "13800000002")
    passed = paid_bonded_order(client, "OUT-2", QUALIFIED)
    settle(rules_hub)
    settle(rules_hub)  # delivering again changes nothing

    assert sorted(r["body"]["phone"] for r in sim.requests("customs")) == \
        ["13800000002", QUALIFIED]
    run = run_of(client, refused)
    assert rule_holds(client, refused) == ["qualification_pending"], run
    assert rule_holds(client, passed) == []
    assert len(sim.requests("aliyun-sms")) == 1
    assert len(client.get("/api/v1/tickets", params={"order_id": refused}).json()["items"]) == 1

    assert run["status"] == "succeeded"
    assert run["branches"] == [{"step": "check", "kind": "outcome", "outcome": "not_qualified",
                                "zh": "核验不通过", "en": "Not qualified"}]
    assert run["outputs"]["check"]["qualified"] is False
    assert [(a["step_no"], a["action"]) for a in run["attempts_detail"]] == [
        (0, "customs.check_qualification"), (101000, "order.hold"), (101001, "sms.send"),
        (101002, "ticket.create")]
    other = run_of(client, passed)
    assert other["status"] == "succeeded" and other["branches"] == []
    assert [a["action"] for a in other["attempts_detail"]] == ["customs.check_qualification"]


def test_a_transport_failure_retries_and_the_answer_still_decides_the_branch(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock) -> None:
    publish_s4(client)
    sim.admin().post("/_sim/customs/faults", json={"status": 503, "times": 2})
    order_id = paid_bonded_order(client, "OUT-3", "13800000003")
    for _ in range(4):
        settle(rules_hub)
        clock.advance(minutes=1)
    run = run_of(client, order_id)
    assert run["status"] == "succeeded"
    assert [a["status"] for a in run["attempts_detail"]][:3] == ["retry", "retry", "ok"]
    assert len(sim.requests("customs")) == 1  # answered once, whatever the retries
    assert rule_holds(client, order_id) == ["qualification_pending"]
    assert len(sim.requests("aliyun-sms")) == 1


class Killed(BaseException):
    """Stands in for kill -9 at a point of the call: nothing after it runs."""


def test_a_runner_killed_after_the_answer_asks_again_with_the_same_key_and_branches_once(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock) -> None:
    publish_s4(client)
    order_id = paid_bonded_order(client, "OUT-5", "13800000005")
    rules_hub.dispatcher("t").run_once()
    doomed = rules_hub.runner("doomed")

    def stop(at: str) -> None:
        if at == "outside_call.answered":
            raise Killed(at)

    doomed.settings.stop_at = stop
    with pytest.raises(Killed):  # customs answered; the answer was never recorded
        doomed.run_once()
    clock.advance(seconds=121)  # the stopped runner's lease runs out
    settle(rules_hub)

    [check] = sim.requests("customs")  # one check at customs: the key made the repeat one
    assert check["deliveries"] == 2
    run = run_of(client, order_id)
    assert run["status"] == "succeeded" and len(run["branches"]) == 1
    assert rule_holds(client, order_id) == ["qualification_pending"]
    assert len(sim.requests("aliyun-sms")) == 1
    assert len(client.get("/api/v1/tickets", params={"order_id": order_id}).json()["items"]) == 1


def test_a_refused_call_takes_the_failure_branch_not_the_outcome_branch(
        rules_hub: Hub, client: TestClient, sim: SimServer) -> None:
    definition = {
        "name": "check or flag", "trigger": {"kind": "event", "event": "payment.succeeded"},
        "conditions": {"all": []},
        "actions": [{"id": "check", "type": "customs.check_qualification",
                     "on_error": {"retries": 0, "then": "branch", "branch": [
                         {"id": "flag", "type": "order.tag",
                          "params": {"tags": ["customs_down"]}}]},
                     "on_outcome": {"not_qualified": [
                         {"id": "freeze", "type": "order.hold",
                          "params": {"reason": "qualification_pending"}}]}}]}
    answer = client.post("/api/v1/rules", json={"definition": definition, "publish": True})
    assert answer.status_code == 201, answer.text
    assert answer.json()["warnings"] == []  # both ways handled: nothing to warn about
    sim.admin().post("/_sim/customs/faults", json={"status": 422, "times": 1})
    order_id = paid_bonded_order(client, "OUT-4", "13800000004")
    settle(rules_hub)
    run = run_of(client, order_id)
    assert run["branches"] == [{"step": "check", "kind": "on_error"}]
    assert "customs_down" in client.get(f"/api/v1/orders/{order_id}").json()["tags"]
    assert rule_holds(client, order_id) == []


def test_on_failure_alone_is_saved_with_a_warning_that_names_the_step(
        client: TestClient) -> None:
    definition = {**S4, "actions": [{"id": "check", "type": "customs.check_qualification",
                                     "on_error": {"then": "branch", "branch": [
                                         {"id": "freeze", "type": "order.hold",
                                          "params": {"reason": "qualification_pending"}}]}}]}
    checked = client.post("/api/v1/rules/validate", json=definition).json()
    [warning] = checked["warnings"]
    assert warning["code"] == "on_error_misses_refusal" and warning["step"] == "check"
    assert "核验不通过" in warning["message_zh"]
    saved = client.post("/api/v1/rules", json={"definition": definition})
    assert saved.status_code == 201 and saved.json()["warnings"][0]["step"] == "check"


def test_backtest_predicts_exactly_the_not_qualified_orders(
        rules_hub: Hub, client: TestClient, sim: SimServer) -> None:
    rules_hub.rules.ensure_default_sms_templates()
    sim.admin().post("/_sim/customs/qualified", json={"phone": QUALIFIED})
    paid_bonded_order(client, "BT-1", "13800000011")
    paid_bonded_order(client, "BT-2", "13800000012")
    paid_bonded_order(client, "BT-3", QUALIFIED)
    paid_bonded_order(client, "BT-4", "13800000014", total="300.00")  # under 500
    answer = client.post("/api/v1/rules/backtest", json={"definition": S4, "days": 7})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["matched"] == 3
    assert result["actions"] == {"customs.check_qualification": 3, "order.hold": 2,
                                 "sms.send": 2, "ticket.create": 2}
    assert result["outcomes"] == {"check.not_qualified": 2} and result["unknown"] == 0
    sms = next(s for s in result["steps"] if s["type"] == "sms.send")
    assert sms == {"id": "notify", "type": "sms.send", "zh": sms["zh"], "en": sms["en"],
                   "branch": "check.not_qualified", "count": 2}
    assert sim.requests("aliyun-sms") == []  # a backtest only asks; it does nothing
    assert client.get("/api/v1/tickets").json()["items"] == []


def test_publishing_a_duplicate_names_the_other_rule_until_confirmed(
        rules_hub: Hub, client: TestClient) -> None:
    first = publish_s4(client)
    again = from_template(client, publish=True, enable=True)
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "rule_overlap" and error["field"] == "confirm_overlap"
    [other] = error["details"]
    assert other["key"] == first["key"] and other["rule_id"] == first["id"]
    assert {e["type"] for e in other["shared_effects"]} >= {"order.hold", "sms.send"}
    assert first["name"] in error["message_zh"]
    assert len(client.get("/api/v1/rules").json()["items"]) == 1  # nothing was made

    draft = client.post("/api/v1/rules", json={"definition": S4, "key": "s4-copy"}).json()
    refused = client.post(f"/api/v1/rules/{draft['id']}/publish", json={"reason": "copy"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "rule_overlap"
    kept = client.post(f"/api/v1/rules/{draft['id']}/publish",
                       json={"reason": "both on purpose", "confirm_overlap": True})
    assert kept.status_code == 200 and kept.json()["published_version"] == 1
    confirmed = [a for a in kept.json()["audit"] if a["action"] == "overlap_confirmed"]
    assert confirmed[0]["detail"]["overlaps"] == [
        {"rule_id": first["id"], "key": first["key"], "name": first["name"]}]

    elsewhere = from_template(client, answers={"channel": "shopee"}, publish=True)
    assert elsewhere.status_code == 201  # another source: the rules never meet


def test_templates_list_their_blanks_and_answers_fill_the_rule(client: TestClient) -> None:
    items = {t["id"]: t for t in client.get("/api/v1/rules/templates").json()["items"]}
    blanks = {b["id"]: b for b in items[S4_ID]["blanks"]}
    assert blanks["amount"]["default"] == 500 and blanks["currency"]["default"] == "CNY"
    assert "SGD" in blanks["currency"]["choices"] and blanks["channel"]["kind"] == "source"
    made = from_template(client, answers={"amount": 800, "currency": "SGD"}, name="新加坡大额")
    assert made.status_code == 201 and made.json()["status"] == "draft"
    assert made.json()["draft"]["conditions"]["all"][0] == {
        "field": "order.total", "op": "gt", "value": 800, "currency": "SGD"}
    assert made.json()["name"] == "新加坡大额"
    bad = from_template(client, answers={"amount": "lots"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "answers.amount"
    assert bad.json()["error"]["message_zh"].count("金额超过") == 1


def test_amounts_in_other_currencies_convert_and_a_missing_rate_says_why(
        rules_hub: Hub, client: TestClient) -> None:
    rules_hub.rules.book.rates = CurrencyRates({"SGD": Decimal("5.30")})
    catalogue = client.get("/api/v1/rules/catalogue").json()
    assert catalogue["currency_rates"] == {"base": "CNY", "rates": {"SGD": "5.3"}}
    check = next(a for a in catalogue["actions"]
                 if a["type"] == "customs.check_qualification")
    assert check["outcomes"][0]["zh"] == "核验不通过" and check["reports_refusals"] is True
    assert all(p["prefilled"] for p in check["params"])
    publish_s4(client)
    sgd = paid_bonded_order(client, "CUR-1", "13800000021", total="100.00", currency="SGD")
    myr = paid_bonded_order(client, "CUR-2", "13800000022", total="9000.00", currency="MYR")
    settle(rules_hub)
    run = run_of(client, sgd)
    leaf = run["trace"]["leaves"][0]
    assert leaf["actual"] == 530 and leaf["converted_from"] == "SGD" and leaf["rate"] == "5.3"
    assert client.get("/api/v1/rule-runs", params={"order_id": myr}).json()["items"] == []
    tried = client.post("/api/v1/rules/try", json={"definition": S4, "order_id": myr,
                                                  "event_type": "payment.succeeded"}).json()
    assert tried["matched"] is False
    assert tried["trace"]["leaves"][0]["note_zh"] == "未设置 MYR 到 CNY 的汇率，此条件不成立"
    backtest = client.post("/api/v1/rules/backtest", json={"definition": S4}).json()
    assert backtest["missing_rates"] == {"MYR->CNY": 1} and backtest["matched"] == 1


def test_the_administrators_rates_reach_the_rule_book(tmp_path: Path) -> None:
    hub = bootstrap(Settings(data_dir=tmp_path / "data", _env_file=None,  # type: ignore[call-arg]
                             currency_rates={"SGD": "5.30", "MYR": "1.55"}))
    try:
        assert hub.rules.book.rates.rate("SGD", "CNY") == Decimal("5.30")
        assert hub.rules.book.rates.dump() == {"base": "CNY",
                                               "rates": {"MYR": "1.55", "SGD": "5.3"}}
    finally:
        hub.close()
