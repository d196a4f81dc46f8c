"""The rule builder in Chromium: ops build the S4 bonded-zone rule from scratch by picking and
typing values only (no expression), try it on seeded orders, and publish it.

Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import browser_support
import pytest
from browser_support import Page, expect, serving, sign_in
from console_seed import Seeded, make_hub, seed

from orderpilot.adapters.views import rules as reads
from rule_samples import S4_BY_HTTP_CALL

pytestmark = pytest.mark.browser

S4 = S4_BY_HTTP_CALL  # the generic-call S4 the form rebuilds field by field


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    hub = make_hub(tmp_path_factory.mktemp("rules-e2e"))
    data = seed(hub)
    with serving(hub) as url:
        yield url, data


@pytest.fixture
def page(page: Page) -> Page:
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
    return page


def shot(page: Page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # the builder's side column is sticky
    browser_support.shot(page, name)


def htmx(page: Page, act: Callable[[], None]) -> None:
    browser_support.htmx(page, act, "/console/rules/")


def pick(page: Page, name: str, value: str | None = None, label: str | None = None) -> None:
    """Choose in a select that redraws part of the form."""
    selector = f"select[name='{name}']"
    if label is not None:
        htmx(page, lambda: page.select_option(selector, label=label))
    else:
        htmx(page, lambda: page.select_option(selector, value))


def add_action(page: Page, label: str) -> None:
    page.select_option("[data-testid=new-action-type]", label=label)
    htmx(page, lambda: page.click("[data-testid=add-action]"))


def only_if_not_qualified(page: Page, i: int) -> None:
    pick(page, f"a{i}-if-step", "check")
    pick(page, f"a{i}-if-output", "qualified")
    expect(page.locator(f"select[name='a{i}-if-test']")).to_have_value("is_false")


def test_ops_build_the_s4_rule_without_typing_an_expression(
        page: Page, site: tuple[str, Seeded]) -> None:
    _, data = site
    sign_in(page, "ops")
    page.click("nav.nav >> text=自动化规则")
    expect(page.locator("h1")).to_have_text("自动化规则")
    expect(page.locator("[data-testid=template-bonded-zone-customs-check]")).to_contain_text(
        "保税区大额订单资质核验")
    shot(page, "40-rules-zh")
    page.click("[data-testid=new-rule]")
    expect(page.locator("h1")).to_have_text("新建规则")

    page.fill("[data-testid=rule-name]", "保税区大额订单资质核验(手工搭建)")
    page.select_option("[data-testid=trigger-event]", "payment.succeeded")
    page.fill("[data-testid=trigger-sources]", "youzan")

    pick(page, "c0-field", label="订单金额")
    pick(page, "c0-op", label="大于")
    page.fill("input[name='c0-value']", "500")
    htmx(page, lambda: page.click("[data-testid=add-condition]"))
    pick(page, "c1-field", label="地址标记")
    expect(page.locator("select[name='c1-op']")).to_have_value("has")
    page.select_option("select[name='c1-value']", label="保税区")

    add_action(page, "调用接口")
    htmx(page, lambda: page.fill("input[name='a0-id']", "check") or
         page.press("input[name='a0-id']", "Tab"))
    page.select_option("select[name='a0-p-connector']", "customs")
    page.fill("input[name='a0-p-path']", "/api/qualification/check")
    page.fill("input[name='a0-m-output-0-k']", "qualified")
    page.fill("input[name='a0-m-output-0-v']", "qualified")

    add_action(page, "冻结订单")
    page.fill("input[name='a1-p-reason']", "qualification_pending")
    only_if_not_qualified(page, 1)

    add_action(page, "发送短信")
    pick(page, "a2-p-template", "SMS_QUAL_UPLOAD")
    expect(page.locator("input[name='a2-m-params-0-k']")).to_have_value("order_no")
    expect(page.locator("input[name='a2-m-params-0-v']")).to_have_value(
        "{{ order.external_id }}")
    only_if_not_qualified(page, 2)

    add_action(page, "创建客服工单")
    page.fill("input[name='a3-p-title']", "资质待核验")
    page.select_option("select[name='a3-p-priority']", "high")
    page.fill("input[name='a3-p-tags']", "资质待核验")
    only_if_not_qualified(page, 3)
    expect(page.locator("[data-testid=action]")).to_have_count(4)
    shot(page, "41-rule-builder-s4-zh")

    page.click("[data-testid=save-draft]")
    expect(page).to_have_url(re.compile(r"/console/rules/[^/]+\?done=created"))
    expect(page.locator("[data-testid=notice]")).to_have_text("规则已保存为草稿。")
    expect(page.locator("[data-testid=has-draft]")).to_be_visible()

    page.fill("[data-testid=try-order]", "YZ2611240004")  # 698 to a bonded-zone address
    htmx(page, lambda: page.click("[data-testid=try]"))
    expect(page.locator("#try-result .leaf-true")).to_have_count(2)
    expect(page.locator("[data-testid=would-run] li")).to_have_count(4)
    shot(page, "42-rule-try-green-zh")
    page.fill("[data-testid=try-order]", "LZ2611250002")  # 139 to Hangzhou
    htmx(page, lambda: page.click("[data-testid=try]"))
    expect(page.locator("#try-result .leaf-false")).to_have_count(2)
    expect(page.locator("[data-testid=verdict]")).to_contain_text("未命中")
    shot(page, "43-rule-try-grey-zh")

    page.fill("[data-testid=publish-reason]", "S4 上线")
    page.click("[data-testid=publish]")
    expect(page).to_have_url(re.compile(r"\?done=published"))
    expect(page.locator("[data-testid=notice]")).to_contain_text("已发布")
    expect(page.locator("[data-testid=published-version]")).to_contain_text("v1")
    expect(page.locator("[data-testid=rule-status]")).to_have_text("已启用")
    expect(page.locator("[data-testid=version]")).to_have_count(1)
    shot(page, "44-rule-published-zh")

    rule_id = page.url.split("/console/rules/")[1].split("?")[0]
    with data.hub.db.read() as conn:
        rule = reads.rule_detail(conn, rule_id)
    assert rule is not None and rule["status"] == "enabled"
    saved = rule["definition"]
    assert saved["trigger"] == S4["trigger"]
    assert saved["conditions"] == S4["conditions"]
    assert [(a["type"], a.get("if")) for a in saved["actions"]] == \
        [(a["type"], a.get("if")) for a in S4["actions"]]
    assert saved["actions"][0]["params"]["output"] == {"qualified": "qualified"}
    assert saved["actions"][2]["params"]["template"] == "SMS_QUAL_UPLOAD"
    assert saved["actions"][3]["params"]["priority"] == "high"


def test_ops_add_a_failure_branch_by_clicks(page: Page, site: tuple[str, Seeded]) -> None:
    _, data = site
    sign_in(page, "ops")
    page.goto("/console/rules/new")
    page.fill("[data-testid=rule-name]", "海关核验失败转钉钉")
    page.select_option("[data-testid=trigger-event]", "payment.succeeded")
    add_action(page, "调用接口")
    page.select_option("select[name='a0-p-connector']", "customs")
    page.fill("input[name='a0-p-path']", "/api/qualification/check")
    expect(page.locator("[data-testid=branch]")).to_have_count(0)

    pick(page, "a0-then", label="改为执行以下动作")
    branch = page.locator("[data-testid=branch]")
    expect(branch).to_be_visible()
    for label in ("钉钉群通知", "订单打标"):
        branch.locator("[data-testid=new-branch-action-type]").select_option(label=label)
        htmx(page, lambda: branch.locator("[data-testid=add-branch-action]").click())
    cards = page.locator("[data-testid=branch-action]")
    expect(cards).to_have_count(2)
    expect(cards.nth(0).locator(".step-no")).to_have_text("1.1")
    page.fill("input[name='a0b1-p-tags']", "资质待人工核验")
    htmx(page, lambda: page.locator("[data-slot=a0b1] .action-tools button").first.click())
    expect(cards.nth(0)).to_have_attribute("data-type", "order.tag")
    expect(page.locator("input[name='a0b0-p-tags']")).to_have_value("资质待人工核验")
    page.fill("input[name='a0b1-p-text']", "海关接口不可用：{{ order.external_id }}")
    pick(page, "a0b1-then", "ignore")  # redraws the builder: wait for it before typing on
    idempotency = page.locator("[data-slot=a0b1] [data-testid=idempotency]")
    expect(idempotency.locator("input")).to_be_hidden()  # advanced: folded away
    idempotency.locator("summary").click()
    idempotency.locator("input").fill("{{ order.id }}-customs-down")
    shot(page, "45-rule-failure-branch-zh")

    page.click("[data-testid=save-draft]")
    expect(page).to_have_url(re.compile(r"/console/rules/[^/]+\?done=created"))
    expect(page.locator("[data-testid=branch-action]")).to_have_count(2)
    rule_id = page.url.split("/console/rules/")[1].split("?")[0]
    with data.hub.db.read() as conn:
        rule = reads.rule_detail(conn, rule_id)
    assert rule is not None
    on_error = rule["draft"]["actions"][0]["on_error"]
    assert on_error["then"] == "branch"
    tag, alert = on_error["branch"]
    assert (tag["type"], tag["params"]["tags"]) == ("order.tag", ["资质待人工核验"])
    assert (alert["type"], alert["on_error"]["then"]) == ("notify.dingtalk", "ignore")
    assert alert["params"]["text"] == "海关接口不可用：{{ order.external_id }}"
    assert alert["idempotency_key"] == "{{ order.id }}-customs-down"
