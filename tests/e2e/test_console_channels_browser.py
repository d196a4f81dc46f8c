"""渠道与系统 in a real browser (Debian Chromium via Playwright): an admin connects a Shopee shop
through the form (a wrong region first, refused with the field named), finds its callback URL
to paste into Shopee, and the page still fits a phone. Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import make_hub

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    hub = make_hub(tmp_path_factory.mktemp("channels-e2e"))
    with serving(hub) as url:
        yield url


def test_an_admin_connects_a_shop_and_finds_its_callback_url(page: Page, site: str) -> None:
    sign_in(page, "admin")
    page.click("nav.nav >> text=渠道与系统")
    expect(page.locator("h1")).to_have_text("渠道与系统")
    expect(page.locator("[data-testid=channel-row]")).to_have_count(0)
    form = page.locator("[data-testid=channel-form]")
    form.locator("input[name=code]").fill("shopee-sg")
    form.locator("select[name=platform]").select_option("shopee")
    form.locator("input[name=shop_id]").fill("14701711")
    form.locator("input[name=region]").fill("S")  # not a two-letter region
    for key, value in (("partner_id", "2001887"), ("partner_key", "key-1"),
                       ("access_token", "tok-1"), ("refresh_token", "ref-1")):
        form.locator(f"input[name=cred_shopee_{key}]").fill(value)
    form.locator("[data-testid=save-channel]").click()
    expect(page.locator("[data-testid=form-errors]")).to_contain_text("region")
    expect(page.locator("[data-testid=form-errors]")).to_contain_text("两位国家代码")
    form = page.locator("[data-testid=channel-form]")
    form.locator("input[name=region]").fill("SG")
    for key, value in (("partner_id", "2001887"), ("partner_key", "key-1"),
                       ("access_token", "tok-1"), ("refresh_token", "ref-1")):
        form.locator(f"input[name=cred_shopee_{key}]").fill(value)
    form.locator("[data-testid=save-channel]").click()
    row = page.locator("[data-testid=channel-row]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("14701711")
    expect(row.locator("[data-testid=hook-url]")).to_have_value(f"{site}/hooks/shopee-sg")
    assert "key-1" not in page.content() and "tok-1" not in page.content()
    shot(page, "60-channels-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("h1")).to_have_text("渠道与系统")
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not wide, "the page is wider than a phone"
    shot(page, "61-channels-phone")
