"""Money is Decimal, never float."""

from __future__ import annotations

import re
from decimal import Decimal

from orderpilot.domain.errors import InvalidInput

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")  # one billion per amount is far past any real order
# ASCII digits only (Decimal would take "١٢٣" and "1_000"); trailing zeros past two places are
# let through here and judged by value below ("129.000" is 129.00, "129.001" is refused).
PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def parse_money(value: object, field: str, *, allow_negative: bool = False) -> Decimal:
    """Parse a plain decimal string ("129.00", "-5", "8") into a two-place Decimal.

    Refused, naming ``field``: floats and JSON numbers of any kind (the API never sees one as
    money: its schema wants a string), exponents ("1e3"), NaN and Infinity, thousands
    separators, more than two decimal places (a float's binary noise, "129.00000000001").
    Integers and Decimals are taken from code that built them itself (spreadsheet cells)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInput(f"{field} must be a decimal string such as \"129.00\", not a number",
                           field=field, code="money_not_a_string",
                           zh=f"{field} 应为十进制字符串，如 \"129.00\"，不能是数字")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 40 or not PLAIN_DECIMAL.fullmatch(text):
            raise InvalidInput(f"{field} must be a plain decimal string such as \"129.00\" "
                               f"(digits, an optional point and at most two decimals; no "
                               f"exponent, NaN or Infinity): {value[:40]!r}", field=field,
                               code="money_format",
                               zh=f"{field} 应为普通十进制字符串，如 \"129.00\"（数字、可选的小数点"
                                  f"和最多两位小数；不能用科学计数法、NaN 或 Infinity）："
                                  f"{value[:40]!r}")
        amount = Decimal(text)
    else:
        raise InvalidInput(f"{field} must be a decimal string", field=field,
                           code="money_not_a_string", zh=f"{field} 应为十进制字符串")
    if not amount.is_finite():
        raise InvalidInput(f"{field} must be a finite amount", field=field,
                           code="money_format", zh=f"{field} 应为有限金额")
    if abs(amount) >= MAX_AMOUNT:
        raise InvalidInput(f"{field} is too large", field=field, code="money_too_large",
                           zh=f"{field} 金额过大")
    if amount != amount.quantize(CENT):
        raise InvalidInput(f"{field} has more than two decimal places", field=field,
                           code="money_format", zh=f"{field} 的小数超过两位")
    if amount < 0 and not allow_negative:
        raise InvalidInput(f"{field} must not be negative", field=field,
                           code="money_negative", zh=f"{field} 不能为负数")
    return amount.quantize(CENT)


def money_str(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def to_cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)
