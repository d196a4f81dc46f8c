"""Condition trees (all/any groups of field, operator, value) and their compilation to
null-safe expressions: a missing field makes a leaf false, never an error.

    {"all": [{"field": "order.total", "op": "gt", "value": 500, "currency": "CNY"},
             {"field": "order.address.flags", "op": "has", "value": "bonded_zone"}]}

A money leaf with a currency compares the amount converted into that currency: the context
gives ``money.<CUR>.<field>`` (services/rules/money.py); with no rate it is null, so the leaf
is false.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from orderpilot.domain.intake import CURRENCIES
from orderpilot.domain.rules.fields import (
    FIELD_BY_PATH,
    OPERATORS,
    OPERATORS_BY_TYPE,
    Field,
    field_for,
)
from orderpilot.domain.rules.problems import Problems

MAX_DEPTH = 6
MAX_LEAVES = 200
MAX_LIST = 200


@dataclass(frozen=True)
class Leaf:
    field: Field
    op: str
    value: Any
    where: str  # conditions.all[1]
    currency: str | None = None  # money only: compare the amount converted into this

    @property
    def path(self) -> str:
        """Where the engine reads the value: the field, or its amount in ``currency``."""
        if self.currency is None:
            return self.field.path
        return converted_path(self.field.path, self.currency)

    @cached_property  # the tree is immutable: its text is built once, not per event
    def expression(self) -> str:
        return _leaf_expression(self)

    @property
    def actual_expression(self) -> str:
        return self.path


def converted_path(path: str, currency: str) -> str:
    """order.total in CNY -> money.CNY.total"""
    return f"money.{currency}.{path.removeprefix('order.')}"


def literal(text: str) -> str:
    """A string literal for the expression language, which has no escapes: pick a delimiter
    the text does not contain (validation refused text that contains all three)."""
    for quote in ('"', "'"):
        if quote not in text:
            return f"{quote}{text}{quote}"
    return f"`{text}`"


def literal_ok(text: str) -> bool:
    return '"' not in text or "'" not in text or ("`" not in text and "${" not in text)


def _num(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def _leaf_expression(leaf: Leaf) -> str:
    p, op, v = leaf.path, leaf.op, leaf.value
    kind = leaf.field.type
    nn = f"{p} != null"
    if kind == "date":
        ts = f"{p}_ts"
        if op == "before":
            return f"({ts} != null and {ts} < {_epoch(v)})"
        if op == "after":
            return f"({ts} != null and {ts} > {_epoch(v)})"
        seconds = int(v) * 60
        if op == "within_last_minutes":
            return f"({ts} != null and now_ts - {ts} <= {seconds})"
        return f"({ts} != null and now_ts - {ts} > {seconds})"
    if op == "is_true":
        return f"{p} == true"
    if op == "is_false":
        return f"{p} == false"
    if op == "is_empty":
        if kind in ("tags", "flags"):
            return f"({p} == null or len({p}) == 0)"
        return f"({p} == null or {p} == \"\")" if kind == "text" else f"{p} == null"
    if op == "not_empty":
        if kind in ("tags", "flags"):
            return f"({nn} and len({p}) > 0)"
        return f"({nn} and {p} != \"\")" if kind == "text" else nn
    if kind in ("number", "money"):
        if op == "between":
            return f"({nn} and {p} >= {_num(v[0])} and {p} <= {_num(v[1])})"
        if op == "ne":
            return f"({p} == null or {p} != {_num(v)})"
        symbol = {"eq": "==", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        return f"({nn} and {p} {symbol} {_num(v)})"
    if op in ("in", "not_in", "has_any", "has_all"):
        items = ", ".join(literal(str(x)) for x in v)
        if op == "in":
            return f"({nn} and {p} in [{items}])"
        if op == "not_in":
            return f"({p} == null or not ({p} in [{items}]))"
        if op == "has_any":
            return f"({nn} and some({p}, # in [{items}]))"
        return f"({nn} and all([{items}], # in {p}))"
    lit = literal(str(v))
    if op == "eq":
        return f"{p} == {lit}"
    if op == "ne":
        return f"{p} != {lit}"
    if op == "has":
        return f"({nn} and {lit} in {p})"
    if op == "not_has":
        return f"({p} == null or not ({lit} in {p}))"
    function = {"contains": "contains", "not_contains": "contains", "starts_with": "startsWith",
                "ends_with": "endsWith", "regex": "matches"}[op]
    if op == "not_contains":
        return f"({p} == null or not contains({p}, {lit}))"
    return f"({nn} and {function}({p}, {lit}))"


def _epoch(value: Any) -> str:
    return str(int(datetime.fromisoformat(str(value)).timestamp()))


@dataclass(frozen=True)
class Group:
    kind: str  # all | any
    children: tuple[Group | Leaf, ...]
    negate: bool = False

    @cached_property
    def expression(self) -> str:
        if not self.children:
            body = "true"
        else:
            joiner = " and " if self.kind == "all" else " or "
            body = joiner.join(c.expression for c in self.children)
        return f"not ({body})" if self.negate else f"({body})"

    def leaves(self) -> Iterator[Leaf]:
        for child in self.children:
            if isinstance(child, Leaf):
                yield child
            else:
                yield from child.leaves()


EMPTY = Group("all", ())


def parse_conditions(raw: Any, where: str, problems: Problems) -> Group:
    """Check a condition tree and return it typed; problems are collected, not raised."""
    if raw is None or raw == {}:
        return EMPTY
    counter = [0]
    return _group(raw, where, problems, 0, counter)


def _group(raw: Any, where: str, problems: Problems, depth: int, counter: list[int]) -> Group:
    if not isinstance(raw, dict) or len({"all", "any"} & set(raw)) != 1:
        problems.add(where, 'a group is {"all": [...]} or {"any": [...]}',
                     '条件组的格式为 {"all": [...]} 或 {"any": [...]}')
        return EMPTY
    unknown = set(raw) - {"all", "any", "not"}
    if unknown:
        problems.add(where, f"unknown key(s) {', '.join(sorted(unknown))}",
                     f"未知的键：{'、'.join(sorted(unknown))}")
    if depth >= MAX_DEPTH:
        problems.add(where, f"groups may nest {MAX_DEPTH} deep at most",
                     f"条件组最多嵌套 {MAX_DEPTH} 层")
        return EMPTY
    kind = "all" if "all" in raw else "any"
    items = raw[kind]
    if not isinstance(items, list):
        problems.add(f"{where}.{kind}", "must be a list", "应为列表")
        return EMPTY
    children: list[Group | Leaf] = []
    for i, item in enumerate(items):
        here = f"{where}.{kind}[{i}]"
        if isinstance(item, dict) and ("all" in item or "any" in item):
            children.append(_group(item, here, problems, depth + 1, counter))
        else:
            counter[0] += 1
            if counter[0] > MAX_LEAVES:
                problems.add(here, f"a rule may have {MAX_LEAVES} conditions at most",
                             f"一条规则最多 {MAX_LEAVES} 个条件")
                break
            leaf = parse_leaf(item, here, problems)
            if leaf is not None:
                children.append(leaf)
    return Group(kind, tuple(children), bool(raw.get("not", False)))


def parse_leaf(raw: Any, where: str, problems: Problems) -> Leaf | None:
    if not isinstance(raw, dict) or "field" not in raw or "op" not in raw:
        problems.add(where, 'a condition is {"field": ..., "op": ..., "value": ...}',
                     '条件的格式为 {"field": ..., "op": ..., "value": ...}')
        return None
    unknown = set(raw) - {"field", "op", "value", "type", "currency"}
    if unknown:
        problems.add(where, f"unknown key(s) {', '.join(sorted(unknown))}",
                     f"未知的键：{'、'.join(sorted(unknown))}")
    path, op = raw["field"], raw["op"]
    field = field_for(str(path), raw.get("type"))
    if field is None:
        problems.add(f"{where}.field", f"unknown field {path!r}; pick one from the field list "
                                       f"(or event.data.*, steps.*, tables.* with a type)",
                     f"未知字段 {path!r}，请从字段列表中选择"
                     f"（或带类型的 event.data.*、steps.*、tables.*）")
        return None
    if op not in OPERATORS_BY_TYPE[field.type]:
        allowed = ", ".join(OPERATORS_BY_TYPE[field.type])
        problems.add(f"{where}.op", f"{op!r} does not apply to {field.path} ({field.type}); "
                                    f"use one of {allowed}",
                     f"{op!r} 不适用于 {field.path}（{field.type}）；请使用以下之一：{allowed}")
        return None
    value = _check_value(field, op, raw.get("value"), f"{where}.value", problems)
    currency = raw.get("currency") or None
    if currency is not None:
        if field.type != "money":
            problems.add(f"{where}.currency", f"only an amount has a currency; {field.path} "
                                              f"is {field.type}",
                         f"只有金额可以指定币种；{field.zh}不是金额")
            currency = None
        elif currency not in CURRENCIES:
            problems.add(f"{where}.currency", f"unknown currency {currency!r}; known: "
                                              f"{', '.join(CURRENCIES)}",
                         f"未知币种 {currency!r}；可用：{'、'.join(CURRENCIES)}")
            currency = None
    return Leaf(field, op, value, where, currency)


def _check_value(field: Field, op: str, value: Any, where: str, problems: Problems) -> Any:
    shape = OPERATORS[op].value
    if shape == "none":
        return None
    if shape == "pair":
        if not isinstance(value, list) or len(value) != 2:
            problems.add(where, "between needs two numbers [from, to]",
                         "between 需要两个数字 [起, 止]")
            return [0, 0]
        low, high = (_number(v, where, problems) for v in value)
        if low > high:
            problems.add(where, f"the lower bound {low} is above the upper bound {high}",
                         f"下限 {low} 大于上限 {high}")
        return [low, high]
    if shape == "minutes":
        if isinstance(value, bool) or not isinstance(value, int | str) \
                or not str(value).isdigit() or not 0 < int(value) <= 60 * 24 * 366:
            problems.add(where, "give a whole number of minutes between 1 and 527040",
                         "请填写 1 到 527040 之间的整数分钟数")
            return 1
        return int(value)
    if shape == "datetime":
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            problems.add(where, f"{value!r} is not a date-time like 2026-11-26T10:00:00+08:00",
                         f"{value!r} 不是日期时间，格式如 2026-11-26T10:00:00+08:00")
            return "1970-01-01T00:00:00+00:00"
        if parsed.tzinfo is None:
            problems.add(where, "the date-time needs a time-zone offset, e.g. +08:00",
                         "日期时间需要时区偏移，如 +08:00")
        return str(value)
    if shape == "list":
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            problems.add(where, f"give a list of 1 to {MAX_LIST} values",
                         f"请填写 1 到 {MAX_LIST} 个值的列表")
            return []
        return [_scalar(field, v, f"{where}[{i}]", problems) for i, v in enumerate(value)]
    return _scalar(field, value, where, problems, regex=op == "regex")


def _scalar(field: Field, value: Any, where: str, problems: Problems, *,
            regex: bool = False) -> Any:
    if field.type in ("number", "money"):
        return _number(value, where, problems)
    if value is None or isinstance(value, dict | list) or isinstance(value, bool):
        problems.add(where, f"{field.path} needs a text value", f"{field.path} 需要文本值")
        return ""
    text = str(value)
    if len(text) > 500 or any(ord(c) < 32 for c in text):
        problems.add(where, "the value is longer than 500 characters or has control characters",
                     "值超过 500 个字符或含有控制字符")
    if not literal_ok(text):
        problems.add(where, "the value may not contain \", ' and ` all at once",
                     "值不能同时包含 \"、' 和 ` 三种引号")
    if field.choices and text not in field.choices:
        problems.add(where, f"{text!r} is not a known value of {field.path}; "
                            f"known: {', '.join(field.choices)}",
                     f"{text!r} 不是 {field.path} 的已知取值；可用：{'、'.join(field.choices)}")
    if regex:
        try:
            re.compile(text)
        except re.error as error:
            problems.add(where, f"the pattern is not a valid regular expression: {error}",
                         f"不是有效的正则表达式：{error}")
    return text


def _number(value: Any, where: str, problems: Problems) -> float | int:
    if isinstance(value, bool):
        problems.add(where, "needs a number", "需要数字")
        return 0
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        problems.add(where, f"{value!r} is not a number", f"{value!r} 不是数字")
        return 0
    if not number.is_finite() or abs(number) > Decimal("1e15"):
        problems.add(where, f"{value!r} is not a usable number",
                     f"{value!r} 不是可用的数字")
        return 0
    return int(number) if number == number.to_integral_value() else float(number)


def dump_group(group: Group) -> dict[str, Any]:
    """Back to the JSON shape (normalised values)."""
    items: list[Any] = []
    for child in group.children:
        if isinstance(child, Group):
            items.append(dump_group(child))
        else:
            leaf: dict[str, Any] = {"field": child.field.path, "op": child.op}
            if child.value is not None:
                leaf["value"] = child.value
            if child.currency is not None:
                leaf["currency"] = child.currency
            if child.field.path not in FIELD_BY_PATH:
                leaf["type"] = child.field.type
            items.append(leaf)
    out: dict[str, Any] = {group.kind: items}
    if group.negate:
        out["not"] = True
    return out

