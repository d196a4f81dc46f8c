"""Cells of the files reconciliation reads: amounts, quantities, times, each refused with a
reason in both languages (the caller adds file, row and field).

Amounts: "1234.50", "1,234.50" (thousands grouped by three), "1234.50元", "¥1,234.50" or a
number cell; at most two decimals. Anything else ("12,34.5", "1.234,50", "abc", "1e3") is
refused, never guessed. Times: a date cell, "2026-11-26", "2026-11-26 10:00[:00]" or with
slashes, read as Beijing time.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from orderpilot.domain.times import SHANGHAI

_AMOUNT = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?")
_TIME = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})"
                   r"(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?")
MAX_CENTS = 100_000_000_000  # one billion yuan


class CellProblem(ValueError):
    def __init__(self, code: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.code, self.en, self.zh = code, en, zh


def amount_cents(value: object) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise CellProblem("missing", "the amount is empty", "金额为空")
    if isinstance(value, int | float | Decimal):
        try:
            exact = Decimal(str(value))
        except InvalidOperation:
            exact = Decimal("NaN")
        if not exact.is_finite() or exact != exact.quantize(Decimal("0.01")) \
                and abs(exact - exact.quantize(Decimal("0.01"))) > Decimal("0.000001"):
            raise CellProblem("bad_amount", f"not an amount in yuan and fen: {value!r}",
                              f"不是以元、分表示的金额：{value!r}")
        cents = int((exact * 100).quantize(Decimal(1)))
    else:
        text = str(value).strip().replace(" ", "")
        text = text.removeprefix("¥").removeprefix("￥").removesuffix("元")
        if len(text) > 30 or not _AMOUNT.fullmatch(text):
            shown = str(value)[:30]
            raise CellProblem("bad_amount",
                              f"not an amount: {shown!r} (write 1234.50, 1,234.50 or 1234.50元)",
                              f"不是金额：{shown!r}（应写作 1234.50、1,234.50 或 1234.50元）")
        cents = int(Decimal(text.replace(",", "")) * 100)
    if abs(cents) >= MAX_CENTS:
        raise CellProblem("bad_amount", "the amount is too large", "金额过大")
    return cents


def quantity(value: object) -> int:
    if isinstance(value, bool) or value is None or value == "":
        raise CellProblem("missing", "the quantity is empty", "数量为空")
    text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value() or number <= 0 \
            or number > 1_000_000:
        raise CellProblem("bad_quantity", f"not a whole positive quantity: {text[:30]!r}",
                          f"不是正整数数量：{text[:30]!r}")
    return int(number)


def moment(value: object) -> datetime:
    """A time in the file, as Beijing time (aware)."""
    if value is None or value == "":
        raise CellProblem("missing", "the time is empty", "时间为空")
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        found = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        match = _TIME.fullmatch(text)
        try:
            if match is None:
                raise ValueError(text)
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
            found = datetime(y, mo, d, h, mi, s)
        except ValueError:
            raise CellProblem("bad_time",
                              f"not a date: {text[:30]!r} (write 2026-11-26 or "
                              "2026-11-26 10:00:00)",
                              f"不是日期：{text[:30]!r}（应写作 2026-11-26 或 2026-11-26 10:00:00）"
                              ) from None
    if not 1900 < found.year < 9000:
        raise CellProblem("bad_time", f"the date {found:%Y-%m-%d} is out of range",
                          f"日期 {found:%Y-%m-%d} 超出范围")
    return found.replace(tzinfo=SHANGHAI) if found.tzinfo is None else found
