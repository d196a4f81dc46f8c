"""Expectations: "after event A, expect event B (from system S, when a condition holds) within T".

Ops declare them without code (docs/expectations.md). An expectation finds silent
breakpoints (the ERP never booked a paid order), missing checks (an inbound scan nobody checked
against its purchase order) and missing reactions (a return whose receivable stays open).

``source`` restricts B: a system (``erp``, ``wms``...) or one reporting source (``kingdee``).
``condition`` restricts the orders watched: a list of clauses that must all hold, each
``{"field", "op", "value"}``:

========== ========= ==================================================
field      type      operators
========== ========= ==================================================
channel    text      eq, ne, in, not_in
shop_id    text      eq, ne, in, not_in
currency   text      eq, ne, in, not_in
total      decimal   eq, ne, gt, gte, lt, lte   (value "500.00")
sku        set       has, has_any, lacks        (any line's SKU)
tags       set       has, has_any, lacks        (the order's tags)
========== ========= ==================================================

``in``, ``not_in`` and ``has_any`` take a list. The same clauses compile to a Python predicate
(:meth:`Condition.holds`, the live path) and to SQL over the analytics snapshot
(``adapters/analytics/expectations.py``), so live and retroactive answers agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.lifecycle import EVENT_TYPES
from orderpilot.domain.rules.triggers import HUB_EVENTS

CODE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
MAX_MINUTES = 60 * 24 * 60  # 60 days
SEVERITIES = {"info": ("提示", "Info"), "warning": ("警告", "Warning"),
              "hold": ("挂起订单", "Hold the order")}
BREACH_STATUSES = {"open": ("未处理", "Open"), "resolved_late": ("迟到已到达", "Resolved late"),
                   "closed": ("已关闭", "Closed")}
SYSTEMS = ("storefront", "erp", "wms", "carrier", "crm", "hub")
BREACHED = "expectation.breached"
HOLD_PREFIX = "expectation:"
RECEIVABLE_EVENTS = frozenset({"erp.receivable_opened", "erp.receivable_closed"})

TEXT_FIELDS = ("channel", "shop_id", "currency")
SET_FIELDS = ("sku", "tags")
OPERATORS: dict[str, tuple[str, ...]] = {
    **{f: ("eq", "ne", "in", "not_in") for f in TEXT_FIELDS},
    "total": ("eq", "ne", "gt", "gte", "lt", "lte"),
    **{f: ("has", "has_any", "lacks") for f in SET_FIELDS},
}
LIST_OPERATORS = frozenset({"in", "not_in", "has_any"})
FIELD_NAMES = {"channel": ("渠道", "Channel"), "shop_id": ("店铺", "Shop"),
               "currency": ("币种", "Currency"), "total": ("订单金额", "Order total"),
               "sku": ("SKU", "SKU"), "tags": ("标签", "Tags")}
OPERATOR_NAMES = {"eq": ("等于", "equals"), "ne": ("不等于", "is not"),
                  "in": ("属于", "is one of"), "not_in": ("不属于", "is none of"),
                  "gt": ("大于", "greater than"), "gte": ("大于等于", "at least"),
                  "lt": ("小于", "less than"), "lte": ("小于等于", "at most"),
                  "has": ("包含", "includes"), "has_any": ("包含任一", "includes any of"),
                  "lacks": ("不包含", "does not include")}


def event_names() -> dict[str, tuple[str, str]]:
    """Every event an expectation may name, with its zh/en names."""
    names = {e.type: (e.zh, e.en) for e in EVENT_TYPES.values()}
    names.update({k: v for k, v in HUB_EVENTS.items() if k != BREACHED})
    return names


@dataclass(frozen=True)
class OrderFacts:
    """What a condition may look at of one order."""

    channel: str
    shop_id: str
    currency: str
    total: Decimal
    skus: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    value: str | Decimal | tuple[str, ...]

    def holds(self, facts: OrderFacts) -> bool:
        if self.field == "total":
            assert isinstance(self.value, Decimal)
            return _compare(facts.total, self.op, self.value)
        if self.field in SET_FIELDS:
            have = set(facts.skus if self.field == "sku" else facts.tags)
            wanted = self.value if isinstance(self.value, tuple) else (str(self.value),)
            found = bool(have.intersection(wanted))
            return not found if self.op == "lacks" else found
        actual = str(getattr(facts, self.field))
        if self.op == "eq":
            return actual == self.value
        if self.op == "ne":
            return actual != self.value
        assert isinstance(self.value, tuple)
        return (actual in self.value) == (self.op == "in")

    def as_dict(self) -> dict[str, Any]:
        value: Any = list(self.value) if isinstance(self.value, tuple) else str(self.value)
        return {"field": self.field, "op": self.op, "value": value}


def _compare(actual: Decimal, op: str, value: Decimal) -> bool:
    return {"eq": actual == value, "ne": actual != value, "gt": actual > value,
            "gte": actual >= value, "lt": actual < value, "lte": actual <= value}[op]


@dataclass(frozen=True)
class Condition:
    clauses: tuple[Clause, ...] = ()

    def holds(self, facts: OrderFacts) -> bool:
        return all(c.holds(facts) for c in self.clauses)

    def as_list(self) -> list[dict[str, Any]]:
        return [c.as_dict() for c in self.clauses]


@dataclass(frozen=True)
class Expectation:
    code: str
    name_zh: str
    name_en: str
    after: str
    expect: str
    within_minutes: int
    source: str | None = None
    condition: Condition = Condition()
    severity: str = "warning"
    enabled: bool = True

    @property
    def hold_reason(self) -> str:
        return HOLD_PREFIX + self.code

    @property
    def about_receivables(self) -> bool:
        """Its amount at risk is the order's open receivable, not the order total."""
        return bool({self.after, self.expect} & RECEIVABLE_EVENTS)

    def source_matches(self, source: str, system: str) -> bool:
        return self.source is None or self.source in (source.lower(), system)

    def timer_key(self, order_id: str, after_event_id: str) -> str:
        return f"expectation:{self.code}:{order_id}:{after_event_id}"

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "after": self.after, "expect": self.expect,
                "within_minutes": self.within_minutes, "source": self.source,
                "condition": self.condition.as_list(), "severity": self.severity,
                "enabled": self.enabled}


def _bad(field: str, en: str, zh: str) -> InvalidInput:
    return InvalidInput(en, field=field, zh=zh)


def _text(body: Mapping[str, Any], key: str, limit: int) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise _bad(key, f"{key} must be text of 1-{limit} characters",
                   f"{key} 应为 1-{limit} 个字符的文本")
    return value.strip()


def _event(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    names = event_names()
    if not isinstance(value, str) or value not in names:
        known = ", ".join(sorted(names))
        raise _bad(key, f"{key}: unknown event type {value!r}; known types: {known}",
                   f"{key}：未知事件类型 {value!r}；可用类型：{known}")
    return value


def parse(code: str, body: object) -> Expectation:
    """An expectation from its JSON body; every refusal names its field (zh/en)."""
    if not CODE.match(code):
        raise _bad("code", "code must be 2-48 lowercase letters, digits and _, starting with a "
                   "letter (e.g. paid_booked_15m)",
                   "code 应为 2-48 个小写字母、数字或 _，以字母开头（如 paid_booked_15m）")
    if not isinstance(body, Mapping):
        raise _bad("body", "send a JSON object", "请发送 JSON 对象")
    name_zh, name_en = _text(body, "name_zh", 100), _text(body, "name_en", 100)
    after, expect = _event(body, "after"), _event(body, "expect")
    if after == expect:
        raise _bad("expect", "expect must be another event than after",
                   "expect 应与 after 是不同的事件")
    minutes = body.get("within_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) \
            or not 0 < minutes <= MAX_MINUTES:
        raise _bad("within_minutes", f"within_minutes must be a whole number from 1 to "
                   f"{MAX_MINUTES} (60 days), not {minutes!r}",
                   f"within_minutes 应为 1 到 {MAX_MINUTES}（60 天）之间的整数，而不是 {minutes!r}")
    source = body.get("source")
    if source in (None, ""):
        source = None
    elif not isinstance(source, str) or not re.match(r"^[a-z0-9][a-z0-9_.\-]{0,63}$", source):
        raise _bad("source", "source must be a system (storefront, erp, wms, carrier, crm, hub) "
                   "or a source name such as kingdee",
                   "source 应为系统（storefront、erp、wms、carrier、crm、hub）或来源名，如 kingdee")
    severity = body.get("severity", "warning")
    if severity not in SEVERITIES:
        raise _bad("severity", "severity must be info, warning or hold",
                   "severity 应为 info、warning 或 hold")
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _bad("enabled", "enabled must be true or false", "enabled 应为 true 或 false")
    return Expectation(code, name_zh, name_en, after, expect, minutes, source,
                       parse_condition(body.get("condition")), str(severity), enabled)


def parse_condition(raw: object) -> Condition:
    if raw in (None, [], {}):
        return Condition()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise _bad("condition", "condition must be a list of {field, op, value} clauses",
                   "condition 应为 {field, op, value} 条件的列表")
    return Condition(tuple(_clause(i, c) for i, c in enumerate(raw)))


def _clause(index: int, raw: object) -> Clause:
    where = f"condition[{index}]"
    if not isinstance(raw, Mapping):
        raise _bad(where, f"{where} must be an object {{field, op, value}}",
                   f"{where} 应为对象 {{field, op, value}}")
    field, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    if field not in OPERATORS:
        raise _bad(f"{where}.field", f"{where}.field must be one of {', '.join(OPERATORS)}",
                   f"{where}.field 应为 {'、'.join(OPERATORS)} 之一")
    assert isinstance(field, str)
    if op not in OPERATORS[field]:
        ops = ", ".join(OPERATORS[field])
        raise _bad(f"{where}.op", f"{where}.op for {field} must be one of {ops}",
                   f"{where}.op 对 {field} 应为 {ops} 之一")
    assert isinstance(op, str)
    if op in LIST_OPERATORS:
        if not isinstance(value, list) or not value or len(value) > 200 or not all(
                isinstance(v, str) and v and len(v) <= 64 for v in value):
            raise _bad(f"{where}.value", f"{where}.value must be a list of 1-200 texts",
                       f"{where}.value 应为 1-200 个文本组成的列表")
        return Clause(field, op, tuple(value))
    if field == "total":
        try:
            amount = Decimal(str(value)) if isinstance(value, (str, int)) \
                and not isinstance(value, bool) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 \
                or amount != amount.quantize(Decimal("0.01")):
            raise _bad(f"{where}.value", f"{where}.value must be an amount such as \"500.00\"",
                       f"{where}.value 应为金额，如 \"500.00\"")
        return Clause(field, op, amount.quantize(Decimal("0.01")))
    if not isinstance(value, str) or not value or len(value) > 64:
        raise _bad(f"{where}.value", f"{where}.value must be text of 1-64 characters",
                   f"{where}.value 应为 1-64 个字符的文本")
    return Clause(field, op, value)


def source_systems() -> tuple[str, ...]:
    """What the editor offers as B's origin: the systems, and Kingdee (the ERP most shops
    here run); the API takes any source name."""
    return (*SYSTEMS, "kingdee")


# The seed's four, as templates (S12b): ops start from one and change what differs.
TEMPLATES: tuple[dict[str, Any], ...] = (
    {"code": "paid_erp_booked", "name_zh": "支付后15分钟内ERP入账",
     "name_en": "ERP books a paid order within 15 minutes", "after": "payment.succeeded",
     "expect": "erp.booked", "within_minutes": 15, "source": "erp", "condition": [],
     "severity": "warning"},
    {"code": "return_receivable_closed", "name_zh": "退货申请后24小时内核销原应收",
     "name_en": "Return requested: original receivable closed within 24 hours",
     "after": "return.requested", "expect": "erp.receivable_closed", "within_minutes": 1440,
     "source": "erp", "condition": [], "severity": "warning"},
    {"code": "return_crm_level", "name_zh": "退货申请后重新评定会员等级",
     "name_en": "Return requested: CRM level re-evaluated", "after": "return.requested",
     "expect": "crm.level_changed", "within_minutes": 1440, "source": "crm", "condition": [],
     "severity": "info"},
    {"code": "inbound_po_checked", "name_zh": "入库扫描后核对采购单关联",
     "name_en": "Inbound scan: purchase-order link checked", "after": "wms.inbound_scanned",
     "expect": "po_link.checked", "within_minutes": 60, "source": None, "condition": [],
     "severity": "warning"},
)
