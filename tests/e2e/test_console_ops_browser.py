"""Rule runs, tickets and inventory in a real browser (Debian Chromium via Playwright): open the
runs, the failed one, replay it; move a ticket along; see the three stock sources.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import _place, make_hub

from orderpilot.domain.commands import ReportEvent
from orderpilot.domain.inventory import Source
from orderpilot.services import ordering
from orderpilot.services.inventory import sync as inventory_sync
from orderpilot.services.inventory.sync import LevelReport

pytestmark = pytest.mark.browser

CUSTOMS_CHECK = {  # one try, no retries: the refused call fails the run at once
    "name": "保税区资质核验(演示)",
    "trigger": {"kind": "event", "event": "payment.succeeded"},
    "conditions": {"all": [{"field": "order.total", "op": "gt", "value": 500}]},
    "actions": [{"id": "check", "type": "http.call",
                 "params": {"method": "POST", "connector": "customs",
                            "path": "/api/qualification/check",
                            "body": {"order_id": "{{ order.id }}"}},
                 "on_error": {"retries": 0, "backoff_seconds": 1, "then": "fail"}}]}


def seed_automation(hub: Any) -> None:
    hub.rules.install_template("high-value-review", "ops", enable=True)
    rule_id = hub.rules.create(CUSTOMS_CHECK, "ops", key="customs-demo")
    hub.rules.publish(rule_id, "ops", "demo")
    for source in (Source("NB", "bonded_spot", "宁波北仑保税仓", "Ningbo bonded", "宁波北仑保税区",
                          1, sync_schedule="seconds"),
                   Source("HZ", "domestic_transfer", "杭州仓", "Hangzhou", "杭州", 2,
                          sync_schedule="every_5_minutes"),
                   Source("LA", "in_transit", "洛杉矶仓", "Los Angeles", "US", 20,
                          sync_schedule="daily_0200")):
        inventory_sync.put_source(source, hub.uow, hub.clock)
    inventory_sync.apply_levels("wms-demo", [
        LevelReport("NB", "SKU-MILK-01", 40), LevelReport("HZ", "SKU-MILK-01", 25),
        LevelReport("LA", "SKU-MILK-01", 600)], hub.uow, hub.clock)
    now = datetime.now(UTC)
    order_id = _place(hub, "youzan", "YZ-BIG-0001", now, city="宁波市",
                      line1="北仑区保税区港城大道1号", phone="13800001234", name="周杰",
                      price="6000.00")
    ordering.report_event(ReportEvent(order_id, "payment.succeeded", "youzan", now,
                                      source_event_id="pay-big"), hub.uow, hub.clock)
    dispatcher, runner = hub.dispatcher("seed"), hub.runner("seed")
    for _ in range(4):
        dispatcher.run_once()
        runner.run_once()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    os.environ["ORDERPILOT_CUSTOMS_URL"] = "http://127.0.0.1:9"  # nothing listens there
    try:
        hub = make_hub(tmp_path_factory.mktemp("ops-e2e"))
    finally:
        del os.environ["ORDERPILOT_CUSTOMS_URL"]
    seed_automation(hub)
    with serving(hub) as url:
        yield url


def test_open_the_failed_run_and_replay_it(page: Page) -> None:
    sign_in(page, "ops")
    page.click("nav.nav >> text=自动化规则")
    page.click("[data-testid=rules-tabs] >> text=规则运行")
    expect(page.locator("h1")).to_have_text("规则运行")
    rows = page.locator("[data-testid=runs-table] tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("tr.run-row-failed")).to_have_count(1)
    shot(page, "30-rule-runs-zh")
    page.select_option("[data-testid=run-status-filter]", "failed")  # HTMX swaps the table
    expect(rows).to_have_count(1)
    page.locator("tr.run-row-failed a.mono").first.click()
    expect(page.locator("[data-testid=dead-letter]")).to_be_visible()
    expect(page.locator("[data-testid=condition-leaves] .cond-true")).to_have_count(1)
    expect(page.locator("[data-testid=steps]")).to_contain_text("Connection refused")
    shot(page, "31-rule-run-failed-zh")
    page.click("[data-testid=replay]")
    expect(page.locator("dl.facts").first).to_contain_text("重放自")
    shot(page, "32-rule-run-replayed-zh")


def test_move_a_ticket_along(page: Page) -> None:
    sign_in(page, "ops")
    page.click("nav.nav >> text=工单")
    row = page.locator("[data-testid=ticket-row]").first
    expect(row.locator("[data-testid=ticket-status]")).to_have_text("待处理")
    shot(page, "33-tickets-zh")
    row.locator("[data-testid=move-in_progress]").click()  # HTMX swaps the row
    expect(page.locator("[data-testid=ticket-row]").first
           .locator("[data-testid=ticket-status]")).to_have_text("处理中")
    shot(page, "34-ticket-moved-zh")


def test_the_inventory_page_shows_three_sources(page: Page) -> None:
    sign_in(page, "viewer")
    page.click("nav.nav >> text=库存")
    expect(page.locator("[data-testid=source-card]")).to_have_count(3)
    for kind in ("保税现货", "国内调拨", "海外在途"):
        expect(page.locator("[data-testid=sources]")).to_contain_text(kind)
    expect(page.locator("[data-testid=stock]")).to_contain_text("SKU-MILK-01")
    shot(page, "35-inventory-zh")
    page.click("[data-testid=locale-switch]")
    expect(page.locator("[data-testid=sources]")).to_contain_text("Bonded spot")
    shot(page, "36-inventory-en")
