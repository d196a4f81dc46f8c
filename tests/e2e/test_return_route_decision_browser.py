"""Ops decide an unroutable return on its page in a real browser (Chromium via Playwright): the
exception with the decision buttons (zh and en), picking the Yiwu centre with a note, the route
and who decided shown, ``return.route_decided`` on the timeline; a stale second click is
refused with a message and records nothing; finance sees no buttons.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import Seeded, make_hub, seed

from orderpilot.adapters import tables as t
from orderpilot.domain.return_routing import LastShipment, decide, return_centre
from orderpilot.services import returns

pytestmark = pytest.mark.browser

YIWU = {"name_zh": "义乌退货中心", "name_en": "Yiwu return centre",
        "address": {"country": "CN", "province": "浙江省", "city": "金华市",
                    "district": "义乌市", "line1": "稠江街道退货路88号", "postal_code": "322000"},
        "phone": "057985550000"}


def _seed_unroutable(data: Seeded) -> str:
    """A return whose outlet the policy does not list: it needs a decision."""
    hub = data.hub
    ret = returns.request_return(returns.RequestReturn(
        data.orders["TM2611230005"], [("SKU-MILK-01", 1)], ["wrong_size"], "尺码偏小",
        source="tmall", source_event_id="TM-R-DECIDE"), hub.uow, hub.clock).ret
    with hub.uow() as uow:
        uow.return_routing.put_centre(return_centre("YIWU", YIWU), "ops", hub.clock())
        shipment = LastShipment("sf", "SF1040009999", "SF-9999")
        uow.return_routing.save_route(ret.id, ret.order_id, shipment,
                                      decide(shipment, "SF-9999", None, None, None),
                                      None, hub.clock())
    hub.rules.install_template("return-route-decided", "ops", enable=True)
    return ret.id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    hub = make_hub(tmp_path_factory.mktemp("route-decision-e2e"))
    data = seed(hub)
    made: dict[str, Any] = {"return_id": _seed_unroutable(data), "hub": hub,
                            "orders": data.orders}
    with serving(hub) as url:
        yield url, made


def test_a_finance_user_sees_the_exception_but_no_decision_buttons(
        page: Page, site: tuple[str, dict[str, Any]]) -> None:
    sign_in(page, "finance")
    page.goto(f"/console/returns/{site[1]['return_id']}")
    expect(page.locator("[data-testid=return-route]")).to_contain_text("SF-9999")
    expect(page.locator("[data-testid=route-decision]")).to_have_count(0)


def test_ops_pick_the_centre_and_a_stale_second_click_is_refused(
        page: Page, site: tuple[str, dict[str, Any]]) -> None:
    return_id, hub = site[1]["return_id"], site[1]["hub"]
    sign_in(page, "ops")
    page.goto(f"/console/returns/{return_id}")
    route = page.locator("[data-testid=return-route]")
    expect(route).to_contain_text("需要人工处理")
    expect(route).to_contain_text("退货政策中没有网点 SF-9999")
    expect(page.locator("[data-testid=route-pick]")).to_have_text("改退到此退货中心")
    expect(page.locator("[data-testid=route-retry]")).to_have_text("按退货政策重新路由")
    shot(page, "73-return-needs-a-decision-zh")
    stale = page.context.new_page()  # a second tab, opened before the decision
    stale.goto(f"/console/returns/{return_id}")

    page.select_option("[data-testid=route-centre]", "YIWU")
    page.fill("[data-testid=route-note]", "买家在义乌附近")
    page.click("[data-testid=route-pick]")
    expect(route).to_contain_text("YIWU")
    expect(route).to_contain_text("稠江街道退货路88号")
    expect(page.locator("[data-testid=route-decided]")).to_contain_text("买家在义乌附近")
    expect(page.locator("[data-testid=route-decision]")).to_have_count(0)
    expect(page.locator("[data-testid=return-timeline]")).to_contain_text("退货路由已人工决定")
    shot(page, "74-return-decided-zh")

    stale.click("[data-testid=route-retry]")  # the second click, from the stale tab
    expect(stale.locator("[data-testid=return-error]")).to_contain_text("无需人工决定")
    stale.close()
    with hub.db.read() as conn:
        decided = conn.execute(sa.select(sa.func.count()).select_from(t.events).where(
            t.events.c.type == "return.route_decided")).scalar()
        row = conn.execute(sa.select(t.return_routes).where(
            t.return_routes.c.return_id == return_id)).one()
    assert decided == 1
    assert (row.return_centre, row.decision, row.decided_by) == ("YIWU", "centre", "ops")


def test_the_decision_buttons_in_english(page: Page, site: tuple[str, dict[str, Any]]) -> None:
    hub = site[1]["hub"]
    ret = returns.request_return(returns.RequestReturn(
        site[1]["orders"]["OS2611250003"], [("SKU-MILK-01", 1)], ["wrong_size"], "",
        source="own_store", source_event_id="OS-R-DECIDE"), hub.uow, hub.clock).ret
    with hub.uow() as uow:
        uow.return_routing.save_route(ret.id, ret.order_id, None,
                                      decide(None, None, None, None, None), None, hub.clock())
    sign_in(page, "ops")
    page.goto(f"/console/returns/{ret.id}")
    page.click("[data-testid=locale-switch]")
    route = page.locator("[data-testid=return-route]")
    expect(route).to_contain_text("Needs a decision")
    expect(route).to_contain_text("The order has no shipment")
    expect(page.locator("[data-testid=route-pick]")).to_have_text("Route to this centre")
    expect(page.locator("[data-testid=route-retry]")).to_have_text("Route again by the policy")
    page.click("[data-testid=route-retry]")  # nothing was fixed: routed again by the policy
    expect(page.locator("[data-testid=route-rerouting]")).to_be_visible()
    shot(page, "75-return-rerouting-en")
