"""When a stock source is pulled: the sync schedules ops choose from, and the next pull time.

``seconds`` is the bonded warehouse's near-real-time feed (pushes are welcome any time; a pull
every 15 s catches what a push missed), ``every_<N>s`` any interval from 5 s to a day,
``every_5_minutes`` the transfer warehouse, ``daily_0200`` the overseas warehouse at 02:00
Beijing time, ``manual`` never on its own.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from orderpilot.domain.times import SHANGHAI

NAMED_INTERVALS = {"seconds": 15, "every_5_minutes": 300}
DAILY = {"daily_0200": time(2, 0)}
MANUAL = "manual"
EVERY_N_SECONDS = re.compile(r"^every_([1-9][0-9]{0,4})s$")
MIN_SECONDS, MAX_SECONDS = 5, 86_400


def interval_seconds(schedule: str) -> int | None:
    """The pull interval of an interval schedule; None for daily and manual ones."""
    if schedule in NAMED_INTERVALS:
        return NAMED_INTERVALS[schedule]
    match = EVERY_N_SECONDS.match(schedule)
    return int(match.group(1)) if match else None


def is_valid(schedule: str) -> bool:
    if schedule == MANUAL or schedule in DAILY or schedule in NAMED_INTERVALS:
        return True
    seconds = interval_seconds(schedule)
    return seconds is not None and MIN_SECONDS <= seconds <= MAX_SECONDS


def pulls(schedule: str) -> bool:
    return is_valid(schedule) and schedule != MANUAL


def next_pull(schedule: str, after: datetime) -> datetime | None:
    """The first pull time strictly after ``after`` (aware); None for manual."""
    seconds = interval_seconds(schedule)
    if seconds is not None:
        return after + timedelta(seconds=seconds)
    at = DAILY.get(schedule)
    if at is None:
        return None
    local = after.astimezone(SHANGHAI)
    today = datetime.combine(local.date(), at, tzinfo=SHANGHAI)
    return today if today > local else today + timedelta(days=1)
