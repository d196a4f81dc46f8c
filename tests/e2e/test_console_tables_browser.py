"""The decision table grid editor in Chromium: ops build the return-centre table by clicking
and typing, save it, try an outlet and see the matching row light up, and download the sheet.

Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import browser_support
import pytest
from browser_support import ARTIFACTS, Page, expect, serving, shot, sign_in
from console_seed import make_hub
from openpyxl import load_workbook

pytestmark = pytest.mark.browser

HIGHLIGHT = "rgb(227, 245, 236)"  # --ok-soft


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(make_hub(tmp_path_factory.mktemp("tables-e2e"))) as url:
        yield url


def htmx(page: Page, act: Callable[[], None]) -> None:
    browser_support.htmx(page, act, "/console/decision-tables/")


def type_row(page: Page, n: int, values: list[str]) -> None:
    for cell, text in zip(page.locator(f"tr[data-row='{n}'] [data-testid=cell]").all(), values,
                          strict=True):
        cell.fill(text)


def test_ops_build_try_and_download_the_return_centre_table(page: Page) -> None:
    sign_in(page, "ops")
    page.click("nav.nav >> text=自动化规则")
    page.click("[data-testid=rules-tabs] >> text=决策表")
    expect(page.locator("h1")).to_have_text("决策表")

    page.fill("[data-testid=new-name]", "return_centres")
    page.fill("[data-testid=new-title-zh]", "退货中心")
    page.locator("[data-testid=new-in-field]").first.fill("event.data.outlet_code")
    page.locator("[data-testid=new-in-label]").first.fill("承运商网点")
    out_fields = page.locator("[data-testid=new-out-field]")
    out_labels = page.locator("[data-testid=new-out-label]")
    out_fields.nth(0).fill("centre")
    out_labels.nth(0).fill("退货中心")
    out_fields.nth(1).fill("centre_name")
    out_labels.nth(1).fill("中心名称")
    shot(page, "60-decision-tables-new-zh")
    page.click("[data-testid=new-table-submit]")
    expect(page.locator("[data-testid=grid-row]")).to_have_count(1)

    type_row(page, 1, ["SZ01", "RC-SZ", "深圳退货中心"])
    htmx(page, lambda: page.click("[data-testid=add-row]"))
    expect(page.locator("[data-testid=grid-row]")).to_have_count(2)
    expect(page.locator("#c-0-0")).to_have_value("SZ01")  # typed cells survive the redraw
    type_row(page, 2, ["HZ02", "RC-HZ", "杭州退货中心"])
    page.fill("[data-testid=reason]", "深圳、杭州两个网点")
    shot(page, "61-decision-table-grid-zh")
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=notice]")).to_contain_text("已保存为版本 1")
    expect(page.locator("[data-testid=current-version]")).to_contain_text("v1")
    expect(page.locator("[data-testid=version]")).to_have_count(1)

    page.fill("[data-testid=try-value]", "SZ01")
    htmx(page, lambda: page.click("[data-testid=try]"))
    expect(page.locator("[data-testid=try-output]")).to_contain_text("RC-SZ")
    expect(page.locator("[data-testid=matched]")).to_contain_text("命中第 1 行")
    first = page.locator("tr[data-row='1'] td").nth(1)
    second = page.locator("tr[data-row='2'] td").nth(1)
    expect(first).to_have_css("background-color", HIGHLIGHT)
    assert second.evaluate("e => getComputedStyle(e).backgroundColor") != HIGHLIGHT
    shot(page, "62-decision-table-try-zh")

    with page.expect_download() as download_info:
        page.click("[data-testid=download-xlsx]")
    download = download_info.value
    assert download.suggested_filename == "return_centres-v1.xlsx"
    saved = ARTIFACTS / download.suggested_filename
    download.save_as(saved)
    sheet = load_workbook(saved).worksheets[0]
    assert [c.value for c in sheet[2]] == ["SZ01", "RC-SZ", "深圳退货中心"]
    assert [c.value for c in sheet[3]] == ["HZ02", "RC-HZ", "杭州退货中心"]
