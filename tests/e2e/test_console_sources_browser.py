"""Stock sources in a real browser (Debian Chromium via Playwright): ops add a source through
the form, see a field error first, then find the new source on the inventory page.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import make_hub

from orderpilot.domain.inventory import Source
from orderpilot.services.inventory import sync as inventory_sync
from orderpilot.services.inventory.sync import LevelReport

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    hub = make_hub(tmp_path_factory.mktemp("sources-e2e"))
    for source in (Source("NB", "bonded_spot", "宁波北仑保税仓", "Ningbo bonded", "宁波北仑保税区",
                          1, sync_schedule="seconds"),
                   Source("LA", "in_transit", "洛杉矶仓", "Los Angeles", "US", 20,
                          sync_schedule="daily_0200")):
        inventory_sync.put_source(source, hub.uow, hub.clock)
    inventory_sync.apply_levels("wms-demo", [LevelReport("NB", "SKU-MILK-01", 40)],
                                hub.uow, hub.clock)
    with serving(hub) as url:
        yield url


def test_add_a_source_through_the_form_and_see_it_on_the_inventory_page(page: Page) -> None:
    sign_in(page, "ops")
    page.click("nav.nav >> text=库存")
    page.click("[data-testid=sources-link]")
    expect(page.locator("h1")).to_have_text("库存来源")
    expect(page.locator("[data-testid=source-row]")).to_have_count(2)
    form = page.locator("[data-testid=source-form]")
    form.locator("input[name=code]").fill("HZ-XS")
    form.locator("select[name=kind]").select_option("domestic_transfer")
    form.locator("input[name=name_zh]").fill("杭州萧山仓")
    form.locator("input[name=name_en]").fill("Hangzhou Xiaoshan")
    form.locator("input[name=region]").fill("杭州")
    form.locator("input[name=lead_time_days]").fill("2")
    form.locator("textarea[name=lead_times]").fill("上海=1\n北京=3")
    form.locator("select[name=sync_kind]").select_option("every_n")
    form.locator("input[name=sync_seconds]").fill("2")  # below the 5 s minimum
    form.locator("[data-testid=save-source]").click()
    expect(page.locator("[data-testid=error-sync_seconds]")).to_have_text(
        "请输入 5 到 86400 之间的整数。")
    shot(page, "37-source-form-error-zh")

    page.locator("[data-testid=source-form] input[name=sync_seconds]").fill("300")
    page.locator("[data-testid=save-source]").click()
    expect(page.locator("[data-testid=notice]")).to_contain_text("库存来源 HZ-XS 已保存")
    row = page.locator("#source-HZ-XS")
    expect(row).to_contain_text("国内调拨")
    expect(row).to_contain_text("每 300 秒")
    expect(row).to_contain_text("北京: 3 天")
    shot(page, "38-sources-zh")

    page.click("nav.nav >> text=库存")
    cards = page.locator("[data-testid=source-card]")
    expect(cards).to_have_count(3)
    new_card = cards.filter(has_text="杭州萧山仓")
    expect(new_card).to_contain_text("国内调拨")
    expect(new_card).to_contain_text("每 300 秒")
    shot(page, "39-inventory-new-source-zh")
