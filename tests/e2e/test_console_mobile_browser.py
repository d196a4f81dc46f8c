"""The console on a phone (390 x 844) in Chromium: every main page fits the screen width, its
tables scroll inside their own box, the menu folds behind a button that opens and closes it,
and each menu label stays on one line. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from browser_support import Page, expect, serving, shot, sign_in
from console_seed import Seeded, _place, make_hub, seed

from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.domain.commands import ReportEvent
from orderpilot.domain.errors import OrderpilotError
from orderpilot.services import ordering
from orderpilot.simulators import demo_inventory, demo_rules

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    hub = make_hub(tmp_path_factory.mktemp("mobile-e2e"))
    data = seed(hub)
    demo_rules.install_rules(hub)
    demo_inventory.setup_demo_inventory(hub)
    # A large bonded-zone order paid: the demo's rules hold it, open a ticket and (with no
    # customs service configured) fail the customs check, so runs and tickets have rows.
    now = datetime.now(UTC)
    order_id = _place(hub, "youzan", "YZ-BIG-0001", now, city="宁波市",
                      line1="北仑区保税区港城大道1号", phone="13800001234", name="周杰",
                      price="6000.00")
    ordering.report_event(ReportEvent(order_id, "payment.succeeded", "youzan", now,
                                      source_event_id="pay-big"), hub.uow, hub.clock)
    dispatcher, runner = hub.dispatcher("seed"), hub.runner("seed")
    for _ in range(4):
        dispatcher.run_once()
        runner.run_once()
    data.orders["YZ-BIG-0001"] = order_id
    try:  # a WMS step the lifecycle refuses: a row on 被拒回报
        ordering.report_event(ReportEvent(order_id, "wms.packed", "wms", now,
                                          source_event_id="refused-1"), hub.uow, hub.clock)
    except OrderpilotError:
        pass
    with serving(hub) as url:
        yield url, data


def main_pages(data: Seeded) -> list[tuple[str, str, str]]:
    """(name, path, a selector that must be visible): the pages staff open every day."""
    with data.hub.uow() as uow:
        rule = uow.rules.listing()[0]
    with data.hub.db.read() as conn:
        promotion = InventoryRepository(conn).promotions.recent()[0]
    order = data.orders["YZ-BIG-0001"]  # held, with rule runs and a ticket: the widest order
    return [
        ("dashboard", "/console", ".kpis"),
        ("orders", "/console/orders", "table"),
        ("order", f"/console/orders/{order}", ".timeline"),
        ("exceptions", "/console/exceptions", "table"),
        ("tickets", "/console/tickets", "[data-testid=ticket-row]"),
        ("rules", "/console/rules", "table"),
        ("rule", f"/console/rules/{rule.id}", "main form"),
        ("rule-runs", "/console/rule-runs", "[data-testid=runs-table]"),
        ("messages", "/console/messages", "h1"),
        ("inventory", "/console/inventory", "[data-testid=sources]"),
        ("channels", "/console/channels", "h1"),
        ("system", "/console/system", "h1"),
        ("decision-tables", "/console/decision-tables", "h1"),
        ("promotions", "/console/promotions", "h1"),
        ("promotion", f"/console/promotions/{promotion.id}", "h1"),
        ("return-metrics", "/console/returns/metrics", ".kpis"),
        ("refused-reports", "/console/refused-reports", "[data-testid=refused-list]"),
    ]


def page_width(page: Page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def wider_than_the_screen(page: Page) -> list[str]:
    """The elements sticking out past the right edge (outside any scrolling box), to say
    which one breaks the page when it does."""
    found: list[str] = page.evaluate("""() => {
      const out = [];
      const inScroller = (el) => {
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
          const s = getComputedStyle(p);
          if (['auto', 'scroll', 'hidden'].includes(s.overflowX)) { return true; }
        }
        return false;
      };
      for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width > 0 && box.right > window.innerWidth + 1 && !inScroller(el)) {
          out.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : '')
                   + ' right=' + Math.round(box.right));
        }
      }
      return out.slice(0, 8);
    }""")
    return found


def test_every_main_page_fits_a_phone(page: Page, site: tuple[str, Seeded]) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "admin")
    too_wide = {}
    for locale in ("zh", "en"):
        for name, path, key in main_pages(site[1]):
            page.goto(path)
            expect(page.locator(key).first).to_be_visible()
            shot(page, f"70-phone-{name}-{locale}")
            if page_width(page) > PHONE["width"] + 1:
                too_wide[f"{name} ({locale})"] = (page_width(page), wider_than_the_screen(page))
        if locale == "zh":  # the language switch sits in the folded menu
            page.locator("[data-testid=menu-toggle]").click()
            page.locator("[data-testid=locale-switch]").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
    assert not too_wide, f"pages wider than a phone: {too_wide}"


def test_a_rule_run_fits_a_phone(page: Page, site: tuple[str, Seeded]) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "ops")
    page.goto("/console/rule-runs")
    page.locator("[data-testid=runs-table] a.mono").first.click()
    expect(page.locator("[data-testid=condition-leaves]")).to_be_visible()
    shot(page, "72-phone-rule-run")
    assert page_width(page) <= PHONE["width"] + 1, wider_than_the_screen(page)


def test_tables_scroll_inside_their_box(page: Page, site: tuple[str, Seeded]) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "admin")
    page.goto("/console/orders")
    table = page.locator("table").first
    expect(table).to_be_visible()
    box: dict[str, Any] = page.evaluate("""() => {
      const t = document.querySelector('table');
      let p = t.parentElement;
      while (p && !['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) {
        p = p.parentElement;
      }
      return {table: t.scrollWidth, box: p ? p.clientWidth : null,
              scrolls: p ? p.scrollWidth > p.clientWidth : false};
    }""")
    assert box["box"] is not None and box["box"] <= PHONE["width"], box
    assert box["table"] > box["box"] and box["scrolls"], \
        f"the orders table should be wider than the phone and scroll in its box: {box}"


def test_the_menu_folds_behind_a_button(page: Page, site: tuple[str, Seeded]) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, "admin")
    page.goto("/console/orders")
    toggle = page.locator("[data-testid=menu-toggle]")
    nav = page.locator("nav.nav")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    assert page.evaluate("document.querySelector('.topbar').offsetHeight") <= 64

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    links = nav.locator("a")
    assert links.count() >= 10
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('nav.nav a'))"
                         ".lineHeight) || 21")
    for i in range(links.count()):
        expect(links.nth(i)).to_be_visible()
        assert links.nth(i).bounding_box()["height"] < 3 * line  # type: ignore[index]
    assert labels_on_one_line(page) == {}
    shot(page, "71-phone-menu-open")
    assert page_width(page) <= PHONE["width"] + 1

    nav.locator("a", has_text="异常工作台").click()
    expect(page.locator("h1")).to_contain_text("异常")
    expect(page.locator("nav.nav")).to_be_hidden()  # a new page starts with the menu folded
    page.locator("[data-testid=menu-toggle]").click()
    expect(page.locator("nav.nav")).to_be_visible()
    page.locator("[data-testid=menu-toggle]").click()
    expect(page.locator("nav.nav")).to_be_hidden()


def labels_on_one_line(page: Page) -> dict[str, int]:
    """Menu label -> the lines it takes, for the labels that take more than one."""
    found: dict[str, int] = page.evaluate("""() => {
      const out = {};
      for (const a of document.querySelectorAll('nav.nav a')) {
        const r = document.createRange(); r.selectNodeContents(a);
        const lines = r.getClientRects().length;
        if (lines !== 1) { out[a.textContent.trim()] = lines; }
      }
      return out;
    }""")
    return found


@pytest.mark.parametrize("width", [1440, 1200])
def test_the_whole_menu_fits_beside_the_page_on_a_desktop(page: Page, site: tuple[str, Seeded],
                                                          width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "admin")
    nav = page.locator("nav.nav")
    for locale in ("zh", "en"):
        expect(nav).to_be_visible()
        expect(page.locator("[data-testid=menu-toggle]")).to_be_hidden()
        assert nav.locator("a").count() >= 10
        assert labels_on_one_line(page) == {}, locale
        fits = nav.evaluate("n => n.scrollWidth <= n.clientWidth")
        assert fits, f"the {locale} menu is wider than the page at {width} px"
        assert page_width(page) <= width
        if locale == "zh":
            page.click("[data-testid=locale-switch]")
            expect(page.locator("html")).to_have_attribute("lang", "en")
