"""The decision table grid editor in Chromium: ops build the return-centre table by clicking
and typing, save it, try an outlet and see the matching row light up, and download the sheet.

Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (CI installs it with apt: scripts/ensure_chromium.py)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

import uvicorn
from openpyxl import load_workbook

from orderpilot.entrypoints.api.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from console_seed import PASSWORD, make_hub

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
Page = sync_api.Page
expect = sync_api.expect
HIGHLIGHT = "rgb(227, 245, 236)"  # --ok-soft


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    hub = make_hub(tmp_path_factory.mktemp("tables-e2e"))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(hub), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start within 20 s"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        hub.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, site: str) -> Iterator[Page]:
    context = browser.new_context(base_url=site, viewport={"width": 1440, "height": 900},
                                  locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def htmx(page: Page, act: Callable[[], None]) -> None:
    """Do something that sends an HTMX request, and wait until its answer is swapped in."""
    with page.expect_response(lambda r: "/console/decision-tables/" in r.url):
        act()
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-settling, "
                           ".htmx-swapping')")


def type_row(page: Page, n: int, values: list[str]) -> None:
    for cell, text in zip(page.locator(f"tr[data-row='{n}'] [data-testid=cell]").all(), values,
                          strict=True):
        cell.fill(text)


def test_ops_build_try_and_download_the_return_centre_table(page: Page) -> None:
    page.goto("/console")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]:not([data-testid])")
    page.click("nav.nav >> text=决策表")
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
