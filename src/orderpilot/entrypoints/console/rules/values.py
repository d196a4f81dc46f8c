"""Small conversions between what people type in the rule builder and rule JSON values."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from orderpilot.domain.times import SHANGHAI

_SEPARATORS = re.compile(r"[,，、;；\n]+")


def split_list(text: str) -> list[str]:
    """"a, b，c" -> ["a", "b", "c"]: Chinese commas and new lines count as separators too."""
    return [part.strip() for part in _SEPARATORS.split(text or "") if part.strip()]


def join_list(values: Any) -> str:
    return ", ".join(str(v) for v in values) if isinstance(values, list) else str(values or "")


def to_number(text: str) -> int | float | None:
    """An int or float from typed text (full-width digits and thousands commas allowed);
    None when it is not a number, so the caller can pass the text on for a precise message."""
    cleaned = (text or "").strip().replace(",", "").replace("，", "")
    if not cleaned:
        return None
    try:
        number = Decimal(cleaned)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def from_datetime_input(text: str) -> str:
    """A browser's datetime-local value ("2026-11-26T10:00") is Beijing time."""
    text = (text or "").strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.isoformat()


def to_datetime_input(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    if moment.tzinfo is not None:
        moment = moment.astimezone(SHANGHAI)
    return moment.strftime("%Y-%m-%dT%H:%M")


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
