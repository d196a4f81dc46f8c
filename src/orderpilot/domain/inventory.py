"""Stock sources, their sellable policy, per-channel strategies, and the one selection function.

The same :func:`plan` answers "where would this come from?" for the delivery promise and for
allocation, so what the storefront promises is what an order gets while stock stays the same.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from orderpilot.domain import sync_schedule as schedules
from orderpilot.domain.errors import InventoryInputError as InventoryInputError  # raised here
from orderpilot.domain.times import SHANGHAI

# kind -> (zh, en)
SOURCE_KINDS: dict[str, tuple[str, str]] = {
    "bonded_spot": ("保税现货", "Bonded spot"),
    "domestic_transfer": ("国内调拨", "Domestic transfer"),
    "in_transit": ("海外在途", "Overseas in transit"),
}
SELLABLE_KINDS = ("bonded_spot", "domestic_transfer")
DEFAULT_TIERS = ("bonded_spot", "domestic_transfer")
DEFAULT_TTL_HOURS = 24
SYNC_SCHEDULES = ("seconds", "every_5_minutes", "daily_0200", "manual")
ALLOCATE_ON = {"paid": "payment.succeeded", "placed": "order.placed"}

# Event types this module emits, with the names the rule editor shows (zh, en).
EVENT_NAMES: dict[str, tuple[str, str]] = {
    "inventory.low": ("库存低于阈值", "Stock below threshold"),
    "inventory.allocated": ("库存分配", "Stock allocated"),
    "inventory.reservation_expired": ("调拨预留超时释放", "Reservation expired"),
    "inventory.released": ("库存分配撤销", "Allocation released"),
    "inventory.out_of_stock": ("缺货无法分配", "Out of stock at allocation"),
    "promotion.started": ("促销开始", "Promotion started"),
    "promotion.ended": ("促销结束", "Promotion ended"),
    "promotion.claimed": ("领取赠品名额", "Promotion gift claimed"),
    "promotion.released": ("赠品名额释放", "Promotion gift released"),
}

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
MAX_COUNT = 10**9
MAX_NAME = 100
MAX_LEAD_TIMES = 50
# A source's whole-number fields and their ranges, inclusive.
SOURCE_NUMBERS: dict[str, tuple[int, int]] = {
    "lead_time_days": (0, MAX_COUNT), "reservation_ttl_hours": (1, 24 * 30),
    "safety_stock": (0, MAX_COUNT), "low_threshold": (0, MAX_COUNT)}


@dataclass(frozen=True)
class Source:
    code: str
    kind: str
    name_zh: str
    name_en: str
    region: str
    lead_time_days: int
    reservation_ttl_hours: int = DEFAULT_TTL_HOURS
    lead_times: dict[str, int] = field(default_factory=dict)  # destination region -> days
    sync_schedule: str = "manual"
    safety_stock: int = 0
    low_threshold: int = 0

    def __post_init__(self) -> None:
        if _plainly_valid(self.code, self.kind, self.name_zh, self.name_en, self.region,
                          self.sync_schedule, self.lead_time_days, self.reservation_ttl_hours,
                          self.safety_stock, self.low_threshold, self.lead_times):
            return
        problems = source_problems(self.__dict__)
        if problems:  # (an int or str subclass passes here though not the quick check)
            raise InventoryInputError(problems[0].message, problems[0].field,
                                      zh=problems[0].zh)

    @property
    def sellable(self) -> bool:
        return self.kind in SELLABLE_KINDS

    @property
    def reserves_with_ttl(self) -> bool:
        """Bonded spot is taken for good at allocation; a transfer is only held for a while."""
        return self.kind == "domestic_transfer"

    def lead_time_to(self, region: str | None) -> int:
        return self.lead_times.get(region or "", self.lead_time_days)


@dataclass(frozen=True)
class Strategy:
    channel: str
    tiers: tuple[str, ...] = DEFAULT_TIERS
    allow_split: bool = False
    allocate_on: str = "paid"
    reservation_ttl_hours: int | None = None

    def __post_init__(self) -> None:
        if not self.tiers:
            raise InventoryInputError("tiers needs at least one source kind", "tiers",
                                      zh="tiers 至少需要一种库存来源类型")
        for i, tier in enumerate(self.tiers):
            if tier not in SELLABLE_KINDS:
                raise InventoryInputError(
                    f"tier {tier!r} is not sellable; use {' or '.join(SELLABLE_KINDS)}",
                    f"tiers[{i}]",
                    zh=f"层级 {tier!r} 不可售；请使用 {' 或 '.join(SELLABLE_KINDS)}")
        if len(set(self.tiers)) != len(self.tiers):
            raise InventoryInputError("a tier appears twice", "tiers",
                                      zh="有层级重复出现")
        if self.allocate_on not in ALLOCATE_ON:
            raise InventoryInputError("allocate_on must be paid or placed", "allocate_on",
                                      zh="allocate_on 应为 paid 或 placed")
        ttl = self.reservation_ttl_hours
        if ttl is not None and not 1 <= ttl <= 24 * 30:
            raise InventoryInputError("reservation_ttl_hours must be 1-720",
                                      "reservation_ttl_hours",
                                      zh="reservation_ttl_hours 应为 1-720")

    def ttl_hours(self, source: Source) -> int:
        return self.reservation_ttl_hours or source.reservation_ttl_hours


@dataclass(frozen=True)
class SourceProblem:
    """One thing wrong with a stock source: the field, which rule it breaks, an English message
    and the rule's numbers (a range, a length), so an entrypoint can say it in its language.

    Rules: ``code`` (the code's shape), ``choice`` (not one of the kinds), ``name`` (required
    text of at most ``high`` characters), ``text`` (at most ``high`` characters), ``whole`` (a
    whole number from ``low`` to ``high``), ``schedule``, ``too_many`` (at most ``high``
    entries)."""

    field: str
    rule: str
    message: str
    low: int = 0
    high: int = 0

    @property
    def zh(self) -> str:
        """The message in Chinese (field names stay as the API spells them)."""
        name = self.field
        if self.rule == "code":
            return "来源代码为 1-64 个字母、数字、_ . -"
        if self.rule == "choice":
            return f"{name} 应为以下之一：{'、'.join(SOURCE_KINDS)}"
        if self.rule == "name":
            return f"{name} 必填，最多 {self.high} 个字符"
        if self.rule == "text":
            return f"{name} 最多 {self.high} 个字符"
        if self.rule == "schedule":
            return (f"sync_schedule 应为 {'、'.join(SYNC_SCHEDULES)} 之一，或 every_<N>s"
                    f"（{schedules.MIN_SECONDS}-{schedules.MAX_SECONDS}）")
        if self.rule == "too_many":
            return f"最多 {self.high} 个地区"
        if self.low == 0:
            return f"{name} 应为大于或等于 0 的整数"
        return f"{name} 应为 {self.low}-{self.high} 的整数"


def _whole(value: object, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and low <= value <= high


def _plainly_valid(code: object, kind: object, zh: object, en: object, region: object,
                   schedule: object, lead_days: object, ttl: object, safety: object,
                   low: object, lead_times: object) -> bool:
    """The rules of :func:`source_problems`, answered yes or no in one pass: stored rows are
    loaded for every allocation, and nearly all are valid."""
    return (type(code) is str and CODE.match(code) is not None and kind in SOURCE_KINDS
            and type(zh) is str and 0 < len(zh) <= MAX_NAME
            and type(en) is str and 0 < len(en) <= MAX_NAME
            and type(region) is str and len(region) <= MAX_NAME
            and type(schedule) is str and schedules.is_valid(schedule)
            and type(lead_days) is int and 0 <= lead_days <= MAX_COUNT
            and type(ttl) is int and 1 <= ttl <= 24 * 30
            and type(safety) is int and 0 <= safety <= MAX_COUNT
            and type(low) is int and 0 <= low <= MAX_COUNT
            and type(lead_times) is dict and len(lead_times) <= MAX_LEAD_TIMES
            and all(type(r) is str and 0 < len(r) <= MAX_NAME
                    and type(d) is int and 0 <= d <= MAX_COUNT for r, d in lead_times.items()))


def source_problems(source: Mapping[str, Any]) -> list[SourceProblem]:
    """Everything wrong with a stock source's fields, in field order; empty when it is valid.

    The one validation of a source: the API, the console and stored rows all go through it."""
    get = source.get
    if _plainly_valid(get("code"), get("kind"), get("name_zh"), get("name_en"), get("region"),
                      get("sync_schedule"), get("lead_time_days"),
                      get("reservation_ttl_hours"), get("safety_stock"), get("low_threshold"),
                      get("lead_times")):
        return []
    found: list[SourceProblem] = []
    code, region, schedule = source.get("code"), source.get("region"), source.get("sync_schedule")
    if not isinstance(code, str) or not CODE.match(code):
        found.append(SourceProblem("code", "code", "a source code is 1-64 letters, digits, _ . -"))
    if source.get("kind") not in SOURCE_KINDS:
        found.append(SourceProblem("kind", "choice",
                                   f"kind must be one of {', '.join(SOURCE_KINDS)}"))
    for name in ("name_zh", "name_en"):
        value = source.get(name)
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_NAME:
            found.append(SourceProblem(name, "name", f"{name} is required, at most {MAX_NAME} "
                                                     "characters", 1, MAX_NAME))
    if not isinstance(region, str) or len(region) > MAX_NAME:
        found.append(SourceProblem("region", "text",
                                   f"region is at most {MAX_NAME} characters", 0, MAX_NAME))
    if not isinstance(schedule, str) or not schedules.is_valid(schedule):
        found.append(SourceProblem(
            "sync_schedule", "schedule",
            f"sync_schedule must be one of {', '.join(SYNC_SCHEDULES)} or every_<N>s "
            f"({schedules.MIN_SECONDS}-{schedules.MAX_SECONDS})"))
    for name, (low, high) in SOURCE_NUMBERS.items():
        if not _whole(source.get(name), low, high):
            message = (f"{name} must be a whole number from 0" if low == 0
                       else f"{name} must be {low}-{high}")
            found.append(SourceProblem(name, "whole", message, low, high))
    lead_times = source.get("lead_times")
    if not isinstance(lead_times, dict):
        found.append(SourceProblem("lead_times", "whole",
                                   "lead_times maps regions to days", 0, MAX_COUNT))
        return found
    if len(lead_times) > MAX_LEAD_TIMES:
        found.append(SourceProblem("lead_times", "too_many",
                                   f"at most {MAX_LEAD_TIMES} regions", 0, MAX_LEAD_TIMES))
    for region, days in lead_times.items():
        if not isinstance(region, str) or not 1 <= len(region) <= MAX_NAME:
            found.append(SourceProblem(f"lead_times.{region}", "name",
                                       f"a region is 1-{MAX_NAME} characters", 1, MAX_NAME))
        elif not _whole(days, 0, MAX_COUNT):
            found.append(SourceProblem(f"lead_times.{region}", "whole",
                                       f"lead_times.{region} must be a whole number from 0",
                                       0, MAX_COUNT))
    return found


@dataclass(frozen=True)
class Stock:
    """One source's stock of one SKU as seen now (expired reservations already discounted)."""

    source: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    expected_at: date | None = None
    expired: int = 0  # past reserved_until, not yet released (already left out of reserved)

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


@dataclass(frozen=True)
class Pick:
    sku: str
    source: str
    quantity: int
    line_no: int


@dataclass(frozen=True)
class Plan:
    picks: tuple[Pick, ...]
    short: dict[str, int]  # sku -> quantity nothing could serve

    @property
    def complete(self) -> bool:
        return not self.short


def ranked(sources: list[Source], strategy: Strategy, region: str | None) -> list[Source]:
    """Sellable sources in the strategy's tier order; in a tier, the fastest first."""
    tier = {kind: i for i, kind in enumerate(strategy.tiers)}
    return sorted((s for s in sources if s.kind in tier),
                  key=lambda s: (tier[s.kind], s.lead_time_to(region), s.code))


def plan(lines: list[tuple[int, str, int]], stock: dict[tuple[str, str], Stock],
         sources: list[Source], strategy: Strategy, region: str | None) -> Plan:
    """Choose sources for ``lines`` (line_no, sku, quantity).

    Without split every line comes from one source, the first in tier order that can serve
    the whole order. With split, each line takes what it can from each source in order.
    """
    order = ranked(sources, strategy, region)
    wanted: dict[str, int] = {}
    for _, sku, qty in lines:
        wanted[sku] = wanted.get(sku, 0) + qty
    if not strategy.allow_split:
        for source in order:
            if all(_free(stock, source.code, sku) >= qty for sku, qty in wanted.items()):
                return Plan(tuple(Pick(sku, source.code, qty, no) for no, sku, qty in lines), {})
        return Plan((), {sku: qty for sku, qty in wanted.items()
                         if not any(_free(stock, s.code, sku) >= qty for s in order)} or wanted)
    left = {(s.code, sku): _free(stock, s.code, sku) for s in order for sku in wanted}
    picks: list[Pick] = []
    short: dict[str, int] = {}
    for no, sku, qty in lines:
        need = qty
        for source in order:
            take = min(need, left[(source.code, sku)])
            if take > 0:
                picks.append(Pick(sku, source.code, take, no))
                left[(source.code, sku)] -= take
                need -= take
            if need == 0:
                break
        if need:
            short[sku] = short.get(sku, 0) + need
    return Plan(tuple(picks) if not short else (), short)


def _free(stock: dict[tuple[str, str], Stock], source: str, sku: str) -> int:
    found = stock.get((source, sku))
    return found.available if found else 0


@dataclass(frozen=True)
class Promise:
    sellable: bool
    source: str | None
    kind: str | None
    date: date | None
    zh: str
    en: str


def _day_words(today: date, when: date) -> tuple[str, str]:
    days = (when - today).days
    if days <= 0:
        return "今日", "today"
    if days == 1:
        return "明日", "tomorrow"
    if days == 2:
        return "后日", "the day after tomorrow"
    return f"{when.month}月{when.day}日", f"on {when.isoformat()}"


def promise(sku: str, quantity: int, stock: dict[tuple[str, str], Stock],
            sources: list[Source], strategy: Strategy, region: str | None,
            now: datetime) -> Promise:
    """What the storefront may tell the shopper; built on :func:`plan`, never beside it."""
    today = now.astimezone(SHANGHAI).date()
    chosen = plan([(1, sku, quantity)], stock, sources, strategy, region)
    by_code = {s.code: s for s in sources}
    if chosen.complete:
        # With split the slowest source decides when everything arrives.
        used = [by_code[p.source] for p in chosen.picks]
        slowest = max(used, key=lambda s: s.lead_time_to(region))
        when = today + timedelta(days=slowest.lead_time_to(region))
        zh_day, en_day = _day_words(today, when)
        if slowest.kind == "bonded_spot":
            zh = f"{slowest.name_zh}有货,预计{zh_day}达"
            en = f"In stock at {slowest.name_en}, expected {en_day}"
        else:
            zh = f"{slowest.name_zh}调拨中,预计{zh_day}达"
            en = f"Transferring from {slowest.name_en}, expected {en_day}"
        return Promise(True, slowest.code, slowest.kind, when, zh, en)
    arriving = sorted((st for (code, s_sku), st in stock.items()
                       if s_sku == sku and code in by_code and by_code[code].kind == "in_transit"
                       and st.on_hand >= quantity and st.expected_at is not None),
                      key=lambda st: (st.expected_at or today, st.source))
    if arriving:
        first = arriving[0]
        when = first.expected_at or today
        return Promise(False, first.source, "in_transit", when,
                       f"海外在途,预计 {when.isoformat()} 到货,暂不可售",
                       f"In transit from overseas, expected {when.isoformat()}; "
                       f"not for sale yet")
    return Promise(False, None, None, None, "暂时缺货", "Out of stock")


def promised_by(chosen: Plan, sources: Mapping[str, Source], region: str | None,
                now: datetime) -> datetime | None:
    """The delivery promise an allocated order is given (docs/outcomes.md, on-time rate): the
    end of the Beijing day :func:`promise` names for the plan's slowest source."""
    used = [sources[p.source] for p in chosen.picks if p.source in sources]
    if not used:
        return None
    days = max(s.lead_time_to(region) for s in used)
    day = now.astimezone(SHANGHAI).date() + timedelta(days=days + 1)
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) - timedelta(seconds=1)


def is_low(available: int, threshold: int) -> bool:
    return threshold > 0 and available <= threshold
