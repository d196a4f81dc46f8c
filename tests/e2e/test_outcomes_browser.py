"""The 成效 (Outcomes) dashboard in a real browser (Chromium via Playwright): reached from the
menu, the cards render the hand-made history's figures (tests/kpis/kpi_seed.py), the trend
chart is drawn, the channel filter changes a figure, a figure's card leads to the orders
behind it, and the page fits a phone (390 px). Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import make_hub

from kpis import kpi_seed as s

pytestmark = pytest.mark.browser
PERIOD = "since=2026-11-01&until=2026-11-07"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    hub = make_hub(tmp_path_factory.mktemp("outcomes-e2e"))
    s.seed(hub)
    hub.clock.at = s.EARLY_NOW  # type: ignore[attr-defined]
    with serving(hub) as url:
        yield url, {"hub": hub}


def test_the_dashboard_its_chart_filter_and_the_orders_behind_a_figure(page: Page) -> None:
    sign_in(page, "viewer")
    page.goto("/console")
    page.click("[data-testid=nav-outcomes]")
    expect(page.locator("h1")).to_have_text("成效")
    page.fill("[data-testid=outcomes-filter] input[name=since]", "2026-11-01")
    page.fill("[data-testid=outcomes-filter] input[name=until]", "2026-11-07")
    page.click("[data-testid=outcomes-apply]")
    page.wait_for_url("**since=2026-11-01**")
    expect(page.locator("[data-testid=kpi-orders]")).to_have_text("8")
    expect(page.locator("[data-testid=kpi-manual]")).to_have_text("25.0%")
    expect(page.locator("[data-testid=kpi-on-time]")).to_have_text("50.0%")
    expect(page.locator("[data-testid=card-manual]")).to_contain_text("34%")
    # ECharts drew the trend into its box
    expect(page.locator("[data-testid=chart-trend] svg path").first).to_be_attached()
    shot(page, "80-outcomes-zh")
    page.select_option("[data-testid=outcomes-channel]", "lazada")
    page.click("[data-testid=outcomes-apply]")
    page.wait_for_url("**channel=lazada**")
    expect(page.locator("[data-testid=kpi-orders]")).to_have_text("2")
    expect(page.locator("[data-testid=kpi-manual]")).to_have_text("50.0%")
    page.click("[data-testid=card-manual]")
    expect(page.locator("[data-testid=outcome-orders-title]")).to_have_text("需人工介入的订单")
    expect(page.locator("[data-testid=outcome-orders] tbody tr")).to_have_count(1)
    expect(page.locator("[data-testid=outcome-orders]")).to_contain_text("A5")
    page.click("[data-testid=outcome-orders] a.mono")
    page.wait_for_url("**/console/orders/**")


def test_the_dashboard_fits_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "ops")
    page.goto(f"/console/outcomes?{PERIOD}")
    expect(page.locator("[data-testid=chart-trend] svg path").first).to_be_attached()
    expect(page.locator("[data-testid=outcomes-by-channel]")).to_be_attached()
    assert int(page.evaluate("document.scrollingElement.scrollWidth")) <= 390
    shot(page, "81-outcomes-phone")
