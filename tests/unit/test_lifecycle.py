from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from orderpilot.domain import lifecycle
from orderpilot.domain.address import Address, Customer
from orderpilot.domain.errors import IllegalTransition, InvalidInput, NotFound, OrderOnHold
from orderpilot.domain.order import Order, OrderLine

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def make_order(status: str = "placed") -> Order:
    return Order(id="o-1", channel="shopee", shop_id="SG-01", external_id="X1", placed_at=T0,
                 currency="CNY", customer=Customer("张三", "13800000000"),
                 shipping_address=Address.normalised("CN", "浙江省", "宁波市", "北仑区",
                                                      "保税区港城大道1号"),
                 lines=[OrderLine("DIAPER-L", 2, Decimal("129.00"))], total=Decimal("258.00"),
                 status=status)


def test_every_node_has_both_names_and_known_successors() -> None:
    ids = {n.id for n in lifecycle.NODES}
    assert len(ids) == len(lifecycle.NODES) >= 17
    for node in lifecycle.NODES:
        assert node.zh and node.en
        assert set(node.next) <= ids
    required = {"placed", "paid", "validated", "erp_booked", "allocated", "released_to_wms",
                "picked", "packed", "shipped", "in_transit", "delivered", "completed",
                "invoiced", "cancelled", "return_requested", "return_in_transit",
                "return_received", "refunded", "after_sales_closed"}
    assert required <= ids


def test_shipped_before_paid_is_refused_and_changes_nothing() -> None:
    order = make_order()
    with pytest.raises(IllegalTransition, match="Placed .* Shipped"):
        order.report("shipment.shipped", "sf", T0, T0, {})
    assert order.status == "placed"
    assert order.events == [] and order.views == {}


def test_happy_path_moves_and_records_both_times() -> None:
    order = make_order()
    steps = ["payment.succeeded", "erp.booked", "wms.released", "wms.picked", "wms.packed",
             "shipment.shipped", "shipment.in_transit", "shipment.delivered",
             "order.completed", "invoice.issued"]
    for i, step in enumerate(steps):
        occurred = T0 + timedelta(minutes=i)
        assert order.report(step, "hub", occurred, occurred + timedelta(seconds=5), {}) == "moved"
    assert order.status == "invoiced"
    assert all(e.recorded_at - e.occurred_at == timedelta(seconds=5) for e in order.events)


def test_late_report_is_recorded_without_moving_back() -> None:
    order = make_order()
    order.report("payment.succeeded", "youzan", T0, T0, {})
    order.report("wms.released", "wms", T0, T0, {})
    order.report("shipment.shipped", "sf", T0 + timedelta(minutes=9), T0, {})
    outcome = order.report("wms.picked", "wms", T0 + timedelta(minutes=5), T0, {})
    assert outcome == "late"
    assert order.status == "shipped"
    assert order.events[-1].payload["outcome"] == "late"
    moved = next(e for e in order.events if e.type == "shipment.shipped")
    assert (moved.payload["from"], moved.payload["to"]) == ("released_to_wms", "shipped")


def test_older_report_does_not_overwrite_a_newer_view() -> None:
    order = make_order("paid")
    order.report("system.status", "erp", T0 + timedelta(minutes=5), T0, {"status": "审核中"})
    order.report("system.status", "erp", T0, T0, {"status": "草稿"})
    assert order.views["erp"].status == "审核中"


def test_unknown_event_type_names_the_field() -> None:
    with pytest.raises(InvalidInput) as info:
        make_order().report("payment.maybe", "youzan", T0, T0, {})
    assert info.value.field == "type"


def test_a_held_order_is_not_released_to_the_warehouse() -> None:
    order = make_order("paid")
    first = order.place_hold("address_incomplete", "", "ops1", "user", T0)
    second = order.place_hold("qualification_pending", "", "rule:S4", "rule", T0)
    with pytest.raises(OrderOnHold, match="address_incomplete"):
        order.report("wms.released", "wms", T0, T0, {})
    order.release_hold(first.id, "ops1", T0)
    assert order.held and [h.reason for h in order.active_holds] == ["qualification_pending"]
    with pytest.raises(OrderOnHold):
        order.report("wms.released", "wms", T0, T0, {})
    order.release_hold(second.id, "ops1", T0)
    assert order.report("wms.released", "wms", T0, T0, {}) == "moved"


def test_releasing_twice_is_harmless_and_unknown_hold_is_not_found() -> None:
    order = make_order()
    hold = order.place_hold("fraud_check", "", "ops1", "user", T0)
    assert order.release_hold(hold.id, "ops1", T0) is not None
    assert order.release_hold(hold.id, "ops1", T0) is None
    with pytest.raises(NotFound):
        order.release_hold("nope", "ops1", T0)


@pytest.mark.parametrize("reason", ["", "Bad Reason", "x", "a" * 80, "地址"])
def test_hold_reason_must_be_a_code(reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        make_order().place_hold(reason, "", "ops1", "user", T0)
    assert info.value.field == "reason"


def test_cancel_after_shipping_is_illegal() -> None:
    order = make_order("shipped")
    with pytest.raises(IllegalTransition):
        order.report("order.cancelled", "shopee", T0, T0, {})


def test_a_person_s_hold_note_cannot_pass_for_the_hub_s_words() -> None:
    order = make_order("paid")
    forged = 'msg:{"key": "hold.cannot_allocate", "params": {"items": "X x1"}}'
    with pytest.raises(InvalidInput) as info:
        order.place_hold("customer_request", forged, "ops1", "user", T0)
    assert info.value.field == "note" and not order.holds
    system = order.place_hold("out_of_stock", forged, "inventory", "system", T0)
    assert system.note == forged  # the hub's own coded notes are stored as written
