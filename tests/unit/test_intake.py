from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from orderpilot.domain.address import Address
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.intake import OrderInvalid, build_order
from orderpilot.domain.money import parse_money

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
CMD = PlaceOrder(
    channel="shopee", shop_id="SG-01", external_id="230101ABC",
    placed_at=datetime(2026, 11, 26, 10, 0, tzinfo=timezone(timedelta(hours=8))),
    currency="CNY", customer_name="张三", customer_phone="+86 138-0000-0000",
    address={"country": "cn", "province": "浙江省", "city": "宁波市", "district": "北仑区",
             "line1": "保税区港城大道1号", "postal_code": "315800"},
    lines=(LineInput("DIAPER-L", 2, "129.00"),), total="258.00")


def test_canonical_order_is_normalised() -> None:
    order = build_order(CMD, NOW)
    assert order.customer.phone == "13800000000"
    assert order.shipping_address.country == "CN"
    assert order.shipping_address.bonded_zone
    assert order.total == Decimal("258.00") and isinstance(order.total, Decimal)
    assert order.status == "placed"


@pytest.mark.parametrize("line1,kind", [
    ("综合保税区A座", "综合保税区"), ("梅山保税港区1号", "保税港区"),
    ("北仑保税区2号", "保税区"), ("中山路1号", None)])
def test_bonded_zone_kinds(line1: str, kind: str | None) -> None:
    address = Address.normalised("CN", "浙江省", "宁波市", "", line1)
    assert address.bonded_zone_kind == kind
    assert address.bonded_zone == (kind is not None)


@pytest.mark.parametrize("change,field", [
    ({"channel": "ebay"}, "channel"),
    ({"currency": "XXX"}, "currency"),
    ({"placed_at": datetime(2026, 11, 26, 10, 0)}, "placed_at"),
    ({"customer_phone": "call me"}, "customer.phone"),
    ({"lines": ()}, "lines"),
    ({"lines": (LineInput("DIAPER-L", 0, "1.00"),), "total": "0"}, "lines[0].quantity"),
    ({"lines": (LineInput("DIAPER-L", 1, "1.001"),), "total": "1.00"}, "lines[0].unit_price"),
    ({"lines": (LineInput("DIAPER-L", 1, "-1"),), "total": "-1"}, "lines[0].unit_price"),
    ({"total": "259.00"}, "total"),
    ({"address": {"country": "CN", "line1": ""}}, "shipping_address.line1"),
    ({"address": {"country": "CHN", "line1": "x"}}, "shipping_address.country"),
    ({"external_id": "has space"}, "external_id"),
    ({"customer_name": "a\x00b"}, "customer.name"),
])
def test_bad_input_names_the_field(change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        build_order(replace(CMD, **change), NOW)
    assert info.value.field == field


def test_total_includes_discounts_and_shipping() -> None:
    cmd = replace(CMD, lines=(LineInput("A", 3, "10.00", discount="5.00"),), shipping_fee="8",
                  total="33.00")
    assert build_order(cmd, NOW).total == Decimal("33.00")


@pytest.mark.parametrize("value", [1.5, "abc", "NaN", "Infinity", "1e12", True])
def test_money_refuses_floats_and_nonsense(value: object) -> None:
    with pytest.raises(InvalidInput):
        parse_money(value, "total")


@pytest.mark.parametrize("value", ["1e3", "1E3", "1e-2", "NaN", "nan", "Infinity", "-Infinity",
                                   "1,000.00", "1_000", "１２９", "١٢٣", "0x10", "+5", ".5",
                                   "5.", "", " ", "129.00000000001", "129.001"])
def test_money_must_be_a_plain_decimal_string(value: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_money(value, "lines[0].unit_price")
    assert info.value.field == "lines[0].unit_price"
    assert info.value.code in ("money_format", "money_too_large")


@pytest.mark.parametrize("value,amount", [("129", "129.00"), ("129.5", "129.50"),
                                          (" 129.50 ", "129.50"), ("129.000", "129.00"),
                                          ("0", "0.00")])
def test_plain_decimal_strings_are_taken(value: str, amount: str) -> None:
    assert parse_money(value, "total") == Decimal(amount)


def test_every_problem_of_an_order_is_reported_at_once() -> None:
    cmd = replace(CMD, currency="XXX", customer_phone="12345",
                  address={"country": "CN", "line1": ""},
                  lines=(LineInput("DIAPER-L", 1, "1e3"), LineInput("has space", 0, "NaN")),
                  total="1e3", tags=("ok", "\x01"))
    with pytest.raises(OrderInvalid) as info:
        build_order(cmd, NOW)
    problems = [(p.field, p.code) for p in info.value.problems]
    assert problems == [
        ("currency", "unsupported_currency"), ("customer.phone", "phone_invalid"),
        ("shipping_address.line1", "required"), ("lines[0].unit_price", "money_format"),
        ("lines[1].sku", "not_a_code"), ("lines[1].quantity", "out_of_range"),
        ("lines[1].unit_price", "money_format"), ("total", "money_format"),
        ("tags[1]", "tag_invalid")]
    assert info.value.field == "currency" and "(and 8 more)" in info.value.message
    assert "另有 8 处" in info.value.message_zh


def test_a_phone_is_read_in_the_shipping_country() -> None:
    singapore = {"country": "SG", "city": "Singapore", "line1": "1 Raffles Place"}
    order = build_order(replace(CMD, customer_phone="9123 4567", address=singapore), NOW)
    assert order.customer.phone == "+6591234567"
    with pytest.raises(InvalidInput) as info:
        build_order(replace(CMD, customer_phone="9123 4567"), NOW)  # not a mainland number
    assert info.value.field == "customer.phone" and "CN" in info.value.message
