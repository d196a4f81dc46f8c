"""The lifecycle board in Chromium, on the history with known lags (tests/analytics/
flow_history.py): a viewer opens 诊断 from the menu, reads the ERP finding, sees the graph drawn
(Cytoscape's own count of nodes and edges), clicks the paid -> ERP edge and gets its slowest
orders with links to the order page; at 390 px the page does not scroll sideways.

Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import PASSWORD, USERS
from fastapi.testclient import TestClient

from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token, create_user

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analytics"))
from flow_history import build  # noqa: E402

from conftest import TEST_SOURCES, FakeClock  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    clock = FakeClock()
    hub = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("flow-e2e"),
                             embedded_dispatcher=False, log_level="WARNING",
                             _env_file=None), clock=clock)  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    with hub.db.write() as conn:
        for name, role in USERS.items():
            create_user(AccountRepository(conn), name, PASSWORD, role, hub.clock)
        token = create_token(AccountRepository(conn), "flow", "ops", hub.clock,
                             TEST_SOURCES)[1]
    with TestClient(create_app(hub, with_console=False)) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        ids = build(api, clock)
    with serving(hub) as url:
        yield url, ids


def click_edge(page: Page, edge: str) -> None:
    """Click the middle of an edge as drawn on the canvas."""
    point = page.evaluate(
        "id => { const p = window.flowGraph.getElementById(id).renderedMidpoint();"
        " return {x: p.x, y: p.y}; }", edge)
    box = page.locator("#flow-graph").bounding_box()
    assert box is not None
    with page.expect_response(lambda r: "/console/diagnosis/flow/slowest" in r.url):
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])


def test_a_viewer_reads_the_board_and_the_slowest_orders_of_an_edge(
        page: Page, site: tuple[str, list[str]]) -> None:
    ids = site[1]
    sign_in(page, "viewer")
    page.click("nav.nav >> text=诊断")
    expect(page.locator("h1")).to_have_text("诊断")
    # the lifecycle board, walkthrough, reconciliation, expectations and refused reports
    expect(page.locator("[data-testid=diagnosis-pages] a")).to_have_count(5)
    page.click("[data-testid=diagnosis-flow]")
    expect(page.locator("h1")).to_have_text("生命周期看板")
    expect(page.locator("[data-testid=finding][data-code='average_time.paid.erp_booked']")
           ).to_have_text("ERP 平均在付款后 12 分钟入账")

    page.wait_for_function("window.flowGraph && window.flowGraph.nodes().length > 0")
    drawn = page.evaluate("({nodes: flowGraph.nodes().length, edges: flowGraph.edges().length,"
                          " width: flowGraph.getElementById('placed>paid').data('width'),"
                          " colour: flowGraph.getElementById('paid>erp_booked')"
                          ".data('colour')})")
    # placed, paid, booked, released, packed, picked; order 3 went released -> packed -> picked
    assert (drawn["nodes"], drawn["edges"]) == (6, 5)
    assert drawn["width"] == 10  # the busiest edge: six orders
    assert drawn["colour"] == "#2e7d32"  # p90 816 s against the 15 min target
    expect(page.locator("[data-testid=sources] tbody tr")).to_have_count(4)
    shot(page, "90-diagnosis-flow-zh")

    click_edge(page, "paid>erp_booked")
    rows = page.locator("[data-testid=slowest-orders] tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.first).to_contain_text("FLOW-4")
    for text in ("14分0秒", "2026-11-26 10:05:00", "2026-11-26 10:19:00"):  # Beijing time
        expect(rows.first).to_contain_text(text)
    shot(page, "91-diagnosis-flow-slowest-zh")
    rows.first.locator("a").click()
    expect(page).to_have_url(f"{site[0]}/console/orders/{ids[4]}")


def test_the_board_fits_a_phone(page: Page, site: tuple[str, list[str]]) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "ops")
    page.goto("/console/diagnosis/flow?channel=shopee")
    page.wait_for_function("window.flowGraph && window.flowGraph.nodes().length > 0")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    graph = page.locator("#flow-graph").bounding_box()
    assert graph is not None and graph["width"] <= 390
    expect(page.locator("[data-testid=finding]").first).to_be_visible()
    shot(page, "92-diagnosis-flow-390")
