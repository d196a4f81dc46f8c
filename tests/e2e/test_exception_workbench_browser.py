"""The exception workbench in a real browser (Chromium via Playwright): groups by reason on top,
a group click filters, bulk release with the confirmation dialog giving the order count, an
assignment and a comment on an exception's page, a bulk cancel, the English switch, and
390 px."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import Seeded, make_hub, seed

pytestmark = pytest.mark.browser
ROWS = "[data-testid=exception-queue] tbody tr"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    hub = make_hub(tmp_path_factory.mktemp("workbench-e2e"))
    data = seed(hub)
    with serving(hub) as url:
        yield url, data


def test_grouping_bulk_release_assignment_and_a_comment(page: Page,
                                                         site: tuple[str, Seeded]) -> None:
    sign_in(page, "ops")
    page.click("nav.nav >> text=异常工作台")
    expect(page.locator("h1")).to_have_text("异常工作台")
    groups = page.locator("[data-testid=group]")
    expect(groups).to_have_count(4)
    expect(page.locator(ROWS)).to_have_count(4)
    shot(page, "wb-01-workbench-zh")

    page.locator("[data-testid=group][data-reason=qualification_pending]").click()
    expect(page.locator(ROWS)).to_have_count(1)
    expect(page).to_have_url(re.compile(r"reason=qualification_pending"))
    page.click("[data-testid=saved-all]")
    expect(page.locator(ROWS)).to_have_count(4)

    # Release both holds of the bonded-zone order: two exceptions, one order.
    for reason in ("资质待核验", "海关核验"):
        page.locator(ROWS, has_text=reason).locator("[data-testid=select]").check()
    page.select_option("[data-testid=bulk-action]", "release")
    page.select_option("[data-testid=bulk-reason]", "qualification_passed")
    page.click("[data-testid=bulk-preview]")
    dialog = page.locator("[data-testid=bulk-confirm]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-testid=bulk-count]")).to_have_text(
        "此操作涉及 1 个订单（2 个异常）。")
    shot(page, "wb-02-bulk-confirm-zh")
    dialog.locator("[data-testid=bulk-apply]").click()
    expect(page.locator("[data-testid=notice]")).to_contain_text("1 个订单")
    expect(page.locator(ROWS)).to_have_count(2)

    page.locator(ROWS, has_text="地址不完整").locator("[data-testid=open-exception]").click()
    expect(page.locator("[data-testid=exception-title]")).to_have_text("地址不完整")
    page.click("[data-testid=assign-me]")
    expect(page.locator("[data-testid=assignee]")).to_have_text("ops")
    page.fill("[data-testid=comment-text]", "已电话联系买家补门牌号")
    page.click("[data-testid=add-comment]")
    expect(page.locator("[data-testid=comment]")).to_contain_text("已电话联系买家补门牌号")
    expect(page.locator("[data-testid=history-entry]")).to_have_count(3)
    shot(page, "wb-03-exception-zh")

    page.goto("/console/exceptions?mine=yes")
    expect(page.locator(ROWS)).to_have_count(1)

    # The buyer's address cannot be reached: cancel the order (the company's own: at once).
    page.locator(ROWS).first.locator("[data-testid=select]").check()
    page.select_option("[data-testid=bulk-action]", "cancel")
    page.select_option("[data-testid=bulk-cancel-reason]", "undeliverable")
    page.click("[data-testid=bulk-preview]")
    dialog = page.locator("[data-testid=bulk-confirm]")
    expect(dialog.locator("h2")).to_have_text("取消订单")
    expect(dialog.locator("[data-testid=bulk-count]")).to_have_text(
        "此操作涉及 1 个订单（1 个异常）。")
    dialog.locator("[data-testid=bulk-apply]").click()
    expect(page.locator("[data-testid=notice]")).to_contain_text("1 个订单")
    expect(page.locator(ROWS)).to_have_count(0)  # its exception resolved as cancelled
    shot(page, "wb-04-bulk-cancel-zh")
    page.goto("/console/exceptions?mine=yes")
    page.click("[data-testid=locale-switch]")
    expect(page.locator("h1")).to_have_text("Exception workbench")
    expect(page.locator("[data-testid=saved-mine]")).to_have_text("My queue")
    shot(page, "wb-05-workbench-en")


def test_the_workbench_fits_a_phone(page: Page, site: tuple[str, Seeded]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "ops")
    page.goto("/console/exceptions")
    expect(page.locator("[data-testid=groups]")).to_be_visible()
    width = int(page.evaluate("document.scrollingElement.scrollWidth"))
    assert width <= 391
    shot(page, "wb-06-workbench-phone")
