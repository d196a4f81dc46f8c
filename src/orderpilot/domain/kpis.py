"""Outcome KPIs (成效, docs/outcomes.md): the pure pieces the read side computes them with.

* Quantiles by **nearest rank** (the value at rank ceil(q * n) of the sorted values; no
  interpolation, so every p50/p90 is a time some order really took): the returns metrics use
  the same definition (``domain/return_metrics.py``).
* A rate is a fraction 0-1, ``None`` when nothing was counted (no data is not 0%).
* Durations are hours to four places (what the database computes from the two times).
* On time: delivered at or before the promise; an order past its promise and not delivered is
  late; an order whose promise still stands is not counted yet.
* Repurchase: a buyer (keyed by phone) repurchased within N days when another order of theirs
  was placed no later than N days after their first order of the period; only buyers whose
  window has fully elapsed before now are counted.
* Periods are [since, until); trend buckets are Beijing days or ISO weeks (from Monday).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.return_metrics import nearest_rank
from orderpilot.domain.times import SHANGHAI

BUCKETS = ("day", "week")
MAX_BUCKETS = 120
MANUAL_GOAL = 0.05  # S12b: at most 5% of orders need a person (seed: 34% before)
# The seed's figures (BRIEF S12b, S15), shown beside each card: (before, after).
SEED_FIGURES: dict[str, tuple[str, str]] = {
    "fulfilment_cycle": ("5.8", "3.2"),  # days
    "on_time_rate": ("73.4%", "92.7%"),
    "manual_intervention_rate": ("34%", "≤ 5%"),
    "discrepancy_per_mille": ("1.2‰", "≤ 0.3‰"),
    "return_address_accuracy": ("—", "99.2%"),
}


@dataclass(frozen=True)
class Spread:
    """p50 and p90 of durations in hours; both None without any."""

    p50: float | None
    p90: float | None

    def shown(self) -> dict[str, float | None]:
        return {"p50": self.p50, "p90": self.p90}


def spread(hours: Sequence[float]) -> Spread:
    return Spread(nearest_rank(hours, 0.5), nearest_rank(hours, 0.9))


def rate(part: int, whole: int) -> float | None:
    """PART / WHOLE as a fraction; None when WHOLE is 0 (nothing to rate)."""
    return part / whole if whole else None


def per_mille(part: int, whole: int) -> float | None:
    return part * 1000 / whole if whole else None


def repurchase(orders: Iterable[tuple[str, float]], since: float | None,
               until: float | None, now: float, days: int) -> tuple[int, int]:
    """(buyers counted, buyers who repurchased) among buyers with an order in [since, until).

    ORDERS are (buyer key, placed_at) of the period and after it, times in seconds; a buyer is
    counted when their first order of the period plus DAYS is at or before NOW, and
    repurchased when another order of theirs is placed in [first, first + DAYS]."""
    window = days * 86400.0
    by_buyer: dict[str, list[float]] = {}
    for buyer, placed_at in orders:
        if buyer:
            by_buyer.setdefault(buyer, []).append(placed_at)
    counted = repurchased = 0
    for times in by_buyer.values():
        times.sort()
        in_period = [p for p in times if (since is None or p >= since)
                     and (until is None or p < until)]
        if not in_period:
            continue
        first = in_period[0]
        if first + window > now:
            continue
        counted += 1
        later = [p for p in times if first <= p <= first + window]
        repurchased += len(later) >= 2
    return counted, repurchased


def bucket_starts(since: datetime, until: datetime, bucket: str) -> list[datetime]:
    """The starts of the Beijing days or ISO weeks overlapping [since, until)."""
    if bucket not in BUCKETS:
        raise InvalidInput(f"bucket must be one of {', '.join(BUCKETS)}", field="bucket",
                           zh=f"bucket 只能是 {'、'.join(BUCKETS)}")
    local = since.astimezone(SHANGHAI)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "week":
        start -= timedelta(days=start.weekday())
    step = timedelta(days=7 if bucket == "week" else 1)
    starts = []
    while start < until:
        starts.append(start)
        start = (start + step).replace(tzinfo=SHANGHAI)
        if len(starts) > MAX_BUCKETS:
            raise InvalidInput(f"at most {MAX_BUCKETS} {bucket}s in a trend", field="bucket",
                               zh=f"趋势最多 {MAX_BUCKETS} 个区间")
    return starts


def shanghai_day(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).date().isoformat()
