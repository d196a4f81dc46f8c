"""Money is Decimal, never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from orderpilot.domain.errors import InvalidInput

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")  # one billion per amount is far past any real order


def parse_money(value: object, field: str, *, allow_negative: bool = False) -> Decimal:
    """Parse a decimal string (or an integer) into a two-place Decimal, refusing floats."""
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInput(f"{field} must be a decimal string such as \"129.00\", not a float",
                           field=field,
                           zh=f"{field} 应为十进制字符串，如 \"129.00\"，不能是浮点数")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidInput(f"{field} is not a decimal number: {value[:40]!r}",
                               field=field,
                               zh=f"{field} 不是十进制数：{value[:40]!r}") from None
    else:
        raise InvalidInput(f"{field} must be a decimal string", field=field,
                           zh=f"{field} 应为十进制字符串")
    if not amount.is_finite():
        raise InvalidInput(f"{field} must be a finite amount", field=field,
                           zh=f"{field} 应为有限金额")
    if abs(amount) >= MAX_AMOUNT:
        raise InvalidInput(f"{field} is too large", field=field,
                           zh=f"{field} 金额过大")
    if amount != amount.quantize(CENT):
        raise InvalidInput(f"{field} has more than two decimal places", field=field,
                           zh=f"{field} 的小数超过两位")
    if amount < 0 and not allow_negative:
        raise InvalidInput(f"{field} must not be negative", field=field,
                           zh=f"{field} 不能为负数")
    return amount.quantize(CENT)


def money_str(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def to_cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def from_cents(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENT)
