"""The returns board and a return's page in a real browser (Chromium via Playwright): the board
by status with an overdue return, the reason filter, inspecting a return (restockable units
back on hand), finance refunding it, and the board on a phone (390 px) scrolling in its box.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import SeedClock, Seeded, make_hub, seed

from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.domain.inventory import Source
from orderpilot.services import returns
from orderpilot.services.inventory import sync as inventory_sync

pytestmark = pytest.mark.browser


def _seed_returns(data: Seeded) -> dict[str, str]:
    hub = data.hub
    clock = hub.clock
    assert isinstance(clock, SeedClock)
    inventory_sync.put_source(Source("NB", "bonded_spot", "宁波北仑保税仓", "Ningbo bonded",
                                     "宁波北仑保税区", 1), hub.uow, hub.clock)
    inventory_sync.apply_levels("wms-demo", [inventory_sync.LevelReport("NB", "SKU-MILK-01", 40)],
                                hub.uow, hub.clock)
    clock.at = datetime.now(UTC) - timedelta(days=3)  # requested three days ago: overdue
    late = returns.request_return(returns.RequestReturn(
        data.orders["OS2611250003"], [("SKU-MILK-01", 1)], reason_text="尺码偏小",
        source="own_store", source_event_id="OS-R1"), hub.uow, hub.clock).ret.id
    clock.at = datetime.now(UTC) - timedelta(hours=2)
    fresh = returns.request_return(returns.RequestReturn(
        data.orders["TM2611230005"], [("SKU-MILK-01", 2)], ["damaged_packaging"],
        "盒子压坏了", source="tmall", source_event_id="TM-R1"), hub.uow, hub.clock).ret.id
    for step in ("approved", "received"):
        returns.move_return(returns.Move(fresh, step, "ops"), hub.uow, hub.clock)
    clock.at = None
    return {"late": late, "fresh": fresh}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    hub = make_hub(tmp_path_factory.mktemp("returns-e2e"))
    made: dict[str, Any] = {**_seed_returns(seed(hub)), "hub": hub}
    with serving(hub) as url:
        yield url, made


def test_the_board_shows_returns_by_status_with_the_overdue_one_marked(page: Page) -> None:
    sign_in(page, "ops")
    page.click("nav.nav >> text=退货")
    expect(page.locator("h1")).to_have_text("退货")
    requested = page.locator("[data-testid=return-column-requested] [data-testid=return-card]")
    expect(requested).to_have_count(1)
    expect(requested.first).to_have_class("return-card overdue")
    expect(requested.first).to_contain_text("尺码不符")
    received = page.locator("[data-testid=return-column-received] [data-testid=return-card]")
    expect(received).to_have_count(1)
    expect(received.first).not_to_have_class("return-card overdue")
    expect(page.locator("[data-testid=return-summary]")).to_contain_text("1 个已超时")
    shot(page, "70-returns-board-zh")
    page.select_option("[data-testid=return-reason-filter] select", "damaged_packaging")
    page.wait_for_url("**reason=damaged_packaging")
    expect(page.locator("[data-testid=return-card]")).to_have_count(1)
    expect(page.locator("[data-testid=return-column-received] [data-testid=return-card]")) \
        .to_have_count(1)


def test_inspect_then_refund_from_the_return_page(page: Page,
                                                  site: tuple[str, dict[str, Any]]) -> None:
    made = site[1]
    sign_in(page, "ops")
    page.goto(f"/console/returns/{made['fresh']}")
    expect(page.locator("[data-testid=return-status]")).to_have_text("已收货")
    page.fill("[data-testid=restockable-SKU-MILK-01]", "1")
    page.fill("[data-testid=damaged-SKU-MILK-01]", "0")
    page.select_option("[data-testid=stock-source]", "NB")
    page.click("[data-testid=move-inspected]")
    expect(page.locator("[data-testid=return-error]")).to_contain_text("可再售 + 损坏")
    page.fill("[data-testid=restockable-SKU-MILK-01]", "1")  # the page shows the stored lines
    page.fill("[data-testid=damaged-SKU-MILK-01]", "1")
    page.select_option("[data-testid=stock-source]", "NB")
    page.click("[data-testid=move-inspected]")
    expect(page.locator("[data-testid=return-status]")).to_have_text("已质检")
    expect(page.locator("[data-testid=return-timeline]")).to_contain_text("退货已质检")
    expect(page.locator("[data-testid=move-refunded]")).to_have_count(0)  # ops do not refund
    with made["hub"].db.read() as conn:  # 40 on hand + the 1 restockable unit, at once
        assert InventoryRepository(conn).level("NB", "SKU-MILK-01").on_hand == 41
    page.context.clear_cookies()
    sign_in(page, "finance")
    page.goto(f"/console/returns/{made['fresh']}")
    page.click("[data-testid=move-refunded]")
    expect(page.locator("[data-testid=return-status]")).to_have_text("已退款")
    # TM2611230005: 3 x 89.00 + 10.00 shipping = 277.00; two units: floor(277.00 x 2 / 3)
    expect(page.locator("[data-testid=refund-total]")).to_contain_text("184.66")
    shot(page, "71-return-refunded-zh")


def test_the_board_fits_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "ops")
    page.goto("/console/returns")
    expect(page.locator("[data-testid=return-board]")).to_be_visible()
    assert int(page.evaluate("document.scrollingElement.scrollWidth")) <= 390
    shot(page, "72-returns-board-phone")
