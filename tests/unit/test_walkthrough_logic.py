"""The walkthrough's pure logic: the seeded sample, nearest-rank percentiles, which system
statuses agree with the hub's, the comparisons and their sentences, views from reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orderpilot.domain import walkthrough as w
from orderpilot.domain import walkthrough_reports as r
from orderpilot.domain.errors import InvalidInput

AT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
ORDER = w.HubOrder("o-1", "EXT-1", "shopee", "SG-01", "shipped", "CNY", Decimal("258.00"),
                   {"DIAPER-L": 2, "WIPES": 1}, "浙江省宁波市北仑区港城大道1号", AT)


def test_the_sample_depends_on_the_seed_and_history_only() -> None:
    ids = [f"id-{n:03d}" for n in range(200)]
    first = w.sample_ids(ids, 10, 42)
    assert first == w.sample_ids(list(reversed(ids)), 10, 42) == sorted(first)
    assert len(set(first)) == 10 and w.sample_ids(ids, 10, 43) != first
    assert w.sample_ids(ids[:5], 10, 42) == ids[:5]  # fewer orders than asked: all of them


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (w.percentile(values, 50), w.percentile(values, 99)) == (50.0, 99.0)
    assert w.percentile([10.0, 10.0, 120.0], 50) == 10.0
    assert w.percentile([10.0, 10.0, 120.0], 99) == 120.0
    assert w.percentile([], 99) == 0.0


@pytest.mark.parametrize(("system_status", "agrees"), [
    ("shipped", True), ("paid", True), ("released_to_wms", True),  # behind the hub: fine
    ("delivered", False),  # ahead of the hub
    ("cancelled", False),  # another branch
])
def test_a_system_may_lag_behind_the_hub_but_not_run_ahead(system_status: str,
                                                           agrees: bool) -> None:
    assert w.status_agrees("shipped", system_status) is agrees


def test_each_disagreement_is_one_finding_with_both_values_and_sentences() -> None:
    view = w.SystemView("storefront", "live", True, "delivered", "COMPLETED",
                        Decimal("250.00"), {"DIAPER-L": 2, "WIPES": 2},
                        "浙江省 宁波市 北仑区 港城大道 1 号")
    found = {f.field: f for f in w.compare(ORDER, view, "shipped")}
    assert sorted(found) == ["amount", "quantity", "status"]  # the address is the same
    assert (found["amount"].hub_value, found["amount"].system_value) == ("258.00", "250.00")
    assert found["quantity"].system_value == "DIAPER-L×2, WIPES×2"
    assert found["status"].en == "Sales channel says Delivered, the hub says Shipped"
    assert found["status"].zh == "销售渠道显示「已签收」，中台为「已发货」"
    total_only = w.SystemView("wms", "report", quantities={"*": 3})
    assert w.compare(ORDER, total_only) == []
    missing = w.compare(ORDER, w.SystemView("erp", "live", False))
    assert [(f.field, f.en) for f in missing] == [("presence",
                                                   "ERP sale order has no record of order EXT-1")]


def test_views_come_from_each_systems_latest_reports_and_lag_from_node_reports() -> None:
    def rep(type_: str, system: str, seconds: int, lag: int, outcome: str = "moved",
            **data: object) -> r.Report:
        at = AT + timedelta(seconds=seconds)
        return r.Report(type_, system, system, at, at + timedelta(seconds=lag), outcome, data)

    reports = [rep("payment.succeeded", "storefront", 0, 3, amount="258.00"),
               rep("erp.booked", "erp", 10, 700),
               rep("erp.receivable_opened", "erp", 20, 1, "view", amount="250.00"),
               rep("wms.released", "wms", 30, 2, lines=[{"sku": "DIAPER-L", "quantity": 2},
                                                        {"sku": "WIPES", "quantity": 1}]),
               rep("system.status", "wms", 40, 1, "view", status="on_hold"),
               rep("shipment.shipped", "carrier", 50, 5, "late")]
    views = {v.system: v for v in r.report_views(reports)}
    assert sorted(views) == ["carrier", "erp", "erp_receivable", "storefront", "wms"]
    assert views["erp_receivable"].amount == Decimal("250.00")
    assert views["erp"].status == "erp_booked" and views["erp"].amount is None
    assert views["wms"].status is None and views["wms"].status_text == "on_hold"
    assert views["wms"].quantities == {"DIAPER-L": 2, "WIPES": 1}
    nodes = r.node_reports(reports)
    assert [(n.node, n.lag_seconds) for n in nodes] == [
        ("paid", 3.0), ("erp_booked", 700.0), ("released_to_wms", 2.0), ("shipped", 5.0)]
    walked = w.walk(ORDER, nodes, list(views.values()), 30,
                    r.missing_reports(ORDER, nodes, list(views.values()), {"erp", "wms"}))
    # Shipped by the carrier while the warehouse said nothing after the release: a lost
    # callback, found though no field disagrees.
    assert sorted((f.system, f.field) for f in walked.findings) == [
        ("erp", "lag"), ("erp_receivable", "amount"), ("wms", "missing")]
    assert not walked.consistent and not walked.on_time


def test_a_shipped_order_the_erp_never_booked_or_the_warehouse_never_confirmed_is_found(
        ) -> None:
    def node(name: str, system: str) -> w.NodeReport:
        return w.NodeReport(name, name, system, system, AT, AT)

    shipped = [node("paid", "storefront"), node("released_to_wms", "wms"),
               node("shipped", "carrier")]
    both = {"erp", "wms", "carrier", "storefront"}
    found = r.missing_reports(ORDER, shipped, [], both)
    assert [(f.system, f.node, f.field) for f in found] == [
        ("erp", "erp_booked", "missing"), ("wms", "picked", "missing")]
    complete = [*shipped[:1], node("erp_booked", "erp"), *shipped[1:2], node("picked", "wms"),
                shipped[2]]
    assert r.missing_reports(ORDER, complete, [], both) == []
    assert r.missing_reports(ORDER, shipped[:2], [], both) == []  # not shipped: nothing due
    # A company without an ERP books nothing in one: only connected systems can miss a report.
    assert [f.system for f in r.missing_reports(ORDER, shipped, [], {"wms", "carrier"})] == \
        ["wms"]


def test_requests_are_checked_field_by_field() -> None:
    assert w.params(5, None, None, None, 99) == w.Params(5, 99)
    for sample, seed, field in ((0, 1, "sample"), (1001, 1, "sample"), (True, 1, "sample"),
                                (5, -1, "seed"), (5, "x", "seed")):
        with pytest.raises(InvalidInput) as refused:
            w.params(sample, seed, None, None, 1)
        assert refused.value.field == field


def test_masking_hides_addresses_in_findings_only() -> None:
    view = w.SystemView("wms", "report", address="上海市浦东新区世纪大道100号")
    doc = w.document([w.walk(ORDER, [], [view], 30)], 30)
    shown = w.masked(doc)
    finding = shown["orders"][0]["findings"][0]
    assert finding["field"] == "address"
    assert "港城大道1号" not in finding["hub_value"] and "世纪大道100号" not in \
        finding["system_value"]
    assert doc["orders"][0]["findings"][0]["hub_value"] == ORDER.address  # not changed
