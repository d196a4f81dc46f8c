"""The reconciliation page in a real browser (Debian Chromium via Playwright): finance runs a
reconciliation with a WMS file, reads the rate and the lists in Chinese, sees the chart drawn,
re-pushes a missing order to the ERP, downloads the Excel file, switches to English, and the
page fits a 390 px phone with its tables scrolling in their box.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import make_hub
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconciliation"))
from reconcile_history import DAY, build  # noqa: E402

pytestmark = pytest.mark.browser
PAGE = "/console/diagnosis/reconciliation"
WMS = ("outbound_no,order_no,SKU,quantity,shipped_at\n"
       + "".join(f"OB-C{n:02d},C{n:02d},DIAPER-L,2,{DAY} 12:00\n" for n in range(1, 12))
       + "OB-E4,E4,DIAPER-L,1,2026-11-26 12:00\nOB-X,C01,DIAPER-L,two,2026-11-26\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    hub = make_hub(tmp_path_factory.mktemp("reconcile-e2e"))
    with hub.db.write() as conn:
        token = create_token(AccountRepository(conn), "seed", "ops", hub.clock,
                             ("shopee", "kingdee", "wms", "sf"))[1]
    with TestClient(create_app(hub, with_console=False)) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        build(api)
    with serving(hub) as url:
        yield url


def test_finance_runs_reads_fixes_and_downloads(page: Page, tmp_path: Path) -> None:
    sign_in(page, "finance")
    page.goto(PAGE)
    expect(page.locator("h1")).to_have_text("三方对账")
    page.fill("input[name=since]", DAY)
    page.fill("input[name=until]", DAY)
    wms = tmp_path / "出库单.csv"
    wms.write_text(WMS, encoding="utf-8")
    page.set_input_files("input[name=wms]", str(wms))
    page.click("[data-testid=reconciliation-run]")
    expect(page.locator("[data-testid=reconciliation-orders]")).to_have_text("20")
    # E1 ERP, E2/E3/E5/E7/E8/E9 not in the sheet (missing in WMS), E3, E4 quantity, E5, E6,
    # E7, E8: 9 of 20 orders
    expect(page.locator("[data-testid=reconciliation-rate-value]")).to_have_text("450.000‰")
    expect(page.locator("[data-testid=class-quantity_mismatch]")).to_contain_text("数量不一致")
    expect(page.locator("[data-testid=class-missing_in_wms] tbody tr")).to_have_count(6)
    expect(page.locator("[data-testid=reconciliation-findings]")).to_contain_text("不是正整数数量")
    expect(page.locator("[data-testid=reconciliation-chart] svg")).to_be_visible()
    shot(page, "80-reconciliation-zh")
    missing = page.locator("[data-testid=class-missing_in_erp] tbody tr").first
    missing.locator("button[value=fix]").click()
    expect(page.locator("[data-testid=class-missing_in_erp] tbody tr").first
           ).to_contain_text("已重新排队推送 ERP")
    with page.expect_download() as caught:
        page.click("[data-testid=reconciliation-export]")
    book = load_workbook(BytesIO(Path(caught.value.path()).read_bytes()))
    sheet: Any = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 13  # header + every discrepancy of the run (6 missing in WMS)
    assert {r[2] for r in rows[1:]} >= {"missing_in_erp", "quantity_mismatch"}
    page.click("[data-testid=locale-switch]")
    expect(page.locator("h1")).to_have_text("Three-way reconciliation")
    expect(page.locator("[data-testid=class-missing_in_erp]")).to_contain_text(
        "ERP booking queued")
    shot(page, "81-reconciliation-en")


def test_the_page_fits_a_phone(page: Page) -> None:
    sign_in(page, "viewer")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(PAGE)
    expect(page.locator("[data-testid=reconciliation-rate-value]")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    boxes = page.evaluate("""() => [...document.querySelectorAll('.table-wrap')].map(
        b => getComputedStyle(b).overflowX)""")
    assert boxes and all(o in ("auto", "scroll") for o in boxes)
    expect(page.locator("[data-testid=reconciliation-form]")).to_have_count(0)
    shot(page, "82-reconciliation-phone")
