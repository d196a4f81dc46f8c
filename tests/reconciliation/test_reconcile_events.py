"""Reconciliation from what the integrations reported (events in the snapshot), on a history
with one known discrepancy of each class; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from reconcile_history import EVENT_COUNTS, IN_PERIOD, build

from orderpilot.adapters.analytics.reconcile import reconcile
from orderpilot.adapters.analytics.snapshot import Snapshot
from orderpilot.bootstrap import Hub

DAY = date(2026, 11, 26)


def test_each_known_discrepancy_is_found_once_with_the_rate(hub: Hub, api: Any) -> None:
    ids = build(api)
    snap = Snapshot(hub.db)
    snap.refresh()
    with snap.cursor() as cur:
        result = reconcile(cur, DAY, DAY)
    snap.close()
    assert result.orders == IN_PERIOD
    assert result.counts() == EVENT_COUNTS
    assert result.discrepant_orders == 7
    assert result.per_mille == Decimal("350.000")
    found = {(d.kind, d.order_ref, d.sku, d.expected, d.actual, d.source)
             for d in result.discrepancies}
    assert found == {
        ("missing_in_erp", "E1", "", "258.00", "", "events"),
        ("missing_in_wms", "E2", "", "2", "0", "events"),
        ("amount_mismatch", "E3", "AR-E3", "258.00", "250.00", "events"),
        ("shipped_without_receivable", "E5", "", "258.00", "", "events"),
        ("receivable_without_shipment", "E6", "AR-E6", "", "258.00", "events"),
        ("returned_but_receivable_open", "E7", "AR-E7", "0.00", "258.00", "events"),
        ("duplicate_receivable", "E8", "AR-E8, AR-E8-2", "1", "2", "events"),
    }
    assert {d.order_id for d in result.discrepancies} == {ids[r] for r in (
        "E1", "E2", "E3", "E5", "E6", "E7", "E8")}
    assert result.sources == {"storefront": "events", "erp": "events", "wms": "events"}


def test_the_next_day_holds_only_the_order_placed_then(hub: Hub, api: Any) -> None:
    build(api)
    snap = Snapshot(hub.db)
    snap.refresh()
    with snap.cursor() as cur:
        result = reconcile(cur, date(2026, 11, 27), date(2026, 11, 27))
    snap.close()
    assert (result.orders, result.discrepant_orders) == (1, 1)
    assert [d.kind for d in result.discrepancies] == ["missing_in_erp"]
    assert result.per_mille == Decimal("1000.000")
