"""Every console page in zh-CN shows no raw code and no English sentence; every page in English
shows no Chinese outside the data people entered (issue 11, item 1).

The pages are the console's GET routes, read from ``console.ROUTERS``, so a new page is covered
without touching this test; path parameters are filled from seeded data (orders with holds,
one held for want of stock, rules with runs incl. a failed step and a run of every return
template (a return held for a decision, decided, inspected, refunded, then a second return),
tickets, messages, a decision table, a promotion, channels, inventory sources). The visible
text is what a person reads: text nodes outside <script>/<style>, plus title, placeholder,
aria-label and alt attributes and <option> text. Technical data shown as such (<pre>, <code>,
<textarea>: raw payloads, request and response bodies, outside systems' error answers, JSON
examples, ``{{ }}`` expressions) is not language.

To extend the allow-list: a brand, system name or unit goes in ``NAMES``; an identifier the
seed's people chose in ``IDENTIFIERS`` (logins and the rules' step ids and output names are read
from the database); Chinese an English page shows on purpose in ``SHOWN_IN_CHINESE``. A page
that cannot be fixed yet goes in ``PENDING`` with the reason.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.audit import Actor
from orderpilot.domain.commands import LineInput, PlaceHold, PlaceOrder, ReleaseHold, ReportEvent
from orderpilot.domain.decision_tables import Column, example_return_centres
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.expectations import TEMPLATES as EXPECTATION_TEMPLATES
from orderpilot.domain.return_routing import address_text
from orderpilot.domain.rules.templates import TEMPLATES
from orderpilot.entrypoints.api.app import create_app
from orderpilot.entrypoints.console import ROUTERS
from orderpilot.entrypoints.expectation_analysis import evaluator
from orderpilot.entrypoints.reconciliation import reconciliations
from orderpilot.services import accounts, audit_trail, expectations, ordering, returns
from orderpilot.services.accounts import create_user
from orderpilot.services.returns_routing.decisions import DecideRoute, decide_route
from orderpilot.simulators import demo_channels, demo_inventory, demo_rules
from orderpilot.simulators.external.server import SimServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from console_seed import PASSWORD, SeedClock, seed  # noqa: E402

from orderpilot.domain.walkthrough import Params  # noqa: E402

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')

# Brand and system names, units and abbreviations that stay as they are in Chinese.
NAMES = frozenset("""
    Shopee Lazada TikTok Shop Shopify WooCommerce Youzan Tmall JD Pinduoduo Douyin WeChat
    ERP WMS CRM SMS API HTTP HTTPS JSON JDM Excel CSV xlsx csv orderpilot Kingdee SF Express
    DingTalk WeCom Aliyun Tencent Cloud Galaxy K3Cloud HMAC SMTP URL Webhook ID SKU TTL HTMX zen
    kg g ml min ms px MB KB h s d
    English zh en op json
""".split())
# Identifiers the seed's people chose (shop codes, table names, tags): data, not language.
# Logins and the step ids and output names of the seeded rules are read from the database.
IDENTIFIERS = frozenset("""
    return_centres youzan-mini own-store shopee-sg lazada-sg vip demo
""".split())

# Pages not yet clean, by route name, each with why; remove a name once its page passes.
PENDING: dict[str, str] = {}
URL = re.compile(r"(?:https?://|/)[\w./:%?&=+#{}-]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CODE = re.compile(r"(?<![\w.-])[a-z][a-z0-9]*(?:[._][a-z0-9]+)+(?![\w-])")
WORD = re.compile(r"(?<![\w-])[A-Za-z]*[a-z][A-Za-z]*(?![\w-])")
CJK = re.compile(r"[\u3400-\u9fff]+")
# Chinese an English page shows on purpose: the language switch, the Chinese column headers of
# the stock sheet, examples in the inputs for Chinese names.
SHOWN_IN_CHINESE = frozenset(
    "中文 仓库 在库 预计到货 宁波北仑保税仓 宁波北仑保税区 上海 北京".split())
SKIPPED = {"script", "style", "pre", "code", "textarea"}
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")


class VisibleText(HTMLParser):
    """The texts a person reads on a page, one entry per text node or shown attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping.append(tag)
        found = dict(attrs)
        for name in SHOWN_ATTRIBUTES:
            if found.get(name):
                self.texts.append(str(found[name]))
        if tag == "input" and found.get("type") in ("submit", "button") and found.get("value"):
            self.texts.append(str(found["value"]))

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.texts


# Template syntax people type into rules: ``{{ order.id }}``, SMS variables ``${order_no}``.
EXPRESSION = re.compile(r"\{\{[^}]*\}\}|\$\{[^}]*\}")


def is_json(text: str) -> bool:
    if not text.strip().startswith(("{", "[")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def english_in_chinese(text: str, identifiers: frozenset[str] = IDENTIFIERS) -> list[str]:
    """Raw codes (``out_of_stock``, ``ticket.opened``) and English words that are not names."""
    text = EXPRESSION.sub("0", text)
    if is_json(text):
        return []  # an example or a value in JSON: technical data
    text = URL.sub(" ", text)
    for identifier in identifiers:
        text = re.sub(rf"(?<![\w-]){re.escape(identifier)}(?![\w-])", " ", text)
    found = CODE.findall(text)
    text = CODE.sub(" ", text)
    found += [w for w in WORD.findall(text) if w not in NAMES]
    return found


def chinese_in_english(text: str, data: str) -> list[str]:
    """Chinese runs that are not in the data people entered (everything stored counts)."""
    return [run for run in CJK.findall(text) if run not in data and run not in SHOWN_IN_CHINESE]


def test_the_checks_catch_what_they_are_for() -> None:
    assert english_in_chinese("原因 out_of_stock") == ["out_of_stock"]
    assert english_in_chinese("事件 ticket.opened") == ["ticket.opened"]
    assert english_in_chinese("优先级 low") == ["low"]
    assert english_in_chinese("cannot allocate: TEETHER-01 x1") == ["cannot", "allocate"]
    assert english_in_chinese("Shopee 订单 SP2611260001，SKU-MILK-01 共 2 件，800g") == []
    assert english_in_chinese("回调地址 https://hub.example/hooks/shopee-sg，ops") == ["ops"]
    assert english_in_chinese("回调地址 https://hub.example/hooks/shopee-sg，ops",
                              frozenset({"ops"})) == []
    assert english_in_chinese('{"phone": "{{ order.customer.phone }}"}') == []
    assert visible_texts('<p title="Hold">a<script>x()</script><pre>{"a_b": 1}</pre></p>'
                         '<select><option>pull</option></select>') == ["Hold", "a", "pull"]
    assert chinese_in_english("Order 订单 for 王芳", "王芳") == ["订单"]


@dataclass
class Site:
    hub: Hub
    values: dict[str, list[str]] = field(default_factory=dict)  # path parameter -> values
    identifiers: frozenset[str] = IDENTIFIERS


def typed_identifiers(hub: Hub) -> frozenset[str]:
    """Logins, and the step ids and output names of the rules: identifiers people chose."""
    found = set(IDENTIFIERS)
    with hub.db.read() as conn:
        found.update(conn.execute(sa.select(t.users.c.username)).scalars())
        for definition in conn.execute(sa.select(t.rule_versions.c.definition)).scalars():
            steps = list(definition.get("actions", []))
            for action in list(steps):  # and the steps of their branches
                steps.extend(action.get("on_error", {}).get("branch", []))
                for branch in (action.get("on_outcome") or {}).values():
                    steps.extend(branch)
            for action in steps:
                found.add(action.get("id", ""))
                found.update(action.get("params", {}).get("output", {}) or {})
    return frozenset(found - {""})


def _settle(hub: Hub) -> None:
    dispatcher, runner = hub.dispatcher("seed"), hub.runner("seed")
    for _ in range(20):
        if dispatcher.run_once() + runner.run_once() == 0:
            return


def _report(hub: Hub, order_id: str, type_: str, source: str, data: dict[str, Any]) -> None:
    ordering.report_event(ReportEvent(order_id, type_, source, datetime.now(UTC), data=data),
                          hub.uow, hub.clock)


def _youzan_order(hub: Hub, external_id: str, sku: str, quantity: int, price: str,
                  phone: str) -> str:
    """A mini-program order to the bonded zone, paid: stock is allocated on placement, and
    over 500 the bonded-zone customs check runs."""
    total = str(Decimal(price) * quantity)
    order_id = ordering.place_order(PlaceOrder(
        channel="youzan", shop_id="youzan-mini", external_id=external_id,
        placed_at=datetime.now(UTC) - timedelta(hours=1), currency="CNY",
        customer_name="周小芳", customer_phone=phone,
        address={"country": "CN", "province": "浙江省", "city": "宁波市", "district": "北仑区",
                 "line1": "保税区港东大道8号", "postal_code": "315800"},
        lines=(LineInput(sku, quantity, price, "安抚牙胶"),), total=total, shipping_fee="0",
        raw_payload={"tid": external_id}, raw_source="youzan", raw_version="v3"),
        hub.uow, hub.clock).order_id
    ordering.report_event(ReportEvent(order_id, "payment.succeeded", "youzan",
                                      datetime.now(UTC), source_event_id=f"pay-{external_id}",
                                      data={"amount": total}), hub.uow, hub.clock)
    return order_id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sim: SimServer) -> Iterator[Site]:
    for name in ("customs", "aliyun-sms", "tencent-sms", "helpdesk", "crm", "dingtalk"):
        sim.admin().delete(f"/_sim/{name}")
    hub = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("catalogue"), sim_url=sim.url,
                             embedded_dispatcher=False, log_level="WARNING",
                             dispatch_max_attempts=1, _env_file=None),  # type: ignore[call-arg]
                    clock=SeedClock())
    migrations.upgrade(hub.db)
    with hub.db.write() as conn:
        for login, role, name in (("admin", "admin", "管理员小周"), ("ops", "ops", "运营小王"),
                                  ("viewer", "viewer", "实习生"), ("finance", "finance", "财务")):
            create_user(AccountRepository(conn), login, PASSWORD, role, hub.clock,
                        display_name=name)
    demo_rules.install_rules(hub)
    demo_inventory.setup_demo_inventory(hub)
    demo_channels.connect_shops(hub, sim.url)
    hub.decision_tables.save(replace(  # the example, as a Chinese team would have typed it
        example_return_centres(), inputs=[Column("event.data.outlet_code", "承运商网点")],
        outputs=[Column("centre", "退货中心"), Column("centre_name", "中心名称")],
        description="承运商网点代码 → 退货中心"), "ops", "初始版本")
    seeded = seed(hub)  # orders, holds, a dead letter, quarantine
    orders = list(seeded.orders.values())
    # 成效 (Outcomes): a hold a person placed (a manual intervention and its reason) and a
    # cancellation with the buyer's reason.
    with audit_trail.acting_as(Actor("ops", "ops", "user", "console")):
        ordering.place_hold(PlaceHold(seeded.orders["SP2611220006"], "price_error", "价格待核",
                                      "ops", "user"), hub.uow, hub.clock)
    _report(hub, seeded.orders["SP2611220006"], "order.cancelled", "shopee",
            {"reason": "买家不想要了"})
    # A return on the delivered order, its reason read from the buyer's words, approved.
    return_id = returns.request_return(returns.RequestReturn(
        seeded.orders["TM2611230005"], [("SKU-MILK-01", 1)],
        reason_text="盒子压坏了，奶粉罐也凹了", source="tmall", source_event_id="RT-1"),
        hub.uow, hub.clock).ret.id
    returns.move_return(returns.Move(return_id, "approved", "ops", "同意退货"), hub.uow,
                        hub.clock)
    _settle(hub)  # 退货路由: the order has no shipment, so it is held for a person to decide
    # Every return template runs: ops pick the centre (the pickup is booked, the buyer texted),
    # the parcel comes back and is inspected (replenishment), refunded (the receivable is
    # credited), and the buyer asks for a second return (their level is lowered).
    decide_route(DecideRoute(return_id, "ops", return_centre="YIWU", note="改退义乌"),
                 hub.uow, hub.clock)
    _settle(hub)
    for target in ("in_transit", "received"):
        returns.move_return(returns.Move(return_id, target, "ops"), hub.uow, hub.clock)
    returns.move_return(returns.Move(return_id, "inspected", "ops"), hub.uow, hub.clock,
                        returns.Inspection({"SKU-MILK-01": (1, 0)}, "HZ-DOMESTIC"))
    _settle(hub)
    returns.move_return(returns.Move(return_id, "refunded", "finance"), hub.uow, hub.clock)
    returns.request_return(returns.RequestReturn(
        seeded.orders["TM2611230005"], [("SKU-MILK-01", 1)], reason_text="又有一罐凹了",
        source="tmall", source_event_id="RT-2"), hub.uow, hub.clock)
    _settle(hub)
    # Held for want of stock (a note the hub writes), checked by customs: hold, SMS, ticket.
    orders.append(_youzan_order(hub, "YZ2611260101", "TEETHER-01", 40, "19.90", "13911112222"))
    _settle(hub)
    _report(hub, orders[-1], "customer.contacted", "crm", {"channel": "wechat", "topic": "改地址"})
    sim.admin().post("/_sim/customs/faults", json={"status": 400, "times": 10})
    orders.append(_youzan_order(hub, "YZ2611260102", "DIAPER-L", 5, "129.00", "13933334444"))
    _settle(hub)  # the customs check is refused: a failed step
    # Refused system reports (被拒回报): a WMS step the lifecycle refuses, a courier's report
    # for an order the hub does not know.
    for order_id, type_, source in ((orders[-1], "wms.packed", "wms"),
                                    ("SF-UNKNOWN-1", "shipment.shipped", "sf")):
        with pytest.raises(OrderpilotError):
            ordering.report_event(ReportEvent(order_id, type_, source, datetime.now(UTC),
                                              source_event_id=f"refused-{type_}",
                                              data={"parcel": "P1"}), hub.uow, hub.clock)
    today = datetime.now(UTC).date()  # a reconciliation of the seeded weeks (its page's lists)
    assert reconciliations(hub).run(today - timedelta(days=30), today, {}, "ops").counts[
        "missing_in_erp"] > 0  # the seed books nothing in the ERP: the page lists them
    # An expectation from the seed's templates: the paid orders the ERP never booked breach it.
    expectations.publish(hub.uow, hub.clock, "paid_erp_booked", EXPECTATION_TEMPLATES[0],
                         "ops", evaluator(hub))
    with hub.db.read() as conn:
        runs = [r.id for r in conn.execute(sa.select(t.rule_runs.c.id))]
        rules = [r.id for r in conn.execute(sa.select(t.rules.c.id))]
        promotions = [r.id for r in conn.execute(sa.select(t.promotions.c.id))]
        exceptions = [r.id for r in conn.execute(sa.select(t.exceptions.c.id))]
        ran = set(conn.execute(sa.select(t.rules.c.template_id).join(
            t.rule_runs, t.rule_runs.c.rule_id == t.rules.c.id)).scalars())
    assert runs and rules and promotions and exceptions
    assert set(demo_rules.RETURN_RULES) <= ran  # each return template's run pages are read
    audits = [hub.walkthrough().run(Params(100, 1), "ops", None, pii=True).id]
    # The audit trail (操作审计): people's changes, one of each kind the page names, and one a
    # service did not name (the backstop's request entry).
    with audit_trail.acting_as(Actor("ops", "ops", "user", "console")):
        held = next(o for o in orders if _active_holds(hub, o))
        ordering.release_hold(ReleaseHold(held, _active_holds(hub, held)[0], "ops",
                                          "已与买家核实", reason="verified_with_buyer"),
                              hub.uow, hub.clock)
        returns.put_keywords({"压坏": "damaged_packaging"}, "ops", hub.uow, hub.clock)
    with audit_trail.acting_as(Actor("admin", "admin", "user", "console")), \
            hub.db.write() as conn:
        accounts.set_role(AccountRepository(conn), "viewer", "finance", hub.clock)
        accounts.set_role(AccountRepository(conn), "viewer", "viewer", hub.clock)
    with hub.uow() as uow:
        audit_trail.record(uow, hub.clock, "request", subject_type="request",
                           subject_id="/api/v1/erp/bookings/x/retry", order_id=orders[1],
                           detail={"method": "POST", "status": 200},
                           actor=Actor("admin-token", "admin", "token", "api"))
    yield Site(hub, {"order_id": orders, "run_id": runs, "audit_id": audits,
                     "rule_id": rules, "promotion_id": promotions, "return_id": [return_id],
                     "name": ["return_centres"],
                     "fmt": ["xlsx"], "template_id": [t.id for t in TEMPLATES],
                     "code": ["paid_erp_booked"], "exception_id": exceptions},
               typed_identifiers(hub))
    hub.close()


def _active_holds(hub: Hub, order_id: str) -> list[str]:
    with hub.uow() as uow:
        order = uow.orders.get(order_id)
        assert order is not None
        return [h.id for h in order.active_holds]


def signed_in(client: TestClient, login: str, locale: str) -> None:
    found = CSRF.search(client.get("/console/login").text)
    assert found
    answer = client.post("/console/login", data={"username": login, "password": PASSWORD,
                                                 "csrf_token": found.group(1)})
    assert answer.status_code == 303, answer.text
    again = CSRF.search(client.get("/console").text)
    assert again
    client.post("/console/locale", data={"locale": locale, "csrf_token": again.group(1)})


def console_pages(client: TestClient, site: Site) -> Iterator[str]:
    """Every console GET route, with each seeded value for its path parameters."""
    for route in (route for router in ROUTERS for route in router.routes):
        if not (isinstance(route, APIRoute) and route.path.startswith("/console")
                and "GET" in route.methods) or route.name in PENDING:
            continue
        paths = [route.path]
        for name in route.param_convertors:
            assert name in site.values, f"{route.path}: no seeded value for {{{name}}}"
            paths = [p.replace(f"{{{name}}}", v) for p in paths for v in site.values[name]]
        yield from paths


def rendered(client: TestClient, site: Site, *, refused: bool = False,
             ) -> Iterator[tuple[str, str]]:
    """Each page's HTML; REFUSED: a page the role may not see is its refusal page."""
    for path in console_pages(client, site):
        answer = client.get(path)
        if answer.status_code in (303, 307) or "text/html" not in answer.headers.get(
                "content-type", ""):
            continue  # downloads and redirects: no page
        assert answer.status_code == 200 or refused and answer.status_code == 403, \
            f"{path}: {answer.status_code} {answer.text[:300]}"
        yield path, answer.text


def stored_text(hub: Hub) -> str:
    """Everything in the database, as text: what people and systems entered (an address kept
    in parts also as it is written whole: 浙江省金华市义乌市...)."""
    parts = []
    with hub.db.read() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                parts.extend(str(value) for value in row if isinstance(value, str | dict | list))
                if "province" in row._mapping:  # a return centre's address, in columns
                    parts.append(address_text(dict(row._mapping)))
                parts.extend(address_text(value) for value in row
                             if isinstance(value, dict) and "province" in value)
    return "\n".join(parts)


@pytest.mark.parametrize("login", ["admin", "ops"])
def test_every_chinese_page_is_in_chinese(site: Site, login: str) -> None:
    found: dict[str, set[str]] = {}
    with TestClient(create_app(site.hub), follow_redirects=False) as client:
        login_page = client.get("/console/login").text
        pages = [("/console/login", login_page)]
        signed_in(client, login, "zh_CN")
        pages += list(rendered(client, site, refused=login != "admin"))
    assert len(pages) > 15
    for path, html in pages:
        assert 'lang="zh-CN"' in html, path
        for text in visible_texts(html):
            for bad in english_in_chinese(text, site.identifiers):
                found.setdefault(path, set()).add(f"{bad} (in: {text[:60]})")
    assert not found, "English or raw codes in the Chinese console:\n" + "\n".join(
        f"{path}:\n    " + "\n    ".join(sorted(texts)) for path, texts in found.items())


@pytest.mark.parametrize("login", ["admin", "ops"])
def test_every_english_page_is_in_english(site: Site, login: str) -> None:
    data = stored_text(site.hub)
    found: dict[str, set[str]] = {}
    with TestClient(create_app(site.hub), follow_redirects=False) as client:
        signed_in(client, login, "en")
        pages = list(rendered(client, site, refused=login != "admin"))
    assert len(pages) > 15
    for path, html in pages:
        assert 'lang="en"' in html, path
        for text in visible_texts(html):
            for bad in chinese_in_english(text, data):
                found.setdefault(path, set()).add(f"{bad} (in: {text[:60]})")
    assert not found, "Chinese outside people's data in the English console:\n" + "\n".join(
        f"{path}:\n    " + "\n    ".join(sorted(texts)) for path, texts in found.items())


def test_rule_builder_problems_read_in_chinese(site: Site) -> None:
    """No event chosen, a URL off the allow-list: each problem named in Chinese, its field
    path too, and the allow-list one names the administrator, not an environment variable."""
    form = {"name": "缺事件的规则", "trigger_kind": "event", "trigger_event": "",
            "cond_mode": "all", "a0-type": "http.call", "a0-id": "check", "a0-p-method": "POST",
            "a0-p-url": "https://evil.example/steal", "a0-retries": "1", "a0-backoff": "10",
            "a0-then": "fail"}
    with TestClient(create_app(site.hub), follow_redirects=False) as client:
        signed_in(client, "ops", "zh_CN")
        csrf = CSRF.search(client.get("/console/rules/new").text)
        assert csrf
        answer = client.post("/console/rules/new", data={**form, "csrf_token": csrf.group(1)})
    assert answer.status_code == 422
    problems = answer.text.split('data-testid="problems"', 1)[1].split("</ul>", 1)[0]
    assert "触发 · 事件" in problems and "请选择触发规则的事件" in problems
    assert "系统管理员" in problems and "ORDERPILOT_" not in answer.text
    shown = " ".join(visible_texts(problems))
    assert "None" not in shown and "trigger.event" not in shown
    offending = [bad for text in visible_texts(problems)
                 for bad in english_in_chinese(text, site.identifiers)]
    assert offending == []
