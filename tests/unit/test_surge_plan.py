"""The surge's plan and its independent model of where each order must end."""

from __future__ import annotations

from collections import Counter

from orderpilot.benchmarks.surge_plan import CHANNELS, expected_state, plan


def test_the_model_follows_the_reports_not_their_copies() -> None:
    life = ["payment.succeeded", "wms.released", "shipment.shipped", "shipment.in_transit",
            "shipment.delivered"]
    assert expected_state([]) == "placed"
    assert expected_state(life) == "delivered"
    assert expected_state([*life, "return.requested"]) == "return_requested"
    # the in-transit scan after the delivery moves nothing
    assert expected_state([*life[:3], "shipment.delivered", "shipment.in_transit"]) == \
        "delivered"
    # a late copy of the payment after the order moved on moves nothing
    assert expected_state([*life, "payment.succeeded"]) == "delivered"
    assert expected_state(["payment.succeeded", "order.cancelled", "payment.succeeded"]) == \
        "cancelled"
    assert expected_state(["order.cancelled", "payment.succeeded"]) == "cancelled"
    # the hub's own allocation between payment and release changes no end
    assert expected_state(["payment.succeeded", "inventory.allocated", *life[1:]]) == \
        "delivered"
    # a report the hub refused is not the model's either
    assert expected_state(["payment.succeeded", "refused:shipment.shipped"]) == "paid"
    # a step skipped is a step not taken: shipped straight after payment is not legal
    assert expected_state(["payment.succeeded", "shipment.shipped"]) == "paid"


def test_the_plan_has_every_fault_and_is_the_same_for_a_seed() -> None:
    orders = plan(2000, seed=3)
    assert [o.external_id for o in orders] == [o.external_id for o in plan(2000, seed=3)]
    assert Counter(o.channel for o in orders) == {c: 500 for c in CHANNELS}
    fates = Counter(o.fate for o in orders)
    assert set(fates) == {"unpaid_cancelled", "paid_cancelled", "returned", "delivered"}
    assert fates["delivered"] > 1500
    assert sum(o.place_twice for o in orders) > 20
    assert sum(r.twice for o in orders for r in o.reports) > 200
    swapped = sum(1 for o in orders if [r.type for r in o.reports][3:5]
                  == ["shipment.delivered", "shipment.in_transit"])
    assert swapped > 100
    assert len({o.external_id for o in orders}) == 2000
