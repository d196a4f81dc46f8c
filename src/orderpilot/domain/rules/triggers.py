"""What starts a rule: an event (with optional source and channel filters), a schedule
(cron, Asia/Shanghai by default), or a timeout ("N minutes after A unless B")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from orderpilot.domain.intake import CHANNELS
from orderpilot.domain.lifecycle import EVENT_TYPES
from orderpilot.domain.rules.problems import Problems

# Events the hub itself records, beside the lifecycle reports.
HUB_EVENTS: dict[str, tuple[str, str]] = {
    "order.placed": ("新订单", "Order placed"),
    "hold.placed": ("订单冻结", "Hold placed"),
    "hold.released": ("解除冻结", "Hold released"),
    "order.tagged": ("订单打标", "Order tagged"),
    "order.field_set": ("订单字段更新", "Order field set"),
    "inventory.low": ("库存低于阈值", "Stock below threshold"),
    "inventory.reservation_expired": ("库存预占到期", "Reservation expired"),
    "promotion.claimed": ("赠品名额领取", "Promotion gift claimed"),
    "promotion.released": ("赠品名额释放", "Promotion gift released"),
    "promotion.started": ("活动开始", "Promotion started"),
    "promotion.ended": ("活动结束", "Promotion ended"),
    "expectation.breached": ("预期未达成", "Expectation breached"),
    # The exception workbench (domain/exceptions.py): payload exception_id, kind, reason,
    # order_id (None for an exception with no order, e.g. a dead letter)
    "exception.opened": ("异常已开启", "Exception opened"),
}


def event_names() -> dict[str, tuple[str, str]]:
    """Every event type a rule can wait for, with its zh/en names."""
    names = {e.type: (e.zh, e.en) for e in EVENT_TYPES.values()}
    names.update(HUB_EVENTS)
    return names


TIMEZONES = {"Asia/Shanghai": 8, "Asia/Singapore": 8, "Asia/Kuala_Lumpur": 8,
             "Asia/Bangkok": 7, "Asia/Jakarta": 7, "Asia/Manila": 8, "UTC": 0}
_CRON_FIELD = re.compile(r"^[0-9*/,\-]+$")
MAX_TIMEOUT_MINUTES = 60 * 24 * 30


@dataclass(frozen=True)
class Trigger:
    kind: str  # event | schedule | timeout
    event: str | None = None
    sources: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    cron: str | None = None
    timezone: str = "Asia/Shanghai"
    minutes: int | None = None
    unless: str | None = None

    def accepts(self, event_type: str, source: str, channel: str | None) -> bool:
        """Whether an event starts this rule (event triggers) or its clock (timeouts)."""
        if event_type != self.event:
            return False
        if self.sources and source not in self.sources:
            return False
        return not self.channels or channel in self.channels

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind in ("event", "timeout"):
            out["event"] = self.event
            if self.sources:
                out["sources"] = list(self.sources)
            if self.channels:
                out["channels"] = list(self.channels)
        if self.kind == "timeout":
            out["minutes"] = self.minutes
            out["unless"] = self.unless
        if self.kind == "schedule":
            out["cron"] = self.cron
            out["timezone"] = self.timezone
        return out


def parse_trigger(raw: Any, where: str, problems: Problems) -> Trigger:
    if not isinstance(raw, dict):
        problems.add(where, 'a trigger is {"kind": "event", "event": "payment.succeeded"}',
                     '触发条件的格式为 {"kind": "event", "event": "payment.succeeded"}')
        return Trigger("event", "order.placed")
    kind = raw.get("kind", "event")
    allowed = {"event": {"kind", "event", "sources", "channels"},
               "timeout": {"kind", "event", "sources", "channels", "minutes", "unless"},
               "schedule": {"kind", "cron", "timezone"}}
    if kind not in allowed:
        problems.add(f"{where}.kind", "kind is event, schedule or timeout",
                     "kind 应为 event、schedule 或 timeout")
        return Trigger("event", "order.placed")
    unknown = set(raw) - allowed[kind]
    if unknown:
        problems.add(where, f"unknown key(s) {', '.join(sorted(unknown))} for a {kind} trigger",
                     f"{kind} 触发条件不支持这些键：{'、'.join(sorted(unknown))}")
    if kind == "schedule":
        cron = str(raw.get("cron", "")).strip()
        parts = cron.split()
        if len(parts) != 5 or not all(_CRON_FIELD.match(p) for p in parts):
            problems.add(f"{where}.cron", f"{cron!r} is not a 5-field cron expression "
                                          "(minute hour day month weekday), e.g. 0 9 * * *",
                         f"{cron!r} 不是 5 段的 cron 表达式（分 时 日 月 星期），如 0 9 * * *")
        timezone = str(raw.get("timezone", "Asia/Shanghai"))
        if timezone not in TIMEZONES:
            problems.add(f"{where}.timezone", f"use one of {', '.join(TIMEZONES)}",
                         f"请使用以下之一：{'、'.join(TIMEZONES)}")
        return Trigger("schedule", cron=cron, timezone=timezone)
    names = event_names()
    event = raw.get("event")
    if not event:
        problems.add(f"{where}.event", "choose the event that starts the rule",
                     "请选择触发规则的事件")
    elif event not in names:
        problems.add(f"{where}.event", f"unknown event {event!r}; pick one from the list",
                     f"未知事件 {event!r}，请从列表中选择")
    sources = _strings(raw.get("sources", []), f"{where}.sources", problems)
    channels = _strings(raw.get("channels", []), f"{where}.channels", problems)
    for i, channel in enumerate(channels):
        if channel not in CHANNELS:
            problems.add(f"{where}.channels[{i}]", f"unknown channel {channel!r}",
                         f"未知渠道 {channel!r}")
    if kind == "event":
        return Trigger("event", str(event), sources, channels)
    minutes = raw.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) \
            or not 0 < minutes <= MAX_TIMEOUT_MINUTES:
        problems.add(f"{where}.minutes", f"a whole number of minutes, 1 to {MAX_TIMEOUT_MINUTES}",
                     f"应为 1 到 {MAX_TIMEOUT_MINUTES} 的整数分钟数")
        minutes = 1
    unless = raw.get("unless")
    if unless not in names:
        problems.add(f"{where}.unless", f"unknown event {unless!r}",
                     f"未知事件 {unless}" if unless else "请选择“除非发生”的事件")
    return Trigger("timeout", str(event), sources, channels, minutes=minutes, unless=str(unless))


def _strings(raw: Any, where: str, problems: Problems) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and 0 < len(x) <= 64
                                            for x in raw):
        problems.add(where, "a list of short names", "应为简短名称的列表")
        return ()
    return tuple(raw)
