"""The console in a real browser: Debian Chromium driven by Playwright against a real server.

Screenshots of every page, in both languages, go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import Seeded, make_hub, seed
from openpyxl import load_workbook

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    hub = make_hub(tmp_path_factory.mktemp("console-e2e"))
    data = seed(hub)
    with serving(hub) as url:
        yield url, data


def test_sign_in_list_filter_and_open_an_order(page: Page, site: tuple[str, Seeded]) -> None:
    _, data = site
    page.goto("/console/login")
    expect(page.locator("h1")).to_have_text("orderpilot")
    expect(page.locator("button.primary")).to_have_text("登录")
    shot(page, "01-login-zh")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", "not-the-password")
    page.click("button.primary")
    expect(page.locator(".alert-error")).to_contain_text("用户名或密码错误")
    sign_in(page, "ops")
    expect(page.locator("h1")).to_have_text("概览")
    expect(page.locator("[data-chart] svg")).to_be_visible()  # ECharts drew the chart
    expect(page.locator("[data-testid=kpi-held]")).to_have_text("3")
    shot(page, "02-dashboard-zh")

    page.click("nav.nav >> text=订单")
    rows = page.locator("[data-testid=orders-table] tbody tr")
    expect(rows).to_have_count(len(data.orders))
    shot(page, "03-orders-zh")
    page.select_option("select[name=held]", "yes")  # HTMX swaps the table, pushes the URL
    expect(rows).to_have_count(3)
    expect(page).to_have_url(re.compile(r"held=yes"))
    page.fill("input[name=q]", "YZ2611240004")
    expect(rows).to_have_count(1)
    shot(page, "04-orders-filtered-zh")
    page.click("text=YZ2611240004")
    expect(page.locator("h1")).to_have_text("YZ2611240004")
    expect(page.locator("[data-testid=active-hold]")).to_have_count(2)
    expect(page.locator(".badge-info")).to_have_text("保税区")
    expect(page.locator("[data-testid=phone]")).to_have_text("13600003333")  # ops sees it
    expect(page.locator(".timeline .tl-item").first).to_contain_text("新订单")
    page.locator(".timeline details summary").first.click()
    expect(page.locator(".timeline details pre").first).to_contain_text("total_cents")
    shot(page, "05-order-detail-zh")


def test_place_and_release_a_hold(page: Page, site: tuple[str, Seeded]) -> None:
    _, data = site
    sign_in(page, "ops")
    page.goto(f"/console/orders/{data.orders['SP2611220006']}")
    holds = page.locator("[data-testid=active-hold]")
    expect(holds).to_have_count(0)
    page.select_option("select[name=reason]", "out_of_stock")
    page.fill("textarea[name=note]", "等待杭州仓调拨")
    page.click(".hold-form button[type=submit]")
    expect(holds).to_have_count(1)
    expect(holds).to_contain_text("库存不足")
    expect(page.locator("#holds .alert-ok")).to_have_text("订单已冻结。")
    expect(page.locator("#held-badge")).to_have_text("冻结中")  # swapped out of band
    expect(page.locator(".timeline")).to_contain_text("等待杭州仓调拨")
    shot(page, "06-hold-placed-zh")
    holds.locator("select[name=reason]").select_option("stock_arrived")  # a reason is required
    holds.locator("button", has_text="解冻").click()
    expect(holds).to_have_count(0)
    expect(page.locator("#holds .alert-ok")).to_have_text("已解冻。")
    expect(page.locator("#held-badge")).to_have_text("")
    expect(page.locator("#holds details.released")).to_contain_text("1 条已解冻记录")
    expect(page.locator("#holds details.released")).to_contain_text("库存已到")
    shot(page, "07-hold-released-zh")


def test_switch_language_and_back(page: Page, site: tuple[str, Seeded]) -> None:
    _, data = site
    sign_in(page, "admin")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.click("[data-testid=locale-switch]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("[data-chart] svg")).to_be_visible()
    shot(page, "08-dashboard-en")
    page.click("nav.nav >> text=Orders")
    expect(page.locator("th").nth(1)).to_have_text("External order no.")  # after the ticks
    shot(page, "09-orders-en")
    page.goto(f"/console/orders/{data.orders['YZ2611240004']}")
    expect(page.locator("#holds h2")).to_have_text("Holds")
    expect(page.locator(".badge-info")).to_have_text("Bonded zone")
    shot(page, "10-order-detail-en")
    page.click("nav.nav >> text=Exception workbench")
    shot(page, "11-exceptions-en")
    page.click("nav.nav >> text=Audit log")  # the administration pages: dead letters a tab
    page.click("[data-testid=admin-tabs] >> text=Dead letters")
    expect(page.locator("h1")).to_have_text("Dead letters and quarantine")
    shot(page, "12-dead-letters-en")
    page.click("[data-testid=locale-switch]")
    expect(page.locator("h1")).to_have_text("死信与隔离区")
    shot(page, "13-dead-letters-zh")


def test_download_the_exception_export(page: Page, site: tuple[str, Seeded],
                                       tmp_path: Path) -> None:
    _, data = site
    sign_in(page, "ops")
    page.click("nav.nav >> text=异常工作台")
    expect(page.locator("[data-testid=exception-queue] tbody tr")).to_have_count(4)
    shot(page, "14-exceptions-zh")
    with page.expect_download() as info:
        page.click("[data-testid=export]")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    assert "待发货异常订单" in download.suggested_filename
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    sheet = load_workbook(target).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[0] == "序号 / No."
    assert {row[-1] for row in rows} == data.held_pre_shipment


def test_a_viewer_sees_no_hold_buttons(page: Page, site: tuple[str, Seeded]) -> None:
    _, data = site
    sign_in(page, "viewer")
    page.goto(f"/console/orders/{data.orders['SP2611260001']}")
    expect(page.locator("[data-testid=active-hold]")).to_have_count(1)
    expect(page.locator("#holds form")).to_have_count(0)
    expect(page.locator("[data-testid=phone]")).to_have_text("138****0000")
    expect(page.locator("nav.nav")).not_to_contain_text("死信")
    shot(page, "15-order-viewer-zh")


def test_the_first_page_follows_new_orders_live(page: Page, site: tuple[str, Seeded]) -> None:
    """Runs last in this module: it adds an order to the shared data."""
    from console_seed import _place

    _, data = site
    sign_in(page, "viewer")
    page.goto("/console/orders")
    rows = page.locator("[data-testid=orders-table] tbody tr")
    expect(rows).to_have_count(len(data.orders))
    expect(page.locator("[data-testid=live-note]")).to_be_visible()
    _place(data.hub, "lazada", "LZLIVE0001", data.hub.clock(), city="杭州市",
           line1="文三路1号", phone="13900001111", name="赵六", price="99.00")
    expect(rows).to_have_count(len(data.orders) + 1, timeout=12_000)  # polled every 5 s
    expect(rows.first).to_contain_text("LZLIVE0001")
