"""Times the hub is given: with an offset, and inside the range every later step can handle.

Python's datetime stops at years 1 and 9999. A time near either end overflows when it is
converted to UTC (``9999-12-31T23:00:00-02:00``) or when a timer, a reservation or Beijing
time is added to it, so a stored business time must fall in [1900, 9000) UTC: far wider than
any real order, far enough from the edges for every addition. A filter only has to convert.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from orderpilot.domain.errors import InvalidInput

# Business days, schedules, the dashboard and the console are in Beijing time. China has kept
# UTC+8 without daylight saving since 1991; a fixed offset needs no tzdata.
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
EXAMPLE = "2026-11-26T10:00:00+08:00"


def _in_utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{field} needs a time-zone offset, e.g. {EXAMPLE}", field=field,
                           zh=f"{field} 需要时区偏移，如 {EXAMPLE}")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(f"{field} {value.isoformat()} is out of range: in UTC it falls "
                           "outside the years 1-9999", field=field,
                           zh=f"{field} {value.isoformat()} 超出范围："
                              "换算为 UTC 后不在 1-9999 年之间") from None


def business_time(value: datetime, field: str) -> datetime:
    """A time to store (placed_at, occurred_at, as_of): with an offset, within range."""
    if not EARLIEST <= _in_utc(value, field) < LATEST:
        raise InvalidInput(f"{field} must fall between {EARLIEST:%Y-%m-%d} and "
                           f"{LATEST:%Y-%m-%d} (UTC)", field=field,
                           zh=f"{field} 应在 {EARLIEST:%Y-%m-%d} 到 {LATEST:%Y-%m-%d}（UTC）之间")
    return value


def filter_time(value: datetime | None, field: str) -> datetime | None:
    """A time to compare with (since, until): with an offset, and convertible to UTC."""
    if value is not None:
        _in_utc(value, field)
    return value
