"""The fields a condition can look at, their types, and the operators each type offers.

A rule is evaluated on one context dictionary (built by services/rules/context.py):
``order`` (the order as it is now), ``event`` (what happened), ``now`` and, for an action's
``if``, ``steps`` (earlier steps' outputs). Dates are also given as epoch seconds under
``<path>_ts`` so that comparisons are plain numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from orderpilot.domain.intake import CHANNELS, CURRENCIES
from orderpilot.domain.lifecycle import EVENT_TYPES, NODES


@dataclass(frozen=True)
class Field:
    path: str
    type: str  # number | money | text | enum | tags | flags | bool | date
    zh: str
    en: str
    choices: tuple[str, ...] = ()
    group: str = "order"


@dataclass(frozen=True)
class Operator:
    id: str
    zh: str
    en: str
    value: str  # none | one | list | pair | minutes | datetime


OPERATORS: dict[str, Operator] = {o.id: o for o in (
    Operator("eq", "等于", "equals", "one"),
    Operator("ne", "不等于", "does not equal", "one"),
    Operator("gt", "大于", "greater than", "one"),
    Operator("gte", "大于等于", "at least", "one"),
    Operator("lt", "小于", "less than", "one"),
    Operator("lte", "小于等于", "at most", "one"),
    Operator("between", "介于", "between", "pair"),
    Operator("contains", "包含", "contains", "one"),
    Operator("not_contains", "不包含", "does not contain", "one"),
    Operator("starts_with", "开头是", "starts with", "one"),
    Operator("ends_with", "结尾是", "ends with", "one"),
    Operator("in", "属于", "is one of", "list"),
    Operator("not_in", "不属于", "is none of", "list"),
    Operator("regex", "匹配正则", "matches pattern", "one"),
    Operator("has", "含标签", "has", "one"),
    Operator("not_has", "不含标签", "does not have", "one"),
    Operator("has_any", "含任一", "has any of", "list"),
    Operator("has_all", "全部包含", "has all of", "list"),
    Operator("is_empty", "为空", "is empty", "none"),
    Operator("not_empty", "不为空", "is not empty", "none"),
    Operator("is_true", "是", "is yes", "none"),
    Operator("is_false", "否", "is no", "none"),
    Operator("before", "早于", "before", "datetime"),
    Operator("after", "晚于", "after", "datetime"),
    Operator("within_last_minutes", "在最近N分钟内", "within the last N minutes", "minutes"),
    Operator("older_than_minutes", "早于N分钟前", "more than N minutes ago", "minutes"),
)}

OPERATORS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "number": ("eq", "ne", "gt", "gte", "lt", "lte", "between", "is_empty", "not_empty"),
    "money": ("eq", "ne", "gt", "gte", "lt", "lte", "between"),
    "text": ("eq", "ne", "contains", "not_contains", "starts_with", "ends_with", "in", "not_in",
             "regex", "is_empty", "not_empty"),
    "enum": ("eq", "ne", "in", "not_in"),
    "tags": ("has", "not_has", "has_any", "has_all", "is_empty", "not_empty"),
    "flags": ("has", "not_has"),
    "bool": ("is_true", "is_false"),
    "date": ("before", "after", "within_last_minutes", "older_than_minutes"),
}

ADDRESS_FLAGS = {"bonded_zone": ("保税区", "Bonded zone")}
TYPES = tuple(OPERATORS_BY_TYPE)
_STATUSES = tuple(n.id for n in NODES)

FIELDS: tuple[Field, ...] = (
    Field("order.total", "money", "订单金额", "Order total"),
    Field("order.shipping_fee", "money", "运费", "Shipping fee"),
    Field("order.currency", "enum", "币种", "Currency", CURRENCIES),
    Field("order.channel", "enum", "渠道", "Channel", CHANNELS),
    Field("order.shop_id", "text", "店铺", "Shop"),
    Field("order.external_id", "text", "平台单号", "Channel order number"),
    Field("order.status", "enum", "订单状态", "Order status", _STATUSES),
    Field("order.tags", "tags", "订单标签", "Order tags"),
    Field("order.held", "bool", "已冻结", "On hold"),
    Field("order.hold_reasons", "tags", "冻结原因", "Hold reasons"),
    Field("order.quantity", "number", "商品件数", "Items"),
    Field("order.line_count", "number", "商品行数", "Lines"),
    Field("order.skus", "tags", "SKU", "SKUs"),
    Field("order.placed_at", "date", "下单时间", "Placed at"),
    Field("order.customer.name", "text", "买家姓名", "Buyer name", group="customer"),
    Field("order.customer.phone", "text", "买家手机", "Buyer phone", group="customer"),
    Field("order.customer.tags", "tags", "客户标签", "Customer tags", group="customer"),
    Field("order.customer.returns_90d", "number", "客户90天内退货次数",
          "Customer's returns in 90 days", group="customer"),
    Field("order.address.flags", "flags", "地址标记", "Address flags", tuple(ADDRESS_FLAGS),
          group="address"),
    Field("order.address.country", "text", "国家", "Country", group="address"),
    Field("order.address.province", "text", "省份", "Province", group="address"),
    Field("order.address.city", "text", "城市", "City", group="address"),
    Field("order.address.district", "text", "区县", "District", group="address"),
    Field("order.address.line1", "text", "详细地址", "Street address", group="address"),
    Field("order.address.postal_code", "text", "邮编", "Postal code", group="address"),
    Field("event.type", "enum", "事件类型", "Event type", tuple(EVENT_TYPES), group="event"),
    Field("event.source", "text", "来源系统", "Source", group="event"),
    Field("event.occurred_at", "date", "发生时间", "Occurred at", group="event"),
    Field("event.data.status", "text", "上报状态", "Reported status", group="event"),
    Field("event.data.return_id", "text", "退货单号", "Return id", group="event"),
    Field("now.hour", "number", "当前小时(北京时间)", "Hour now (Beijing)", group="time"),
    Field("now.weekday", "number", "星期几(1-7)", "Weekday (1-7)", group="time"),
)
FIELD_BY_PATH: dict[str, Field] = {f.path: f for f in FIELDS}

# Paths outside the catalogue that a leaf may name, with the type it declares.
OPEN_PATHS = re.compile(r"^(event\.data|event\.payload|steps|tables|order\.attributes)"
                        r"(\.[A-Za-z_][A-Za-z0-9_]{0,63}){1,4}$")


def field_for(path: str, declared_type: str | None) -> Field | None:
    """The catalogue field, or an open path (event data, step outputs, table outputs)."""
    known = FIELD_BY_PATH.get(path)
    if known is not None:
        return known
    if OPEN_PATHS.match(path):
        kind = declared_type or "text"
        return Field(path, kind, path, path, group=path.split(".")[0]) if kind in TYPES else None
    return None
