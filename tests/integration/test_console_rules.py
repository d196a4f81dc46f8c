"""The rule builder in the console through TestClient, on SQLite and PostgreSQL: the S4 rule
built by form posts, problems shown next to their fields, try, publish and rollback."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from integration.rules_support import publish, rules_hub, settle, sim
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.adapters.views import rules as reads
from orderpilot.bootstrap import Hub
from orderpilot.domain.commands import LineInput, PlaceOrder, ReportEvent
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services import ordering
from orderpilot.services.accounts import create_user
from orderpilot.simulators.external.server import SimServer
from rule_samples import S4_BY_HTTP_CALL

__all__ = ["rules_hub", "sim"]  # fixtures

PASSWORD = "correct-horse-42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# The generic-call S4 the form rebuilds field by field; the form's amounts are in CNY unless
# another currency is picked.
S4 = copy.deepcopy(S4_BY_HTTP_CALL)
S4["conditions"]["all"][0]["currency"] = "CNY"
HTMX = {"HX-Request": "true"}

S4_FORM: dict[str, Any] = {
    "name": "保税区资质核验(控制台)", "trigger_kind": "event",
    "trigger_event": "payment.succeeded", "trigger_sources": "youzan", "cond_mode": "all",
    "c0-field": "order.total", "c0-was": "order.total", "c0-op": "gt", "c0-value": "500",
    "c1-field": "order.address.flags", "c1-was": "order.address.flags", "c1-op": "has",
    "c1-value": "bonded_zone",
    "a0-type": "http.call", "a0-id": "check", "a0-p-method": "POST",
    "a0-p-connector": "customs", "a0-p-path": "/api/qualification/check",
    "a0-m-output-0-k": "qualified", "a0-m-output-0-v": "qualified",
    "a0-retries": "5", "a0-backoff": "10", "a0-then": "fail",
    "a1-type": "order.hold", "a1-id": "freeze", "a1-p-reason": "qualification_pending",
    "a1-if-step": "check", "a1-if-output": "qualified", "a1-if-test": "is_false",
    "a2-type": "sms.send", "a2-id": "notify", "a2-p-template": "SMS_QUAL_UPLOAD",
    "a2-m-params-0-k": "order_no", "a2-m-params-0-v": "{{ order.external_id }}",
    "a2-if-step": "check", "a2-if-output": "qualified", "a2-if-test": "is_false",
    "a3-type": "ticket.create", "a3-id": "ticket", "a3-p-title": "资质待核验",
    "a3-p-priority": "high", "a3-p-tags": "资质待核验",
    "a3-if-step": "check", "a3-if-output": "qualified", "a3-if-test": "is_false",
}


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with hub.db.write() as conn:
        for role in ("ops", "viewer"):
            create_user(AccountRepository(conn), role, PASSWORD, role, hub.clock)
    hub.rules.ensure_default_sms_templates()
    with TestClient(create_app(hub), follow_redirects=False) as c:
        yield c


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    token = CSRF.search(client.get("/console/login").text)
    assert token
    client.post("/console/login", data={"username": username, "password": PASSWORD,
                                        "csrf_token": token.group(1)})
    found = CSRF.search(client.get("/console").text)
    assert found
    return {**HTMX, "X-CSRF-Token": found.group(1)}


def in_english(client: TestClient, headers: dict[str, str]) -> None:
    client.post("/console/locale", data={"locale": "en", "next": "/console",
                                         "csrf_token": headers["X-CSRF-Token"]})


def place(hub: Hub, external_id: str, total: str, line1: str,
          phone: str = "13600003333") -> str:
    cmd = PlaceOrder(channel="youzan", shop_id="yz-main", external_id=external_id,
                     placed_at=datetime(2026, 11, 26, 1, 0, tzinfo=UTC), currency="CNY",
                     customer_name="刘洋", customer_phone=phone,
                     address={"country": "CN", "province": "浙江省", "city": "宁波市",
                              "district": "北仑区", "line1": line1, "postal_code": "315800"},
                     lines=(LineInput("SKU-MILK-01", 1, total, "奶粉"),), total=total,
                     shipping_fee="0.00", tags=(), raw_payload={}, raw_source="youzan",
                     raw_version="v1")
    return ordering.place_order(cmd, hub.uow, hub.clock).order_id


def detail(hub: Hub, rule_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        found = reads.rule_detail(conn, rule_id)
    assert found is not None
    return found


def essentials(definition: dict[str, Any]) -> dict[str, Any]:
    return {"trigger": definition["trigger"], "conditions": definition["conditions"],
            "actions": [(a["type"], a.get("if")) for a in definition["actions"]]}


def create(client: TestClient, headers: dict[str, str], form: dict[str, Any]) -> str:
    response = client.post("/console/rules/new", data=form, headers=headers)
    assert response.status_code == 200, response.text
    match = re.match(r"^/console/rules/([^/?]+)\?done=created$", response.headers["HX-Redirect"])
    assert match
    return match.group(1)


def test_ops_build_the_s4_rule_try_it_publish_and_roll_back(hub: Hub,
                                                           client: TestClient) -> None:
    headers = sign_in(client, "ops")
    page = client.get("/console/rules/new")
    assert page.status_code == 200 and "地址标记" in page.text and "订单金额" in page.text
    # Picking a field redraws its row with the operators of its type and a fitting value input.
    row = client.post("/console/rules/form", headers=headers, data={
        "c0-field": "order.address.flags", "c0-was": "", "row": "0"})
    assert 'value="has"' in row.text and 'value="gt"' not in row.text
    assert '<option value="bonded_zone"' in row.text and "保税区" in row.text
    added = client.post("/console/rules/form", headers=headers,
                        data={**S4_FORM, "do": "add-action", "new_action_type": "crm.tag"})
    assert 'name="a4-type" value="crm.tag"' in added.text

    rule_id = create(client, headers, S4_FORM)
    rule = detail(hub, rule_id)
    assert rule["status"] == "draft" and essentials(rule["draft"]) == essentials(S4)
    assert rule["draft"]["actions"][0]["params"]["output"] == {"qualified": "qualified"}

    bonded = place(hub, "YZ-BONDED-1", "688.00", "北仑区综合保税区1号楼")
    small = place(hub, "YZ-SMALL-1", "88.00", "鄞州区天童南路1号")
    tried = client.post("/console/rules/try", headers=headers,
                        data={**S4_FORM, "try_order": "YZ-BONDED-1"})
    assert tried.text.count('data-result="true"') == 2 and "would-run" in tried.text
    tried = client.post("/console/rules/try", headers=headers,
                        data={**S4_FORM, "try_order": small})
    assert tried.text.count('data-result="false"') == 2 and "would-run" not in tried.text
    assert bonded

    published = client.post(f"/console/rules/{rule_id}/publish", headers=headers,
                            data={**S4_FORM, "publish_reason": "first version"})
    assert published.headers["HX-Redirect"].endswith("?done=published")
    changed = {**S4_FORM, "c0-value": "800"}
    client.post(f"/console/rules/{rule_id}/publish", headers=headers,
                data={**changed, "publish_reason": "raise the bar"})
    rule = detail(hub, rule_id)
    assert (rule["status"], rule["published_version"]) == ("enabled", 2)
    assert rule["definition"]["conditions"]["all"][0]["value"] == 800
    page = client.get(f"/console/rules/{rule_id}").text
    assert "raise the bar" in page and "条件 1 · 值" in page  # the diff, in words
    assert 'value="800"' in page

    back = client.post(f"/console/rules/{rule_id}/rollback", headers=headers,
                       data={"version": "1", "reason": "too strict"})
    assert back.headers["HX-Redirect"].endswith("?done=rolled_back")
    rule = detail(hub, rule_id)
    assert rule["published_version"] == 3
    assert rule["definition"]["conditions"]["all"][0]["value"] == 500
    assert [a["action"] for a in rule["audit"]][0] == "rolled_back"

    paused = client.post(f"/console/rules/{rule_id}/status", headers=headers,
                         data={"status": "paused"})
    assert paused.status_code == 200 and detail(hub, rule_id)["status"] == "paused"
    listing = client.get("/console/rules").text
    assert "保税区资质核验(控制台)" in listing and "bonded-zone-customs-check" in listing


def test_problems_are_shown_next_to_their_fields(hub: Hub, client: TestClient) -> None:
    headers = sign_in(client, "ops")
    in_english(client, headers)  # the Chinese texts: the next test
    bad = {**S4_FORM, "c0-value": "lots", "a2-p-template": "SMS_NOT_THERE",
           "a0-p-connector": "", "a0-p-path": "", "a0-p-url": "https://evil.example/steal"}
    response = client.post("/console/rules/new", headers=headers, data=bad)
    assert response.status_code == 422
    text = response.text
    assert 'data-testid="problems"' in text
    assert "&#39;lots&#39; is not a number" in text or "'lots' is not a number" in text
    assert "SMS_NOT_THERE" in text and "is not registered" in text
    assert "not on the outbound allow-list" in text
    # Each message sits in the row or parameter it belongs to.
    row = text.split('data-row="0"', 1)[1].split('data-row="1"', 1)[0]
    assert "is not a number" in row
    sms = text.split('data-param="template"', 1)[1].split("</div>", 2)
    assert "is not registered" in "".join(sms[:2])
    url = text.split('data-param="url"', 1)[1].split("</div>", 1)[0]
    assert "allow-list" in url


def test_the_chinese_console_shows_problems_in_chinese(hub: Hub, client: TestClient) -> None:
    headers = sign_in(client, "ops")
    bad = {**S4_FORM, "c0-value": "lots", "a2-p-template": "SMS_NOT_THERE"}
    text = client.post("/console/rules/new", headers=headers, data=bad).text
    row = text.split('data-row="0"', 1)[1].split('data-row="1"', 1)[0]
    assert "&#39;lots&#39; 不是数字" in row or "'lots' 不是数字" in row
    sms = "".join(text.split('data-param="template"', 1)[1].split("</div>", 2)[:2])
    assert "短信模板" in sms and "未登记" in sms
    assert "is not a number" not in text and "is not registered" not in text
    with hub.uow() as uow:
        assert uow.rules.listing() == []


def test_a_viewer_can_look_but_not_save_try_or_backtest(hub: Hub, client: TestClient) -> None:
    """Trying and backtesting run expressions on the hub: the rule authors' permission (issue
    8), like saving."""
    headers = sign_in(client, "viewer")
    page = client.get("/console/rules/new").text
    assert 'data-testid="save-draft"' not in page
    assert 'data-testid="try"' not in page and 'data-testid="backtest"' not in page
    assert "不能修改、试运行或回测" in page
    assert client.post("/console/rules/new", headers=headers, data=S4_FORM).status_code == 403
    order_id = place(hub, "YZ-VIEW-1", "688.00", "北仑区综合保税区1号楼")
    tried = client.post("/console/rules/try", headers=headers,
                        data={**S4_FORM, "try_order": order_id})
    assert tried.status_code == 403
    assert client.post("/console/rules/backtest", headers=headers,
                       data={**S4_FORM, "backtest_days": "7"}).status_code == 403
    assert client.post("/console/rules/templates/bonded-zone-customs-check/install",
                       headers=headers).status_code == 403
    client.cookies.clear()
    ops = sign_in(client, "ops")
    tried = client.post("/console/rules/try", headers=ops,
                        data={**S4_FORM, "try_order": order_id})
    assert tried.status_code == 200 and 'data-testid="verdict"' in tried.text


FAILOVER_FORM: dict[str, Any] = {
    "name": "海关核验失败转钉钉", "trigger_kind": "event", "trigger_event": "payment.succeeded",
    "trigger_sources": "youzan", "cond_mode": "all",
    "c0-field": "order.total", "c0-was": "order.total", "c0-op": "gt", "c0-value": "500",
    "a0-type": "http.call", "a0-id": "check", "a0-p-method": "POST",
    "a0-p-connector": "customs", "a0-p-path": "/api/qualification/check",
    "a0-m-output-0-k": "qualified", "a0-m-output-0-v": "qualified",
    "a0-retries": "2", "a0-backoff": "30", "a0-then": "branch",
}


def test_a_customs_call_fails_over_to_dingtalk_through_the_branch(hub: Hub,
                                                                   client: TestClient) -> None:
    headers = sign_in(client, "ops")
    # Choosing "run these actions instead" draws an empty branch with its own add button.
    chosen = client.post("/console/rules/form", headers=headers,
                         data={**FAILOVER_FORM, "do": "refresh"}).text
    assert 'data-testid="branch"' in chosen and "改为执行以下动作" in chosen
    assert 'name="a0-new-type"' in chosen and "a0b0-type" not in chosen
    added = client.post("/console/rules/form", headers=headers, data={
        **FAILOVER_FORM, "do": "add-action:0", "a0-new-type": "notify.dingtalk"}).text
    assert 'name="a0b0-type" value="notify.dingtalk"' in added
    assert 'name="a0b0-id" value="dingtalk"' in added and 'name="a0b0-p-text"' in added
    assert "幂等键" in added

    branch = {"a0b0-type": "notify.dingtalk", "a0b0-id": "alert", "a0b0-retries": "1",
              "a0b0-backoff": "5", "a0b0-then": "ignore",
              "a0b0-idem": "{{ order.id }}-customs-down"}
    # A problem inside the branch is shown in the branch action's own parameter.
    missing = client.post("/console/rules/new", headers=headers,
                          data={**FAILOVER_FORM, **branch, "a0b0-p-text": ""})
    assert missing.status_code == 422
    card = missing.text.split('data-slot="a0b0"', 1)[1]
    text = card.split('data-param="text"', 1)[1].split("</div>", 1)[0]
    assert "消息内容必填" in text
    summary = missing.text.split('data-field="actions[0].on_error.branch[0].params.text"', 1)[1]
    assert "步骤 1（调用接口） · 失败时 · 改为执行以下动作 · 步骤 1（钉钉群通知） · 消息内容" \
        in summary.split("</li>", 1)[0]  # the summary, in words
    in_english(client, headers)
    missing = client.post("/console/rules/new", headers=headers,
                          data={**FAILOVER_FORM, **branch, "a0b0-p-text": ""})
    card = missing.text.split('data-slot="a0b0"', 1)[1]
    text = card.split('data-param="text"', 1)[1].split("</div>", 1)[0]
    assert "Message is required" in text

    form = {**FAILOVER_FORM, **branch, "a0b0-p-text": "海关接口不可用：{{ order.external_id }}"}
    rule_id = create(client, headers, form)
    published = client.post(f"/console/rules/{rule_id}/publish", headers=headers,
                            data={**form, "publish_reason": "customs failover"})
    assert published.headers["HX-Redirect"].endswith("?done=published")
    rule = detail(hub, rule_id)
    assert (rule["status"], rule["published_version"]) == ("enabled", 1)
    (check,) = rule["definition"]["actions"]
    assert check["params"]["connector"] == "customs"
    assert check["on_error"] == {
        "retries": 2, "backoff_seconds": 30, "then": "branch", "branch": [
            {"id": "alert", "type": "notify.dingtalk",
             "params": {"text": "海关接口不可用：{{ order.external_id }}"},
             "on_error": {"retries": 1, "backoff_seconds": 5, "then": "ignore"},
             "idempotency_key": "{{ order.id }}-customs-down"}]}
    # The stored branch comes back into the form as editable fields.
    page = client.get(f"/console/rules/{rule_id}").text
    assert 'name="a0b0-p-text"' in page and 'value="{{ order.id }}-customs-down"' in page
    assert '<option value="branch" selected>' in page


CHECK_THEN_HOLD: dict[str, Any] = {
    "name": "保税区核验后冻结", "trigger": {"kind": "event", "event": "payment.succeeded"},
    "conditions": {"all": [{"field": "order.total", "op": "gt", "value": 500},
                           {"field": "order.address.flags", "op": "has",
                            "value": "bonded_zone"}]},
    "actions": [
        {"id": "check", "type": "http.call",
         "params": {"method": "POST", "connector": "customs",
                    "path": "/api/qualification/check",
                    "body": {"phone": "{{ order.customer.phone }}"},
                    "output": {"qualified": "qualified"}},
         "on_error": {"retries": 1, "backoff_seconds": 5, "then": "fail"}},
        {"id": "freeze", "type": "order.hold",
         "if": {"all": [{"field": "steps.check.qualified", "op": "is_false", "type": "bool"}]},
         "params": {"reason": "qualification_pending"}}]}


def table_rows(page: str, testid: str) -> list[dict[str, str]]:
    """The rows of a run page table, each cell by its data-col, tags stripped."""
    table = page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    rows = []
    for row in table.split("<tr")[2:]:
        cells = dict(re.findall(r'data-col="([a-z]+)"[^>]*>(.*?)</td>', row, re.S))
        rows.append({k: " ".join(re.sub(r"<[^>]+>", " ", v).split()) for k, v in cells.items()})
    return rows


@pytest.fixture
def run_pages(rules_hub: Hub, sim: SimServer) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Two runs of a check-then-hold rule: a buyer who is not qualified, one who is."""
    publish(rules_hub, CHECK_THEN_HOLD, "check-then-hold")
    rules_hub.rules.create_from_template("bonded-zone-customs-check", {"channel": "youzan"},
                                         "ops", publish=True, enable=True,
                                         confirm_overlap=True)
    sim.admin().post("/_sim/customs/qualified", json={"phone": "13900000001"})
    orders = {}
    for external_id, phone in (("RUN-NOT-1", "13800000002"), ("RUN-YES-1", "13900000001")):
        order_id = place(rules_hub, external_id, "600.00", "北仑区综合保税区1号楼", phone)
        ordering.report_event(ReportEvent(
            order_id, "payment.succeeded", "youzan", datetime(2026, 11, 26, 2, 0, tzinfo=UTC),
            f"pay-{external_id}"), rules_hub.uow, rules_hub.clock)
        orders[external_id] = order_id
    settle(rules_hub)
    with rules_hub.db.write() as conn:
        create_user(AccountRepository(conn), "ops", PASSWORD, "ops", rules_hub.clock)
    rules_hub.rules.ensure_default_sms_templates()
    with TestClient(create_app(rules_hub), follow_redirects=False) as c:
        yield c, orders


def run_of(client: TestClient, external_id: str, rule: str = "核验后冻结") -> str:
    """The run page of an order's run of a rule, found by the channel order number and the
    rule's name."""
    listing = client.get("/console/rule-runs", params={"order": external_id, "rule": rule}).text
    links = set(re.findall(r'href="(/console/rule-runs/[0-9a-f-]{36})"', listing))
    assert len(links) == 1, listing
    return client.get(links.pop()).text


def test_the_run_page_shows_each_condition_and_step_as_a_table_row(
        run_pages: tuple[TestClient, dict[str, str]]) -> None:
    client, _orders = run_pages
    sign_in(client, "ops")
    held = run_of(client, "RUN-NOT-1")
    conditions = table_rows(held, "condition-leaves")
    assert conditions[:2] == [
        {"field": "订单金额", "op": "大于", "expected": "500", "actual": "600", "result": "✓ 成立"},
        {"field": "地址标记", "op": "含标签", "expected": "保税区", "actual": "保税区",
         "result": "✓ 成立"}]
    assert conditions[2] == {"field": "调用接口（步骤 check）：资质合格", "op": "为否",
                             "expected": "—", "actual": "否", "result": "✓ 成立"}
    steps = table_rows(held, "steps")
    assert [(s["action"], s["branch"]) for s in steps] == [("调用接口", "主流程"),
                                                            ("冻结订单", "主流程")]
    assert held.count('data-state="done"') == 2
    assert "<details" in held and "http.call" not in held and "order.hold" not in held

    untouched = run_of(client, "RUN-YES-1")
    step_if = table_rows(untouched, "condition-leaves")[2]
    assert (step_if["actual"], step_if["result"]) == ("是", "✗ 不成立")
    assert 'data-state="skipped"' in untouched and "已跳过" in untouched

    in_english(client, {"X-CSRF-Token": CSRF.findall(client.get("/console").text)[0]})
    english = run_of(client, "RUN-NOT-1")
    first, _flag, step_if = table_rows(english, "condition-leaves")
    assert (first["field"], first["result"]) == ("Order total", "✓ holds")
    assert step_if["field"] == "Call an HTTP service (step check): Qualified"
    assert step_if["actual"] == "no" and "调用" not in english and "成立" not in english


def test_runs_are_found_by_order_number_and_rule_name(
        run_pages: tuple[TestClient, dict[str, str]]) -> None:
    client, orders = run_pages
    sign_in(client, "ops")
    by_number = client.get("/console/rule-runs", params={"order": "RUN-YES-1"}).text
    assert "RUN-YES-1" in by_number and "RUN-NOT-1" not in by_number
    by_id = client.get("/console/rule-runs", params={"order_id": orders["RUN-NOT-1"]}).text
    assert "RUN-NOT-1" in by_id and "RUN-YES-1" not in by_id
    by_name = client.get("/console/rule-runs", params={"rule": "核验后"}).text
    assert "RUN-NOT-1" in by_name and "RUN-YES-1" in by_name
    assert by_name.count('class="run-row') == 2  # not the S4 template's runs
    assert client.get("/console/rule-runs", params={"rule": "保税区大额"}).text.count(
        'class="run-row') == 2
    assert "RUN-NOT-1" not in client.get("/console/rule-runs", params={"rule": "别的规则"}).text
    assert "RUN-NOT-1" not in client.get("/console/rule-runs", params={"order": "NOPE-1"}).text


def test_the_run_page_shows_the_not_qualified_branch_taken_or_not(
        run_pages: tuple[TestClient, dict[str, str]]) -> None:
    client, _orders = run_pages
    sign_in(client, "ops")
    held_page = run_of(client, "RUN-NOT-1", "保税区大额订单资质核验")
    assert held_page.count('data-state="done"') == 4
    amount = table_rows(held_page, "condition-leaves")[0]
    assert (amount["expected"], amount["actual"]) == ("500 CNY", "600 CNY")
    held = table_rows(held_page, "steps")
    assert [(s["action"], s["branch"]) for s in held] == [
        ("海关资质核验", "主流程"), ("冻结订单", "步骤 1：如果核验不通过"),
        ("发送短信", "步骤 1：如果核验不通过"), ("创建客服工单", "步骤 1：如果核验不通过")]
    page = run_of(client, "RUN-YES-1", "保税区大额订单资质核验")
    assert page.count('data-state="not_taken"') == 3 and "未进入此分支" in page
    assert "customs.check_qualification" not in page and "not_qualified" not in page


def test_a_template_becomes_a_rule_from_a_few_answers(hub: Hub, client: TestClient) -> None:
    url = "/console/rules/templates/bonded-zone-customs-check"
    viewer = sign_in(client, "viewer")
    assert client.post(url, data={"answer-amount": "800", "publish": "yes"},
                       headers=viewer).status_code == 403
    client.cookies.clear()
    headers = {k: v for k, v in sign_in(client, "ops").items() if k != "HX-Request"}
    page = client.get(url).text
    assert 'name="answer-amount" value="500"' in page and "金额超过" in page
    assert '<option value="youzan" selected>有赞</option>' in page

    bad = client.post(url, headers=headers, data={"answer-amount": "lots", "publish": "yes"})
    assert bad.status_code == 422
    blank = bad.text.split('data-blank="amount"', 1)[1].split("</label>", 1)[0]
    assert "金额超过：应为 0 到 1000000000 之间的数字" in blank
    with hub.uow() as uow:
        assert uow.rules.listing() == []

    made = client.post(url, headers=headers, data={
        "name": "保税区大额核验（800）", "answer-amount": "800", "answer-currency": "CNY",
        "answer-channel": "youzan", "publish": "yes"})
    assert made.status_code == 303 and made.headers["location"].endswith("?done=published")
    first = detail(hub, made.headers["location"].split("/")[-1].split("?")[0])
    assert first["status"] == "enabled"
    assert first["definition"]["conditions"]["all"][0] == {
        "field": "order.total", "op": "gt", "value": 800, "currency": "CNY"}

    again = client.post(url, headers=headers, data={"answer-amount": "900", "publish": "yes"})
    assert again.status_code == 409
    warning = again.text.split('data-testid="overlap-warning"', 1)[1].split("</div>", 1)[0]
    assert "保税区大额核验（800）" in warning and 'data-testid="keep-both"' in warning
    with hub.uow() as uow:
        assert len(uow.rules.listing()) == 1  # nothing made until confirmed
    kept = client.post(url, headers=headers, data={
        "answer-amount": "900", "publish": "yes", "confirm_overlap": "yes"})
    assert kept.status_code == 303
    second = detail(hub, kept.headers["location"].split("/")[-1].split("?")[0])
    assert second["status"] == "enabled" and "overlap_confirmed" in \
        [a["action"] for a in second["audit"]]
    assert "与以下规则并存" in client.get(kept.headers["location"]).text


S4_NAMED: dict[str, Any] = {
    "name": "保税区资质核验（手工）", "trigger_kind": "event", "trigger_event": "payment.succeeded",
    "trigger_sources": "youzan", "cond_mode": "all",
    "c0-field": "order.total", "c0-was": "order.total", "c0-op": "gt", "c0-value": "500",
    "c0-currency": "CNY", "c1-field": "order.address.flags", "c1-was": "order.address.flags",
    "c1-op": "has", "c1-value": "bonded_zone",
    "a0-type": "customs.check_qualification", "a0-id": "check", "a0-retries": "5",
    "a0-backoff": "10", "a0-then": "fail", "a0-outcome-0": "on",
    "a0o0s0-type": "order.hold", "a0o0s0-id": "hold", "a0o0s0-p-reason": "qualification_pending",
    "a0o0s1-type": "sms.send", "a0o0s1-id": "sms", "a0o0s1-p-template": "SMS_QUAL_UPLOAD",
    "a0o0s1-m-params-0-k": "order_no", "a0o0s1-m-params-0-v": "{{ order.external_id }}",
    "a0o0s2-type": "ticket.create", "a0o0s2-id": "ticket", "a0o0s2-p-title": "核验不通过",
    "a0o0s2-p-priority": "high"}


def test_publishing_a_rule_another_covers_names_it_until_both_are_kept(
        hub: Hub, client: TestClient) -> None:
    hub.rules.create_from_template("bonded-zone-customs-check", {}, "ops", name="先发布的规则",
                                   publish=True, enable=True)
    headers = sign_in(client, "ops")
    # 失败时 alone on the customs check is allowed, with a warning next to it.
    drawn = client.post("/console/rules/form", headers=headers, data={
        **{k: v for k, v in S4_NAMED.items() if not k.startswith("a0o0")},
        "a0-outcome-0": "", "a0-then": "branch", "do": "refresh"}).text
    card = drawn.split('data-slot="a0"', 1)[1]
    assert 'data-testid="warning"' in card and "失败时分支只在调用海关资质核验失败" in card
    assert "从订单带入" in card and 'data-testid="open-outcome"' in card

    made = client.post("/console/rules/new", headers=headers,
                       data={**S4_NAMED, "publish_now": "yes"})
    target = made.headers["HX-Redirect"]
    assert target.endswith("?done=overlap")
    rule_id = target.split("/")[-1].split("?")[0]
    assert detail(hub, rule_id)["status"] == "draft"
    page = client.get(target).text
    warning = page.split('data-testid="overlap-warning"', 1)[1].split("</div>", 1)[0]
    assert "先发布的规则" in warning and "冻结订单" in warning
    kept = client.post(f"/console/rules/{rule_id}/publish", headers=headers,
                       data={**S4_NAMED, "confirm_overlap": "yes"})
    assert kept.headers["HX-Redirect"].endswith("?done=published")
    published = detail(hub, rule_id)
    assert published["status"] == "enabled"
    (check,) = published["definition"]["actions"]
    assert [s["type"] for s in check["on_outcome"]["not_qualified"]] == \
        ["order.hold", "sms.send", "ticket.create"]


def test_the_backtest_counts_each_step_on_its_branch(
        run_pages: tuple[TestClient, dict[str, str]]) -> None:
    client, _orders = run_pages
    headers = sign_in(client, "ops")
    answer = client.post("/console/rules/backtest", headers=headers,
                         data={**S4_NAMED, "backtest_days": "30"})
    assert answer.status_code == 200, answer.text
    rows = re.findall(r"<tr><td>(.*?)</td><td class=\"small\">(.*?)</td>"
                      r"<td class=\"num\">(.*?)</td></tr>", answer.text)
    shown = [(re.sub(r"<[^>]+>", "", step).split()[0], branch, n) for step, branch, n in rows]
    assert shown == [("海关资质核验", "主流程", "2"), ("冻结订单", "check：核验不通过", "1"),
                     ("发送短信", "check：核验不通过", "1"),
                     ("创建客服工单", "check：核验不通过", "1")]
