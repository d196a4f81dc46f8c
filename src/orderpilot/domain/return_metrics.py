"""Returns metrics (退货指标): address accuracy, processing time, return rates, co-returned SKUs.

Pure computations over facts the read side gathers for a period:

* **Address accuracy**: a routed return is accurate when the centre it went to is the one the
  policy version in force when it was routed names for its outlet. Returns whose outlet the
  current policy would send elsewhere are flagged. The baseline is the buyer-typed address:
  the share of routed returns whose typed address already was the right centre's address
  (province, city, district and street compared after normalising), the "59%" of the story.
* **Processing time**: hours from the request to each step, p50/p90 by nearest rank (the
  smallest value with at least q of the values at or below it; no interpolation, so every
  percentile is a time some return really took).
* **Co-returned pairs**: two SKUs returned on the same order (one return or several) in the
  period count once for that order.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.times import EARLIEST, LATEST, SHANGHAI

ADDRESS_PARTS = ("province", "city", "district", "line1")
STEPS = ("pickup_booked", "received", "refunded")
STEP_NAMES: dict[str, tuple[str, str]] = {
    "pickup_booked": ("申请→预约取件", "Request → pickup booked"),
    "received": ("申请→退货入库", "Request → received"),
    "refunded": ("申请→退款", "Request → refunded"),
}
# Why a routed return needed a person (domain/return_routing.py EXCEPTION_TEXTS), short names.
DECISION_REASONS: dict[str, tuple[str, str]] = {
    "no_shipment": ("无发货记录", "No shipment"), "no_outlet": ("无网点", "No outlet"),
    "no_policy_row": ("政策无此网点", "No policy row"),
    "unknown_centre": ("退货中心不存在", "Unknown centre"),
    "carrier_refused": ("承运商拒绝取件", "Carrier refused"),
}
DEFAULT_DAYS = 30
MAX_DAYS = 366
_NOISE = re.compile(r"[\s,，.。·、:：;；#＃()（）\-—_/]+")


def _moment(value: str, field_name: str, *, end: bool) -> datetime:
    """A day (Beijing; the end of the period takes the whole day) or a time (without an
    offset: Beijing)."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field_name} must be a day (2026-11-01) or a time "
                           f"(2026-11-01T08:00:00+08:00), not {value[:40]!r}",
                           field=field_name, zh=f"{field_name} 应为日期（2026-11-01）或时间"
                           f"（2026-11-01T08:00:00+08:00）") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)
    if not EARLIEST <= moment < LATEST:
        raise InvalidInput(f"{field_name} is out of range", field=field_name,
                           zh=f"{field_name} 超出范围")
    return moment


def period_bounds(since: str | None, until: str | None,
                  now: datetime) -> tuple[datetime, datetime]:
    """[since, until): by default the last 30 days up to now; at most 366 days."""
    end = _moment(until, "until", end=True) if until else now
    start = _moment(since, "since", end=False) if since else end - timedelta(DEFAULT_DAYS)
    if start >= end:
        raise InvalidInput("since must be before until", field="since",
                           zh="开始时间必须早于结束时间")
    if end - start > timedelta(days=MAX_DAYS):
        raise InvalidInput(f"the period is at most {MAX_DAYS} days", field="since",
                           zh=f"统计区间最长 {MAX_DAYS} 天")
    return start, end


def normalised_address(address: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """Province, city, district and street, width-folded (NFKC), lower case, without spaces
    or punctuation: "浙江省 金华市" and "浙江省金华市" are the same place. None when no street."""
    if not address:
        return None
    parts = tuple(_NOISE.sub("", unicodedata.normalize("NFKC", str(address.get(p) or ""))
                             ).lower() for p in ADDRESS_PARTS)
    return parts if parts[3] else None


def typed_address(route_copy: Mapping[str, Any] | None,
                  return_copy: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The buyer's typed address: each part from the route's copy, else the return's; None
    when neither has any part."""
    merged = {p: (route_copy or {}).get(p) if (route_copy or {}).get(p) is not None
              else (return_copy or {}).get(p) for p in ADDRESS_PARTS}
    return merged if any(merged.values()) else None


def typed_address_matches(typed: Mapping[str, Any] | None,
                          centre: Mapping[str, Any] | None) -> bool | None:
    """Whether the typed address already was the centre's address (None: either has no
    street, not compared). Decided when a route is written (adapters/return_routing.py)."""
    right, given = normalised_address(centre), normalised_address(typed)
    return None if right is None or given is None else given == right


@dataclass(frozen=True)
class RouteFacts:
    """One return's route in the period, with what the policy said then and says now."""
    return_id: str
    decision_required: bool
    exception_reason: str | None
    outlet_code: str | None
    return_centre: str | None
    centre_then: str | None  # the policy version used, for this outlet
    centre_now: str | None  # the current policy, for this outlet
    typed_address: Mapping[str, Any] | None
    centre_address: Mapping[str, Any] | None
    # typed_address_matches() as stored on the route; used when the addresses are not given
    typed_matched: bool | None = None


@dataclass(frozen=True)
class Accuracy:
    routes: int
    routed: int
    matching_policy: int
    decision_required: int
    by_reason: dict[str, int]
    typed_known: int
    typed_right: int
    policy_changed: list[dict[str, str | None]] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return ratio(self.matching_policy, self.routed)

    @property
    def typed_rate(self) -> float | None:
        return ratio(self.typed_right, self.typed_known)


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def address_accuracy(routes: Iterable[RouteFacts], changed_limit: int = 50) -> Accuracy:
    groups: Counter[RouteGroup] = Counter()
    changed: list[RouteFacts] = []
    for r in routes:
        if r.decision_required:
            groups[RouteGroup(True, r.exception_reason, False, None)] += 1
            continue
        matched = typed_address_matches(r.typed_address, r.centre_address)
        groups[RouteGroup(False, None, r.return_centre is not None
                          and r.return_centre == r.centre_then,
                          r.typed_matched if matched is None else matched)] += 1
        if r.centre_now != r.return_centre:
            changed.append(r)
    return tallied_accuracy(groups.items(), changed, changed_limit)


@dataclass(frozen=True)
class RouteGroup:
    """Routes alike for the accuracy: counted by the database (adapters/views) or here."""
    decision_required: bool
    exception_reason: str | None
    matching_policy: bool
    typed_matched: bool | None


def tallied_accuracy(groups: Iterable[tuple[RouteGroup, int]], changed: Iterable[RouteFacts],
                     changed_limit: int = 50) -> Accuracy:
    """The accuracy from routes counted by kind, and the routed ones the current policy
    sends elsewhere (listed by return id)."""
    total = routed = matching = typed_known = typed_right = 0
    reasons: Counter[str] = Counter()
    for group, n in groups:
        total += n
        if group.decision_required:
            reasons[group.exception_reason or "unknown"] += n
            continue
        routed += n
        matching += n if group.matching_policy else 0
        if group.typed_matched is not None:
            typed_known += n
            typed_right += n if group.typed_matched else 0
    by_reason = dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0])))
    listed = sorted(({"return_id": r.return_id, "outlet_code": r.outlet_code,
                      "return_centre": r.return_centre, "current_centre": r.centre_now}
                     for r in changed), key=lambda c: c["return_id"] or "")
    return Accuracy(total, routed, matching, sum(reasons.values()), by_reason, typed_known,
                    typed_right, listed[:changed_limit])


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0 < q <= 1) by nearest rank: the value at rank ceil(q * n)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered) - 1e-9)) - 1]


@dataclass(frozen=True)
class StepTime:
    step: str
    count: int
    p50_hours: float | None
    p90_hours: float | None


def processing_times(hours_by_step: Mapping[str, Sequence[float]]) -> list[StepTime]:
    """p50/p90 per step, in hours rounded to 0.1, in the order of STEPS."""
    out = []
    for step in STEPS:
        values = hours_by_step.get(step, ())
        p50, p90 = nearest_rank(values, 0.5), nearest_rank(values, 0.9)
        out.append(StepTime(step, len(values), None if p50 is None else round(p50, 1),
                            None if p90 is None else round(p90, 1)))
    return out


def co_returned_pairs(skus_by_order: Iterable[Iterable[str]],
                      top: int = 10) -> list[tuple[str, str, int]]:
    """The most frequent SKU pairs returned on one order, each pair once per order; ties by
    the SKUs' names so the list is stable."""
    pairs: Counter[tuple[str, str]] = Counter()
    for skus in skus_by_order:
        pairs.update(combinations(sorted(set(skus)), 2))
    ranked = sorted(pairs.items(), key=lambda item: (-item[1], item[0]))
    return [(a, b, n) for (a, b), n in ranked[:top]]


@dataclass(frozen=True)
class SkuRate:
    sku: str
    returned: int
    shipped: int

    @property
    def rate(self) -> float | None:
        return ratio(self.returned, self.shipped)


def sku_rates(returned: Mapping[str, int], shipped: Mapping[str, int],
              top: int = 20) -> list[SkuRate]:
    """Returned units over shipped units per returned SKU, highest rate first (a SKU with no
    shipped units in the period has no rate and comes after), then most returned."""
    rates = [SkuRate(sku, n, shipped.get(sku, 0)) for sku, n in returned.items()]
    rates.sort(key=lambda s: (s.rate is None, -(s.rate or 0.0), -s.returned, s.sku))
    return rates[:top]
