"""Turning a PlaceOrder command into a valid canonical order, or a clear InvalidInput."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

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
_PHONE = re.compile(r"^\+?[0-9]{5,20}$")
_TAG = re.compile(r"^[^\x00-\x1f]{1,40}$")


def _text(value: str, field: str, *, required: bool = True, limit: int = 200) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field} is required", field=field,
                           zh=f"{field} 必填")
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field,
                           zh=f"{field} 超过 {limit} 个字符")
    if any(ord(c) < 32 for c in value):
        raise InvalidInput(f"{field} contains control characters", field=field,
                           zh=f"{field} 含有控制字符")
    return value


def _code(value: str, field: str) -> str:
    value = _text(value, field, limit=64)
    if not _CODE.match(value):
        raise InvalidInput(f"{field} may hold letters, digits and _ . : - / only", field=field,
                           zh=f"{field} 只能包含字母、数字和 _ . : - /")
    return value


def build_order(cmd: PlaceOrder, now: datetime) -> Order:
    channel = _text(cmd.channel, "channel", limit=32).lower()
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}",
                           field="channel",
                           zh=f"未知渠道 {channel!r}；可用：{'、'.join(CHANNELS)}")
    currency = _text(cmd.currency, "currency", limit=3).upper()
    if currency not in CURRENCIES:
        raise InvalidInput(f"unsupported currency {currency!r}; supported: "
                           f"{', '.join(CURRENCIES)}", field="currency",
                           zh=f"不支持的币种 {currency!r}；支持：{'、'.join(CURRENCIES)}")
    business_time(cmd.placed_at, "placed_at")
    received = cmd.as_received
    phone = Customer.normalise_phone(_text(cmd.customer_phone, "customer.phone", limit=32,
                                           required=not received))
    if not received and not _PHONE.match(phone):
        raise InvalidInput("customer.phone must be digits (5-20), optionally with +",
                           field="customer.phone",
                           zh="customer.phone 应为 5-20 位数字，可带 +")
    customer = Customer(_text(cmd.customer_name, "customer.name", limit=100,
                              required=not received), phone)
    address = _address(cmd.address, received)
    if not cmd.lines:
        raise InvalidInput("an order needs at least one line", field="lines",
                           zh="订单至少需要一行商品")
    if len(cmd.lines) > MAX_LINES:
        raise InvalidInput(f"an order may have at most {MAX_LINES} lines", field="lines",
                           zh=f"一个订单最多 {MAX_LINES} 行商品")
    lines = [_line(i, line, received) for i, line in enumerate(cmd.lines)]
    shipping_fee = parse_money(cmd.shipping_fee, "shipping_fee")
    total = parse_money(cmd.total, "total")
    adjustments = _adjustments(cmd.adjustments)
    expected = sum((ln.amount for ln in lines), Decimal("0.00")) + shipping_fee \
        + sum(adjustments.values(), Decimal("0.00"))
    if total != expected:
        raise InvalidInput(f"total {total} does not match the lines (sum of quantity x "
                           f"unit_price - discount, plus shipping_fee and adjustments) = "
                           f"{expected}", field="total",
                           zh=f"total {total} 与各行合计不符"
                              f"（数量 × 单价 - 折扣，再加运费和调整项）= {expected}")
    tags = []
    for i, tag in enumerate(cmd.tags):
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise InvalidInput("tags must be 1-40 printable characters", field=f"tags[{i}]",
                               zh="标签应为 1-40 个可打印字符")
        tags.append(tag)
    return Order(id=new_id(), channel=channel,
                 shop_id=_code(cmd.shop_id, "shop_id"),
                 external_id=_code(cmd.external_id, "external_id"),
                 placed_at=cmd.placed_at, currency=currency, customer=customer,
                 shipping_address=address, lines=lines, total=total, shipping_fee=shipping_fee,
                 tags=sorted(set(tags)), adjustments=adjustments, status="placed",
                 status_changed_at=now)


def _adjustments(raw: tuple[tuple[str, str], ...]) -> dict[str, Decimal]:
    if len(raw) > MAX_ADJUSTMENTS:
        raise InvalidInput(f"an order may have at most {MAX_ADJUSTMENTS} adjustments",
                           field="adjustments", zh=f"一个订单最多 {MAX_ADJUSTMENTS} 个调整项")
    found: dict[str, Decimal] = {}
    for kind, amount in raw:
        if not isinstance(kind, str) or not ADJUSTMENT.match(kind):
            raise InvalidInput("an adjustment's kind is a code of lowercase letters, digits "
                               "and _", field=f"adjustments.{str(kind)[:32]}",
                               zh="调整项的类型应为小写字母、数字和 _ 组成的代码")
        value = parse_money(amount, f"adjustments.{kind}", allow_negative=True)
        found[kind] = found.get(kind, Decimal("0.00")) + value
    return {k: v for k, v in found.items() if v != 0}


def _address(raw: dict[str, str], received: bool = False) -> Address:
    def part(name: str, required: bool = False, limit: int = 200) -> str:
        value = raw.get(name) or ""
        if not isinstance(value, str):
            raise InvalidInput(f"shipping_address.{name} must be text",
                               field=f"shipping_address.{name}",
                               zh=f"shipping_address.{name} 应为文本")
        return _text(value, f"shipping_address.{name}", required=required, limit=limit)

    country = part("country", True, 2).upper()
    if not re.match(r"^[A-Z]{2}$", country):
        raise InvalidInput("shipping_address.country must be an ISO 3166 two-letter code",
                           field="shipping_address.country",
                           zh="shipping_address.country 应为 ISO 3166 两位字母代码")
    return Address.normalised(country, part("province"), part("city"), part("district"),
                              part("line1", not received), part("postal_code", limit=20))


def _line(i: int, line: LineInput, received: bool = False) -> OrderLine:
    where = f"lines[{i}]"
    # A platform's SKU is whatever the seller typed (spaces, Chinese): kept as it is.
    sku = _text(line.sku, f"{where}.sku", limit=64) if received else _code(line.sku,
                                                                            f"{where}.sku")
    if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
        raise InvalidInput(f"{where}.quantity must be a whole number", field=f"{where}.quantity",
                           zh=f"{where}.quantity 应为整数")
    if not 0 < line.quantity <= MAX_QUANTITY:
        raise InvalidInput(f"{where}.quantity must be between 1 and {MAX_QUANTITY}",
                           field=f"{where}.quantity",
                           zh=f"{where}.quantity 应在 1 到 {MAX_QUANTITY} 之间")
    unit_price = parse_money(line.unit_price, f"{where}.unit_price")
    discount = parse_money(line.discount, f"{where}.discount")
    if discount > unit_price * line.quantity:
        raise InvalidInput(f"{where}.discount exceeds the line amount", field=f"{where}.discount",
                           zh=f"{where}.discount 超过了该行金额")
    return OrderLine(sku, line.quantity, unit_price, _text(line.name, f"{where}.name",
                                                           required=False), discount)
