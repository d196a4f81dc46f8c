"""The walkthrough asking the sales channel live (the fake platform behind the hub's
ChannelGateway): an address the platform changed without telling the hub shows up only when
the platform is asked; an order of a shop without an account is not asked. On SQLite and
PostgreSQL."""

from __future__ import annotations

from fake_platform import FakeShop
from fastapi.testclient import TestClient
from test_channel_core import capi, chub, drain, push, shop, tokens  # noqa: F401

from conftest import order_body
from orderpilot.adapters.audit_files import AuditFileWriter
from orderpilot.adapters.audit_runs import SqlAuditRuns
from orderpilot.adapters.walkthrough import SqlHistory
from orderpilot.bootstrap import Hub
from orderpilot.domain.walkthrough import Params
from orderpilot.services.walkthrough import Walkthrough


def test_only_the_live_channel_shows_an_address_changed_at_the_platform(
        capi: TestClient, chub: Hub, shop: FakeShop) -> None:  # noqa: F811
    shop.order("1001", lines=(("SKU-A", 2, "10.00"),))
    assert push(capi, {"order_id": 1001}).status_code == 200
    drain(chub)
    # An order of a shop the hub has no account for: nothing to ask.
    assert capi.post("/api/v1/orders", json=order_body("OTHER-1")).status_code == 201
    shop.order("1001", lines=(("SKU-A", 3, "10.00"),), line1="2 Orchard Rd")  # no push

    from_reports = Walkthrough(SqlHistory(chub.db), SqlAuditRuns(chub.db), AuditFileWriter(),
                               chub.clock).run(Params(10, 1), "test", None, pii=True)
    assert [f for o in from_reports.result["orders"] for f in o["findings"]] == []

    live = chub.walkthrough().run(Params(10, 1), "test", None, pii=True)
    found = {(f["external_id"], f["system"], f["field"], f["hub_value"], f["system_value"],
              f["origin"]) for o in live.result["orders"] for f in o["findings"]}
    assert found == {
        ("1001", "storefront", "amount", "22.50", "32.50", "live"),
        ("1001", "storefront", "quantity", "SKU-A×2", "SKU-A×3", "live"),
        ("1001", "storefront", "address", "1 Orchard Rd", "2 Orchard Rd", "live")}
    assert live.summary["en"].startswith("1/2 consistent")
    asked = {o["external_id"]: [s["origin"] for s in o["systems"] if s["system"] ==
                                "storefront"] for o in live.result["orders"]}
    assert asked == {"1001": ["live"], "OTHER-1": ["report"]}  # not asked: no account


def test_a_platform_that_refuses_the_look_up_leaves_the_last_reports_and_a_note(
        capi: TestClient, chub: Hub, shop: FakeShop) -> None:  # noqa: F811
    shop.order("1002")
    assert push(capi, {"order_id": 1002}).status_code == 200
    drain(chub)
    shop.rate_limit_next = 1  # the platform says slow down once
    run = chub.walkthrough().run(Params(10, 1), "test", None, pii=True)
    assert run.summary["en"].startswith("1/1 consistent")
    [note] = run.result["notes"]
    assert note["system"] == "storefront" and note["en"].startswith("live look-up failed")
    [order] = run.result["orders"]
    assert [s["origin"] for s in order["systems"] if s["system"] == "storefront"] == ["report"]
