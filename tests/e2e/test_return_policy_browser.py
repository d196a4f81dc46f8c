"""The return policy editor in a real browser (Debian Chromium via Playwright): ops add two
outlet rows, save a table with an outlet twice and see the problem on its row with nothing
saved, fix it and save version 1, upload a sheet as version 2, read version 1 again; at 390 px
the table scrolls in its box. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import make_hub

from orderpilot.services.returns_routing import registers
from returns.routing_support import NINGBO, YIWU

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    hub = make_hub(tmp_path_factory.mktemp("return-policy-e2e"))
    for code, body in (("YIWU", YIWU), ("NINGBO", NINGBO)):
        registers.put_centre(hub.uow, hub.clock, code, body, "ops")
    with serving(hub) as url:
        yield url


def test_edit_the_policy_table_upload_a_sheet_and_read_an_old_version(
        page: Page, tmp_path: Path) -> None:
    sign_in(page, "ops")
    page.goto(page.url.split("/console")[0] + "/console/returns/policy")
    expect(page.locator("h1")).to_have_text("退货政策")
    rows = page.locator("[data-testid=policy-rows] tbody tr")
    expect(rows).to_have_count(3)  # three blank rows on an empty table
    rows.nth(0).locator("input[name=outlet_code]").fill("SF-0278")
    rows.nth(0).locator("select[name=return_centre]").select_option("YIWU")
    rows.nth(1).locator("input[name=outlet_code]").fill("SF-0278")
    rows.nth(1).locator("select[name=return_centre]").select_option("NINGBO")
    page.click("[data-testid=policy-form] button[type=submit]")
    expect(page.locator("[data-testid=policy-error]")).to_contain_text("退货政策")
    expect(page.locator("[data-testid=row-problem]")).to_have_count(1)
    expect(page.locator("[data-testid=row-problem]")).to_contain_text("SF-0278")
    expect(page.locator("[data-testid=policy-versions]")).to_have_count(0)
    shot(page, "80-return-policy-row-error-zh")

    rows = page.locator("[data-testid=policy-rows] tbody tr")
    rows.nth(1).locator("input[name=outlet_code]").fill("SF-0100")
    page.click("[data-testid=policy-form] button[type=submit]")
    expect(page.locator("h2").first).to_have_text("版本 1")
    expect(page.locator("[data-testid=policy-versions] tbody tr")).to_have_count(1)

    sheet = tmp_path / "policy.csv"
    sheet.write_text("网点代码,退货中心\nSF-0278,NINGBO\n", encoding="utf-8")
    page.set_input_files("[data-testid=policy-file]", str(sheet))
    page.click("[data-testid=policy-upload]")
    expect(page.locator("h2").first).to_have_text("版本 2")
    expect(page.locator("[data-testid=policy-versions] tbody tr")).to_have_count(2)
    filled = page.locator("[data-testid=policy-rows] input[name=outlet_code]")
    expect(filled.nth(0)).to_have_value("SF-0278")
    expect(filled).to_have_count(4)  # one row and three blank ones

    page.click('[data-testid=policy-versions] a:text-is("1")')
    expect(page.locator("h2").first).to_have_text("版本 1")
    expect(page.locator("[data-testid=policy-rows] tbody tr")).to_have_count(2)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.url.split("?")[0])
    box = page.locator(".table-wrap").first
    overflow = box.evaluate("e => getComputedStyle(e).overflowX")
    assert overflow in ("auto", "scroll")
    assert page.evaluate("document.documentElement.scrollWidth") <= 392
    shot(page, "81-return-policy-390px")
