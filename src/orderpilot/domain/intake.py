"""Turning a PlaceOrder command into a valid canonical order, or a clear InvalidInput."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import TypeVar

from orderpilot.domain import phones
from orderpilot.domain.address import Address, Customer
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.events import new_id
from orderpilot.domain.money import parse_money
from orderpilot.domain.order import Order, OrderLine
from orderpilot.domain.times import business_time

CHANNELS = ("shopee", "lazada", "own_store", "youzan", "shopify", "woocommerce", "tiktok",
            "tmall", "jd", "pinduoduo", "douyin", "wechat", "offline")
ADJUSTMENT = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
MAX_ADJUSTMENTS = 20
CURRENCIES = ("CNY", "USD", "SGD", "MYR", "THB", "IDR", "PHP", "VND", "TWD", "HKD", "EUR", "GBP",
              # the sales platforms' other markets (Shopee BR/MX/CO/CL/PL, TikTok, Shopify)
              "JPY", "KRW", "BRL", "MXN", "COP", "CLP", "PLN", "AUD", "CAD", "NZD", "INR",
              "AED", "SAR")
MAX_LINES = 500
MAX_QUANTITY = 100_000
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f]")  # a C search: every text of every order passes here
_TAG = re.compile(r"^[^\x00-\x1f]{1,40}$")
T = TypeVar("T")


class OrderInvalid(InvalidInput):
    """An order with one or more problems: ``problems`` names every field at fault, in the
    payload's order; ``field`` and the messages are the first one's."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        more_zh = f"（另有 {len(problems) - 1} 处）" if len(problems) > 1 else ""
        super().__init__(f"{first.message}{more}", field=first.field, params=first.params,
                         zh=f"{first.message_zh}{more_zh}")
        self.problems = problems


class Checks:
    """Runs checks, keeping each one's InvalidInput instead of stopping at the first."""

    def __init__(self) -> None:
        self.found: list[InvalidInput] = []

    def __call__(self, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except InvalidInput as problem:
            self.found.extend(getattr(problem, "problems", None) or [problem])
            return None

    def raise_if_any(self) -> None:
        if self.found:
            raise OrderInvalid(self.found)


def _text(value: str, field: str, *, required: bool = True, limit: int = 200) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field} is required", field=field, code="required",
                           zh=f"{field} 必填")
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field,
                           code="too_long", zh=f"{field} 超过 {limit} 个字符")
    if _CONTROL.search(value):
        raise InvalidInput(f"{field} contains control characters", field=field,
                           code="control_characters", zh=f"{field} 含有控制字符")
    return value


def _code(value: str, field: str) -> str:
    value = _text(value, field, limit=64)
    if not _CODE.match(value):
        raise InvalidInput(f"{field} may hold letters, digits and _ . : - / only", field=field,
                           code="not_a_code", zh=f"{field} 只能包含字母、数字和 _ . : - /")
    return value


def build_order(cmd: PlaceOrder, now: datetime) -> Order:
    """The canonical order, or OrderInvalid naming every field at fault (not only the first)."""
    check = Checks()
    channel = check(lambda: _channel(cmd.channel))
    currency = check(lambda: _currency(cmd.currency))
    check(lambda: business_time(cmd.placed_at, "placed_at"))
    received = cmd.as_received
    name = check(lambda: _text(cmd.customer_name, "customer.name", limit=100,
                               required=not received))
    phone = check(lambda: _phone(cmd.customer_phone, cmd.address, received))
    address = check(lambda: _address(cmd.address, received))
    lines = check(lambda: _lines(cmd.lines, received))
    shipping_fee = check(lambda: parse_money(cmd.shipping_fee, "shipping_fee"))
    total = check(lambda: parse_money(cmd.total, "total"))
    adjustments = check(lambda: _adjustments(cmd.adjustments))
    if lines is not None and shipping_fee is not None and total is not None \
            and adjustments is not None:
        check(lambda: _check_total(total, lines, shipping_fee, adjustments))
    tags = check(lambda: _tags(cmd.tags))
    shop_id = check(lambda: _code(cmd.shop_id, "shop_id"))
    external_id = check(lambda: _code(cmd.external_id, "external_id"))
    check.raise_if_any()
    assert channel is not None and currency is not None and name is not None \
        and phone is not None and address is not None and lines is not None \
        and shipping_fee is not None and total is not None and adjustments is not None \
        and tags is not None and shop_id is not None and external_id is not None
    return Order(id=new_id(), channel=channel, shop_id=shop_id, external_id=external_id,
                 placed_at=cmd.placed_at, currency=currency, customer=Customer(name, phone),
                 shipping_address=address, lines=lines, total=total, shipping_fee=shipping_fee,
                 tags=tags, adjustments=adjustments, status="placed",
                 status_changed_at=now)


def _channel(value: str) -> str:
    channel = _text(value, "channel", limit=32).lower()
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}",
                           field="channel", code="unknown_channel",
                           zh=f"未知渠道 {channel!r}；可用：{'、'.join(CHANNELS)}")
    return channel


def _currency(value: str) -> str:
    currency = _text(value, "currency", limit=3).upper()
    if currency not in CURRENCIES:
        raise InvalidInput(f"unsupported currency {currency!r}; supported: "
                           f"{', '.join(CURRENCIES)}", field="currency",
                           code="unsupported_currency",
                           zh=f"不支持的币种 {currency!r}；支持：{'、'.join(CURRENCIES)}")
    return currency


def _phone(value: str, address: dict[str, str], received: bool) -> str:
    text = _text(value, "customer.phone", limit=32, required=not received)
    if received:  # a platform's buyer phone is often masked or encrypted: kept as it came
        return Customer.normalise_phone(text)
    country = address.get("country") if isinstance(address, dict) else None
    country = country.strip().upper() if isinstance(country, str) else ""
    try:
        return phones.normalise_phone(text, country)
    except phones.PhoneInvalid as invalid:
        plan = invalid.plan
        if plan is None:
            raise InvalidInput(f"customer.phone {text!r} is not a phone number (+country code "
                               "and 7-15 digits, or 6-15 digits)", field="customer.phone",
                               code="phone_invalid",
                               zh=f"customer.phone {text!r} 不是有效的电话号码"
                                  "（+国家代码加 7-15 位数字，或 6-15 位数字）") from None
        sample = phones.example(plan.country)
        raise InvalidInput(f"customer.phone {text!r} is not a {plan.country} phone number "
                           f"(e.g. {sample} or +{plan.calling_code} ...)",
                           field="customer.phone", code="phone_invalid",
                           zh=f"customer.phone {text!r} 不是有效的 {plan.country} 电话号码"
                              f"（例如 {sample} 或 +{plan.calling_code} ...）") from None


def _lines(raw: tuple[LineInput, ...], received: bool) -> list[OrderLine]:
    if not raw:
        raise InvalidInput("an order needs at least one line", field="lines", code="required",
                           zh="订单至少需要一行商品")
    if len(raw) > MAX_LINES:
        raise InvalidInput(f"an order may have at most {MAX_LINES} lines", field="lines",
                           code="too_many", zh=f"一个订单最多 {MAX_LINES} 行商品")
    check = Checks()
    lines = [check(partial(_line, i, line, received)) for i, line in enumerate(raw)]
    check.raise_if_any()
    return [line for line in lines if line is not None]


def _check_total(total: Decimal, lines: list[OrderLine], shipping_fee: Decimal,
                 adjustments: dict[str, Decimal]) -> None:
    expected = sum((ln.amount for ln in lines), Decimal("0.00")) + shipping_fee \
        + sum(adjustments.values(), Decimal("0.00"))
    if total != expected:
        raise InvalidInput(f"total {total} does not match the lines (sum of quantity x "
                           f"unit_price - discount, plus shipping_fee and adjustments) = "
                           f"{expected}", field="total", code="total_mismatch",
                           params={"expected": str(expected)},
                           zh=f"total {total} 与各行合计不符"
                              f"（数量 × 单价 - 折扣，再加运费和调整项）= {expected}")


def _tags(raw: tuple[str, ...]) -> list[str]:
    check = Checks()
    for i, tag in enumerate(raw):
        if not isinstance(tag, str) or not _TAG.match(tag):
            check.found.append(InvalidInput("tags must be 1-40 printable characters",
                                            field=f"tags[{i}]", code="tag_invalid",
                                            zh="标签应为 1-40 个可打印字符"))
    check.raise_if_any()
    return sorted(set(raw))


def _adjustments(raw: tuple[tuple[str, str], ...]) -> dict[str, Decimal]:
    if len(raw) > MAX_ADJUSTMENTS:
        raise InvalidInput(f"an order may have at most {MAX_ADJUSTMENTS} adjustments",
                           field="adjustments", code="too_many",
                           zh=f"一个订单最多 {MAX_ADJUSTMENTS} 个调整项")
    found: dict[str, Decimal] = {}
    for kind, amount in raw:
        if not isinstance(kind, str) or not ADJUSTMENT.match(kind):
            raise InvalidInput("an adjustment's kind is a code of lowercase letters, digits "
                               "and _", field=f"adjustments.{str(kind)[:32]}",
                               code="not_a_code",
                               zh="调整项的类型应为小写字母、数字和 _ 组成的代码")
        value = parse_money(amount, f"adjustments.{kind}", allow_negative=True)
        found[kind] = found.get(kind, Decimal("0.00")) + value
    return {k: v for k, v in found.items() if v != 0}


def _address(raw: dict[str, str], received: bool = False) -> Address:
    check = Checks()

    def part(name: str, required: bool = False, limit: int = 200) -> str:
        value = raw.get(name) or ""
        if not isinstance(value, str):
            raise InvalidInput(f"shipping_address.{name} must be text",
                               field=f"shipping_address.{name}", code="not_text",
                               zh=f"shipping_address.{name} 应为文本")
        return _text(value, f"shipping_address.{name}", required=required, limit=limit)

    def country() -> str:
        code = part("country", True, 2).upper()
        if not re.match(r"^[A-Z]{2}$", code):
            raise InvalidInput("shipping_address.country must be an ISO 3166 two-letter code",
                               field="shipping_address.country", code="country_invalid",
                               zh="shipping_address.country 应为 ISO 3166 两位字母代码")
        return code

    found = (check(country), check(lambda: part("province")), check(lambda: part("city")),
             check(lambda: part("district")), check(lambda: part("line1", not received)),
             check(lambda: part("postal_code", limit=20)))
    check.raise_if_any()
    return Address.normalised(*(value or "" for value in found))


def _line(i: int, line: LineInput, received: bool = False) -> OrderLine:
    where = f"lines[{i}]"
    check = Checks()
    # A platform's SKU is whatever the seller typed (spaces, Chinese): kept as it is.
    sku = check(lambda: _text(line.sku, f"{where}.sku", limit=64) if received
                else _code(line.sku, f"{where}.sku"))
    quantity = check(lambda: _quantity(line.quantity, where))
    unit_price = check(lambda: parse_money(line.unit_price, f"{where}.unit_price"))
    discount = check(lambda: parse_money(line.discount, f"{where}.discount"))
    name = check(lambda: _text(line.name, f"{where}.name", required=False))
    if discount is not None and unit_price is not None and quantity is not None \
            and discount > unit_price * quantity:
        check.found.append(InvalidInput(f"{where}.discount exceeds the line amount",
                                        field=f"{where}.discount", code="discount_too_large",
                                        zh=f"{where}.discount 超过了该行金额"))
    check.raise_if_any()
    assert sku is not None and quantity is not None and unit_price is not None \
        and discount is not None and name is not None
    return OrderLine(sku, quantity, unit_price, name, discount)


def _quantity(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{where}.quantity must be a whole number", field=f"{where}.quantity",
                           code="not_whole", zh=f"{where}.quantity 应为整数")
    if not 0 < value <= MAX_QUANTITY:
        raise InvalidInput(f"{where}.quantity must be between 1 and {MAX_QUANTITY}",
                           field=f"{where}.quantity", code="out_of_range",
                           zh=f"{where}.quantity 应在 1 到 {MAX_QUANTITY} 之间")
    return value
