"""The demo's returns plan (pure): carriers and outlets, the buyers' typed addresses at the
seed's 59% baseline, partial returns; and the walkthrough reading a return's lines as the
units coming back, not the order's quantities."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from orderpilot.domain.walkthrough_reports import Report, report_views
from orderpilot.simulators import demo_returns_plan as plan

BODY = {"lines": [{"sku": "DIAPER-L", "quantity": 3}, {"sku": "WIPES-80", "quantity": 4}],
        "shipping_address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                             "district": "鄞州区", "line1": "人民路1号", "postal_code": "315100"}}


def test_parcels_go_by_sf_jd_and_zto_from_outlets_mostly_in_the_policy() -> None:
    rng = random.Random(1)
    shipped = [plan.shipment(rng, f"K{i}") for i in range(3000)]
    assert {s.carrier for s in shipped} == {"sf", "jd", "zto"}
    assert {s.source for s in shipped} == {"sf", "jdl", "zto"}
    assert all(s.outlet_code for s in shipped if s.carrier == "sf")
    no_outlet = sum(1 for s in shipped if not s.outlet_code)
    unlisted = sum(1 for s in shipped if s.outlet_code and s.outlet_code not in plan.POLICY)
    assert 0.02 < no_outlet / len(shipped) < 0.07
    assert 0.06 < unlisted / len(shipped) < 0.10
    assert shipped[0].data()["tracking_number"] == shipped[0].tracking_number
    assert all(plan.POLICY[o] in plan.CENTRES for o in plan.POLICY)
    assert plan.POLICY["SF-0278"] == "YIWU" and plan.CENTRES["YIWU"]["name_zh"] == "义乌退货中心"


def test_buyers_type_the_right_centre_for_about_59_percent_of_routable_returns() -> None:
    rng = random.Random(2)
    right = routable = 0
    partial = 0
    for i in range(3000):
        shipped = plan.shipment(rng, f"K{i}")
        asked = plan.request(rng, BODY, shipped, f"K{i}")
        assert asked["reason_tags"] or asked["reason_text"]
        partial += sum(ln["quantity"] for ln in asked["lines"]) < 7
        centre = plan.POLICY.get(shipped.outlet_code or "")
        if centre:
            routable += 1
            right += asked["customer_address"] == plan.CENTRES[centre]["address"]
    assert 0.56 < right / routable < 0.62
    assert partial > 1500


def test_an_inspection_covers_every_unit_once() -> None:
    verdict = plan.inspection([{"sku": "A", "quantity": 40}, {"sku": "B", "quantity": 2}], "K")
    assert {sku: sum(v) for sku, v in verdict.items()} == {"A": 40, "B": 2}
    assert 0 < verdict["A"][1] < 15  # about one unit in eight damaged


def test_a_partial_return_is_not_read_as_the_orders_quantities() -> None:
    at = datetime(2026, 11, 30, tzinfo=UTC)
    views = report_views([
        Report("order.placed", "storefront", "shopee", at, at, "moved",
               {"lines": [{"sku": "DIAPER-L", "quantity": 3}]}),
        Report("return.requested", "storefront", "shopee", at, at, "moved",
               {"lines": [{"sku": "DIAPER-L", "quantity": 1}]})])
    [storefront] = views
    assert storefront.quantities == {"DIAPER-L": 3}
    assert Counter(v.system for v in views) == {"storefront": 1}
