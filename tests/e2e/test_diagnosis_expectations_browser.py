"""Expectations in a real browser: ops create "paid -> ERP booked within 15 min" from its
template over the seeded history and see exactly its breaches. The seed's ERP books 18 minutes
after payment (late for every booked order) and never books two held orders, so all six paid
orders breach, and the two never booked put their totals at risk (528.00 + 698.00)."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import Seeded, make_hub, seed
from openpyxl import load_workbook

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    hub = make_hub(tmp_path_factory.mktemp("expectations-e2e"))
    data = seed(hub)
    with serving(hub) as url:
        yield url, data


def data_numbers(data: Seeded) -> list[str]:
    """Every seeded order that was paid (all but the one left at placed)."""
    return [ext for ext in data.orders if ext != "SP2611220006"]


def test_create_from_a_template_and_see_the_breaches(page: Page,
                                                     site: tuple[str, Seeded]) -> None:
    _, data = site
    sign_in(page, "ops")
    page.goto("/console/diagnosis/expectations")
    expect(page.locator("h1")).to_have_text("预期检查")
    page.click("[data-testid=template-paid_erp_booked]")
    expect(page.locator("[data-testid=code]")).to_have_value("paid_erp_booked")
    expect(page.locator("[data-testid=minutes]")).to_have_value("15")
    expect(page.locator("[data-testid=after] option:checked")).to_have_text("支付成功")
    page.click("[data-testid=save]")

    expect(page.locator("[data-testid=breach-count]")).to_have_text("6")
    expect(page.locator("[data-testid=amount-at-risk]")).to_have_text("¥1,226.00")
    rows = page.locator("[data-testid=breach-row]")
    expect(rows).to_have_count(6)
    never = page.locator("[data-testid=breach-row]", has_text="从未到达")
    expect(never).to_have_count(2)
    expect(never.locator("a")).to_have_text(["YZ2611240004", "SP2611260001"])
    with page.expect_download() as download:
        page.click("[data-testid=export]")
    assert download.value.suggested_filename.startswith("预期未达成-paid_erp_booked-")
    with open(download.value.path(), "rb") as file:
        sheet = load_workbook(BytesIO(file.read())).active
    assert sheet is not None
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(numbers) == sorted(data_numbers(data))
    shot(page, "expectation-breaches-zh")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/console/diagnosis/expectations")
    row = page.locator("[data-testid=expectation-row]")
    expect(row).to_have_count(1)
    expect(row.locator("[data-testid=retroactive-count]")).to_have_text("6")
    assert int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth")) <= 0
    shot(page, "expectations-390-zh")
    page.goto("/console/diagnosis/expectations/paid_erp_booked")
    page.locator("[data-testid=breach-row] a", has_text="SP2611260001").click()
    expect(page).to_have_url(f"/console/orders/{data.orders['SP2611260001']}")


def test_a_bad_time_is_refused_in_the_editor(page: Page, site: tuple[str, Seeded]) -> None:
    sign_in(page, "ops")
    page.goto("/console/diagnosis/expectations/new?template=inbound_po_checked")
    page.fill("[data-testid=minutes]", "0")
    page.evaluate("document.querySelector('[data-testid=minutes]').removeAttribute('min')")
    page.click("[data-testid=save]")
    expect(page.locator("[data-testid=form-error]")).to_contain_text("within_minutes 应为")
