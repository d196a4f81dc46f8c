"""The return's rules on their own: moves, quantities, the refund policy in cents, reasons."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orderpilot.domain import returns as rd
from orderpilot.domain.address import Address, Customer
from orderpilot.domain.errors import IllegalTransition, InvalidInput
from orderpilot.domain.order import Order, OrderLine
from orderpilot.domain.return_reasons import DEFAULT_KEYWORDS, check_keywords, classify
from orderpilot.services.return_words import cut

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def order(status: str = "delivered", **changes: object) -> Order:
    made = Order("o1", "shopee", "SG", "X1", NOW, "CNY", Customer("张三", "13800000000"),
                 Address("CN", "浙江省", "宁波市", "北仑区", "港城大道1号"),
                 [OrderLine("A", 3, Decimal("100.00"), discount=Decimal("10.00")),
                  OrderLine("B", 1, Decimal("50.00"))], Decimal("332.00"),
                 shipping_fee=Decimal("12.00"), adjustments={"voucher": Decimal("-20.00")},
                 status=status)
    return replace(made, **changes)  # type: ignore[arg-type]


def a_return(lines: list[rd.ReturnLine], status: str = "requested") -> rd.Return:
    return rd.Return("r1", "o1", status, "api", None, lines, [], "", "none", None, NOW, NOW)


def test_moves_follow_the_life_and_refuse_the_rest() -> None:
    ret = a_return([rd.ReturnLine("A", 1)])
    with pytest.raises(IllegalTransition) as refused:
        ret.move("refunded", NOW)
    assert refused.value.code == "illegal_return_move" and "已申请" in refused.value.message_zh
    for step in ("approved", "pickup_booked", "in_transit", "received", "inspected",
                 "refunded", "closed"):
        ret.move(step, NOW)
    assert ret.status == "closed" and not ret.rejected
    rejected = a_return([rd.ReturnLine("A", 1)])
    rejected.move("rejected", NOW)
    rejected.move("closed", NOW)
    assert rejected.rejected  # a closed rejected return still frees its units
    assert rd.in_returns([rejected]) == {}


def test_quantities_are_capped_by_shipped_minus_cancelled_minus_other_returns() -> None:
    shipped = order(lines=[OrderLine("A", 3, Decimal("100.00"), cancelled_quantity=1)])
    with pytest.raises(InvalidInput) as over:
        rd.check_lines(shipped, [("A", 3)], [])
    assert over.value.params == {"sku": "A", "returnable": 2}
    other = a_return([rd.ReturnLine("A", 1)])
    with pytest.raises(InvalidInput):
        rd.check_lines(shipped, [("A", 1), ("A", 1)], [other])  # the same SKU twice adds up
    assert [(ln.sku, ln.quantity) for ln in rd.check_lines(shipped, [("A", 1)], [other])] == [
        ("A", 1)]
    for status in ("paid", "packed", "cancelled"):
        with pytest.raises(IllegalTransition):
            rd.check_lines(order(status), [("A", 1)], [])
    for status in ("shipped", "in_transit", "return_requested", "after_sales_closed"):
        assert rd.check_lines(order(status), [("A", 1)], [])


def test_refund_shares_are_exact_cents_and_add_up_to_what_was_paid() -> None:
    o = order()
    assert rd.sku_totals(o) == {"A": (28318, 3), "B": (4882, 1)}
    ret = a_return([rd.ReturnLine("A", 1), rd.ReturnLine("B", 1)])
    assert rd.refund_of(o, ret, {}) == {"A": 9439, "B": 4882}
    rest = a_return([rd.ReturnLine("A", 2)])
    assert rd.refund_of(o, rest, {"A": 1}) == {"A": 18879}
    assert rd.refund_of(o, rest, {"A": 2}) == {"A": 9440}  # never past the units paid for
    # a voucher larger than a line's share never makes a refund negative
    free = order(lines=[OrderLine("A", 1, Decimal("1.00")), OrderLine("B", 1, Decimal("99.00"))],
                 shipping_fee=Decimal("0.00"), adjustments={"coins": Decimal("-100.00")},
                 total=Decimal("0.00"))
    assert rd.sku_totals(free) == {"A": (0, 1), "B": (0, 1)}


@pytest.mark.parametrize(("text", "tags"), [
    ("外包装破损，漏液了", ["damaged_packaging"]),
    ("发错货了，而且少件", ["wrong_item", "missing_items"]),
    ("七天无理由退货", ["no_reason_7_days"]),
    ("物流太慢了不想要了", ["slow_delivery", "changed_mind"]),
    ("好的", ["other"]),
    ("", []),
])
def test_free_text_classified_by_keywords(text: str, tags: list[str]) -> None:
    assert classify(text, DEFAULT_KEYWORDS, lambda t: cut(t, DEFAULT_KEYWORDS)) == tags


def test_keywords_are_cut_whole_and_a_bad_table_is_refused() -> None:
    table = {"奶嘴太硬": "quality_issue"}
    assert "奶嘴太硬" in cut("宝宝说奶嘴太硬了", table)
    with pytest.raises(InvalidInput) as bad:
        check_keywords({"a b": "other"})
    assert bad.value.field == "keywords.a b"
    with pytest.raises(InvalidInput):
        check_keywords({"颜色": "colour"})
