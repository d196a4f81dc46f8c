"""An expectation's condition means the same live (Python) and retroactive (duckdb SQL): every
field and operator, on orders drawn at random, picks the same orders both ways."""

from __future__ import annotations

import random
from decimal import Decimal

import duckdb
import pytest

from orderpilot.adapters.analytics.expectations import condition_sql
from orderpilot.adapters.analytics.snapshot import _SCHEMA
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.expectations import OPERATORS, OrderFacts, parse, parse_condition
from orderpilot.domain.money import to_cents

CHANNELS = ("shopee", "lazada", "youzan")
SKUS = ("MILK-1", "MILK-2", "PEN")
TAGS = ("vip", "gift", "risk")
VALUES = {"channel": "shopee", "shop_id": "S2", "currency": "USD", "total": "250.00",
          "sku": "MILK-1", "tags": "vip"}
LISTS = {"channel": ["shopee", "youzan"], "shop_id": ["S1", "S3"], "currency": ["CNY", "SGD"],
         "sku": ["PEN", "MILK-2"], "tags": ["gift", "risk"]}


def _orders(seed: int) -> list[tuple[str, OrderFacts]]:
    pick = random.Random(seed)
    made = []
    for n in range(300):
        skus = tuple(pick.sample(SKUS, pick.randint(0, 2)))
        tags = tuple(pick.sample(TAGS, pick.randint(0, 2)))
        total = Decimal(pick.choice(("100.00", "249.99", "250.00", "250.01", "999.00")))
        made.append((f"o{n}", OrderFacts(pick.choice(CHANNELS), pick.choice(("S1", "S2", "S3")),
                                         pick.choice(("CNY", "USD", "SGD")), total, skus,
                                         tags)))
    return made


def test_python_and_sql_pick_the_same_orders_for_every_field_and_operator(
        test_seed: int) -> None:
    orders = _orders(test_seed)
    con = duckdb.connect(":memory:")
    con.execute(_SCHEMA)
    for order_id, o in orders:
        con.execute("INSERT INTO orders (id, channel, shop_id, currency, total_cents, tags) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [order_id, o.channel, o.shop_id, o.currency, to_cents(o.total), list(o.tags)])
        for line_no, sku in enumerate(o.skus, start=1):
            con.execute("INSERT INTO order_lines (order_id, line_no, sku) VALUES (?, ?, ?)",
                        [order_id, line_no, sku])
    checked = 0
    for field, ops in OPERATORS.items():
        for op in ops:
            value = LISTS[field] if op in ("in", "not_in", "has_any") else VALUES[field]
            condition = parse_condition([{"field": field, "op": op, "value": value}])
            live = {i for i, o in orders if condition.holds(o)}
            where, params = condition_sql(condition)
            retro = {r[0] for r in con.execute(f"SELECT o.id FROM orders o WHERE true{where}",
                                               params).fetchall()}
            assert live == retro, (field, op)
            assert 0 < len(live) < len(orders), (field, op)  # the case tells something
            checked += 1
    assert checked == 24
    both = parse_condition([{"field": "tags", "op": "has", "value": "vip"},
                            {"field": "total", "op": "gte", "value": "250.00"}])
    where, params = condition_sql(both)
    assert {r[0] for r in con.execute(f"SELECT o.id FROM orders o WHERE true{where}",
                                      params).fetchall()} == {
        i for i, o in orders if "vip" in o.tags and o.total >= Decimal("250.00")}


BODY = {"name_zh": "支付后入账", "name_en": "Booked after payment", "after": "payment.succeeded",
        "expect": "erp.booked", "within_minutes": 15}


@pytest.mark.parametrize(("change", "field"), [
    ({"after": "nope"}, "after"), ({"expect": "payment.succeeded"}, "expect"),
    ({"within_minutes": -5}, "within_minutes"), ({"within_minutes": True}, "within_minutes"),
    ({"within_minutes": "15"}, "within_minutes"), ({"source": "ERP!"}, "source"),
    ({"condition": {"field": "sku"}}, "condition"),
    ({"condition": [{"field": "buyer", "op": "eq", "value": "x"}]}, "condition[0].field"),
    ({"condition": [{"field": "sku", "op": "has_any", "value": []}]}, "condition[0].value"),
    ({"condition": [{"field": "total", "op": "gt", "value": "12.345"}]}, "condition[0].value"),
    ({"expect": "expectation.breached"}, "expect"),
])
def test_a_bad_expectation_names_its_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse("paid_booked", {**BODY, **change})
    assert refused.value.field == field
    assert refused.value.message_zh != str(refused.value)


def test_a_breach_hold_reason_fits_the_hold_reason_rule() -> None:
    from orderpilot.domain.order import HOLD_REASON

    longest = parse("x" * 48, BODY)
    assert HOLD_REASON.match(longest.hold_reason)
    assert not HOLD_REASON.match("expectation:" + "x" * 53)  # past the 64-character column
    assert not HOLD_REASON.match("other:paid_booked")
