"""Telling a re-delivery of an order from a changed order (domain/order_changes.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.domain.intake import build_order
from orderpilot.domain.order_changes import changed_fields

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CMD = PlaceOrder(
    channel="shopee", shop_id="SG-01", external_id="230101ABC", placed_at=NOW,
    currency="CNY", customer_name="张三", customer_phone="13800000000",
    address={"country": "CN", "city": "宁波市", "line1": "港城大道1号"},
    lines=(LineInput("DIAPER-L", 2, "129.00"),), total="258.00")


def test_the_same_order_has_no_changes_whatever_its_id() -> None:
    assert changed_fields(build_order(CMD, NOW), build_order(CMD, NOW)) == []


def test_tags_added_after_placing_are_no_change_but_a_new_tag_is() -> None:
    stored = build_order(replace(CMD, tags=("vip",)), NOW)
    stored.tags.append("rule:customs")  # a rule tagged the order later
    assert changed_fields(stored, build_order(replace(CMD, tags=("vip",)), NOW)) == []
    assert changed_fields(stored, build_order(replace(CMD, tags=("vip", "gift")), NOW)) == [
        "tags"]


def test_each_changed_field_is_named() -> None:
    stored = build_order(CMD, NOW)
    sent = build_order(replace(CMD, customer_name="李四", adjustments=(("voucher", "-8"),),
                               total="250.00"), NOW)
    assert changed_fields(stored, sent) == ["total", "customer.name", "adjustments.voucher"]
    more_lines = replace(stored, lines=[*stored.lines, replace(stored.lines[0], sku="B")],
                         total=Decimal("516.00"))
    assert changed_fields(more_lines, stored) == ["total", "lines"]
