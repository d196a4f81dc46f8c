"""The returns metrics page in a real browser (Chromium via Playwright): reached from the board's
tab, the four charts drawn, the period filter, the English switch, and the page on a phone
(390 px) without sideways scrolling. The seeded month is tests/returns/metrics_seed.py.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import make_hub, seed

from returns.metrics_seed import seed as seed_metrics

pytestmark = pytest.mark.browser
CHARTS = ("accuracy", "processing", "reasons", "skus")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    hub = make_hub(tmp_path_factory.mktemp("return-metrics-e2e"))
    seed(hub)
    seed_metrics(hub)
    with serving(hub) as url:
        yield url, {"hub": hub}


def _charts_drawn(page: Page) -> None:
    for chart in CHARTS:  # ECharts drew an SVG with bars into each chart's box
        expect(page.locator(f"[data-testid=chart-{chart}] svg path").first).to_be_attached()


def test_from_the_board_to_the_month_s_metrics(page: Page) -> None:
    sign_in(page, "viewer")
    page.goto("/console/returns")
    page.click("[data-testid=returns-tab-metrics]")
    expect(page.locator("h1")).to_have_text("退货指标")
    page.fill("[data-testid=return-metrics-filter] input[name=since]", "2026-11-01")
    page.fill("[data-testid=return-metrics-filter] input[name=until]", "2026-11-30")
    page.click("[data-testid=return-metrics-apply]")
    page.wait_for_url("**since=2026-11-01**")
    expect(page.locator("[data-testid=metric-returns]")).to_have_text("8")
    expect(page.locator("[data-testid=metric-accuracy]")).to_have_text("75.0%")
    expect(page.locator("[data-testid=metric-typed]")).to_have_text("33.3%")
    expect(page.locator("[data-testid=metric-processing]")).to_contain_text("10.0 h")
    expect(page.locator("[data-testid=metric-pairs]")).to_contain_text("A + B")
    _charts_drawn(page)
    shot(page, "73-return-metrics-zh")
    page.select_option("[data-testid=return-metrics-filter] select", "lazada")
    page.click("[data-testid=return-metrics-apply]")
    page.wait_for_url("**channel=lazada**")
    expect(page.locator("[data-testid=metric-returns]")).to_have_text("1")
    expect(page.locator("[data-testid=metric-accuracy]")).to_have_text("—")


def test_in_english(page: Page) -> None:
    sign_in(page, "ops")
    page.goto("/console/returns/metrics?since=2026-11-01&until=2026-11-30")
    page.click("[data-testid=locale-switch]")
    expect(page.locator("h1")).to_have_text("Returns metrics")
    expect(page.locator("[data-testid=metric-reasons]")).to_contain_text("Quality issue")
    expect(page.locator("[data-testid=metric-decision-reasons]")).to_contain_text("No outlet")
    _charts_drawn(page)
    shot(page, "74-return-metrics-en")


def test_the_metrics_fit_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "ops")
    page.goto("/console/returns/metrics?since=2026-11-01&until=2026-11-30")
    _charts_drawn(page)
    expect(page.locator("[data-testid=metric-skus]")).to_be_visible()
    assert int(page.evaluate("document.scrollingElement.scrollWidth")) <= 390
    shot(page, "75-return-metrics-phone")
