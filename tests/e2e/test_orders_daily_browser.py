"""The orders list for daily work in a real browser, at a phone's width (390 px): filters
stack, the table scrolls in its box, a bulk action on ticked orders asks with the count, a
saved view comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import Seeded, make_hub, seed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    hub = make_hub(tmp_path_factory.mktemp("orders-daily-e2e"))
    data = seed(hub)
    with serving(hub) as url:
        yield url, data


def page_overflow(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def test_bulk_tag_and_a_saved_view_at_phone_width(page: Page,
                                                  site: tuple[str, Seeded]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "ops")
    page.goto("/console/orders")
    rows = page.locator("[data-testid=orders-table] tbody tr")
    expect(rows).to_have_count(7)
    expect(page.locator("[data-testid=total-count]")).to_have_text("共 7 个订单")
    assert page_overflow(page) <= 0, "the page itself must not scroll sideways"
    page.locator("details.more-filters > summary").click()
    expect(page.locator("input[name=phone]")).to_be_visible()
    shot(page, "orders-daily-390-filters-zh")

    rows.nth(0).locator("input[name=order_ids]").check()
    rows.nth(1).locator("input[name=order_ids]").check()
    page.locator("#bulk-tools > summary").click()
    page.select_option("select[data-bulk-action]", "add_tag")
    expect(page.locator("#bulk-tools select[name=reason]")).to_be_hidden()
    page.fill("#bulk-tools input[name=tag]", "回访")
    shot(page, "orders-daily-390-bulk-zh")
    page.click("#bulk-tools button[type=submit]")
    expect(page.locator("[data-testid=bulk-count]")).to_have_text(
        "将为 2 个订单添加标签“回访”。")
    assert page_overflow(page) <= 0
    shot(page, "orders-daily-390-confirm-zh")
    page.click("[data-testid=bulk-confirm-button]")
    expect(page.locator("[data-testid=bulk-done] h1")).to_have_text("已为 2 个订单添加标签。")

    page.goto("/console/orders?tag=回访")
    expect(rows).to_have_count(2)
    page.fill(".save-view input[name=name]", "回访名单")
    page.click(".save-view button")
    expect(page.locator("[data-testid=saved-views]")).to_contain_text("回访名单")
    page.goto("/console/orders")
    expect(rows).to_have_count(7)
    page.click("[data-testid=saved-views] >> text=回访名单")
    expect(rows).to_have_count(2)
    assert page_overflow(page) <= 0
    shot(page, "orders-daily-390-saved-view-zh")


def test_a_note_and_a_release_with_its_reason_on_the_order_page(
        page: Page, site: tuple[str, Seeded]) -> None:
    _, data = site
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "ops")
    page.goto(f"/console/orders/{data.orders['SP2611260001']}")
    page.fill("#notes textarea[name=text]", "买家说周五在家")
    page.click("#notes button[type=submit]")
    expect(page.locator("[data-testid=notes]")).to_contain_text("买家说周五在家")
    expect(page.locator("#notes .alert-ok")).to_have_text("备注已添加。")
    expect(page.locator(".timeline")).to_contain_text("已添加备注")
    hold = page.locator("[data-testid=active-hold]")
    hold.locator("select[name=reason]").select_option("other")
    hold.locator("button", has_text="解冻").click()  # "other" without a note: refused
    expect(page.locator("#holds .alert-error")).to_contain_text("原因为“其他”时请填写说明")
    hold.locator("select[name=reason]").select_option("address_fixed")
    hold.locator("input[name=note]").fill("门牌号已补")
    hold.locator("button", has_text="解冻").click()
    expect(page.locator("[data-testid=active-hold]")).to_have_count(0)
    page.locator("#holds details.released summary").click()
    expect(page.locator("[data-testid=release-reason]")).to_contain_text("地址已修正 · 门牌号已补")
    shot(page, "orders-daily-390-order-zh")


def test_the_live_first_page_keeps_a_selection(page: Page, site: tuple[str, Seeded]) -> None:
    """The first page refreshes every 5 s, but not while orders are ticked for a bulk action:
    a refresh would drop the ticks."""
    from console_seed import _place

    _, data = site
    sign_in(page, "ops")
    page.goto("/console/orders")
    rows = page.locator("[data-testid=orders-table] tbody tr")
    expect(rows).to_have_count(7)
    rows.nth(2).locator("input[name=order_ids]").check()
    _place(data.hub, "lazada", "LZKEEP0001", data.hub.clock(), city="杭州市",
           line1="文三路1号", phone="13900001111", name="赵六", price="99.00")
    page.wait_for_timeout(6_500)  # longer than one refresh period
    expect(rows).to_have_count(7)
    expect(rows.nth(2).locator("input[name=order_ids]")).to_be_checked()
    rows.nth(2).locator("input[name=order_ids]").uncheck()
    expect(rows).to_have_count(8, timeout=12_000)  # polling resumes
