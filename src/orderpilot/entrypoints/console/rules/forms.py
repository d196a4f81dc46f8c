"""The rule builder's form, as plain data: read from the posted fields, turned into the rule
JSON the rules service checks, and back (to edit a stored rule). No web framework here.

Field names, one level of nested condition group:

    name, description, key, expression, cond_mode (all | any)
    trigger_kind, trigger_event, trigger_sources (repeated: ticked channels, or a list),
    trigger_sources_other (sources that are not channels), trigger_channels (repeated),
    trigger_minutes, trigger_unless, trigger_cron, trigger_timezone
    c3-field, c3-op, c3-value, c3-value2, c3-was     a condition row
    c3-currency                                      the currency of an amount
    c2-kind=group, c2-mode, c2.0-field ...           a nested group and its rows
    a1-type, a1-id, a1-p-<param> ...                 an action (see rule_action_forms.py)
    a1b0-type, a1b0-id ...                           the first action of its failure branch
    a1o0s0-type ...                                  the first action of its outcome 0 branch
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from orderpilot.domain.rules.actions import ActionType
from orderpilot.domain.rules.fields import FIELD_BY_PATH, OPERATORS, OPERATORS_BY_TYPE
from orderpilot.domain.rules.problems import Problem
from orderpilot.entrypoints.console.rules.action_forms import (
    ActionForm,
    action_prefix,
    maybe_number,
    read_actions,
    step_definition,
)
from orderpilot.entrypoints.console.rules.values import from_datetime_input, split_list, to_number

_COND = re.compile(r"^c(\d+)(?:\.(\d+))?-([a-z0-9]+)$")
# The operator a new row of a field of this type starts with ("amount over ...").
FIRST_OPERATOR = {"money": "gt", "number": "gt"}
DEFAULT_CURRENCY = "CNY"
NO_CURRENCY = "none"


@dataclass
class ConditionRow:
    field: str = ""
    op: str = ""
    value: str = ""
    value2: str = ""
    values: list[str] = dataclasses.field(default_factory=list)  # ticked choices of an enum list
    type: str = ""  # declared type of a path outside the catalogue (steps.*, event.data.*)
    was: str = ""  # the field the row was drawn for: a new field resets the operator
    currency: str = ""  # an amount's currency (money fields); NO_CURRENCY: compared as is

    @property
    def kind(self) -> str:
        known = FIELD_BY_PATH.get(self.field)
        return known.type if known else (self.type or "text")

    @property
    def shape(self) -> str:
        return OPERATORS[self.op].value if self.op in OPERATORS else "one"


@dataclass
class ConditionGroup:
    mode: str = "all"
    rows: list[ConditionRow] = dataclasses.field(default_factory=lambda: [ConditionRow()])


@dataclass
class RuleForm:
    name: str = ""
    description: str = ""
    key: str = ""
    trigger_kind: str = "event"
    trigger_event: str = ""
    trigger_sources: str = ""
    trigger_channels: list[str] = dataclasses.field(default_factory=list)
    trigger_minutes: str = ""
    trigger_unless: str = ""
    trigger_cron: str = ""
    trigger_timezone: str = "Asia/Shanghai"
    mode: str = "all"
    items: list[ConditionRow | ConditionGroup] = dataclasses.field(default_factory=list)
    expression: str = ""
    actions: list[ActionForm] = dataclasses.field(default_factory=list)
    # The actions the form may hold: the hub's action table's types.
    types: Mapping[str, ActionType] = dataclasses.field(default_factory=dict)


@dataclass
class Built:
    """The definition made from a form, where each definition path came from, and what the
    form itself could not make sense of (the service finds the rest)."""

    definition: dict[str, Any]
    places: dict[str, str]  # "conditions.all[1]" -> "c2", "actions[0]" -> "a0"
    problems: list[Problem]


# -- reading the posted fields --------------------------------------------------------------

def read_form(pairs: Iterable[tuple[str, str]], types: Mapping[str, ActionType]) -> RuleForm:
    """The posted fields as a form; TYPES: the actions the hub offers, by id."""
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)

    def one(name: str, default: str = "") -> str:
        return values.get(name, [default])[0].strip()

    form = RuleForm(name=one("name"), description=one("description"), key=one("key"),
                    trigger_kind=one("trigger_kind", "event"), trigger_event=one("trigger_event"),
                    trigger_sources=", ".join(
                        v.strip() for v in values.get("trigger_sources", []) +
                        values.get("trigger_sources_other", []) if v.strip()),
                    trigger_channels=values.get("trigger_channels", []),
                    trigger_minutes=one("trigger_minutes"), trigger_unless=one("trigger_unless"),
                    trigger_cron=one("trigger_cron"),
                    trigger_timezone=one("trigger_timezone", "Asia/Shanghai"),
                    mode=one("cond_mode", "all"), expression=one("expression"), types=types)
    form.items = _read_conditions(values)
    form.actions = read_actions(values, types)
    return form


def _read_conditions(values: dict[str, list[str]]) -> list[ConditionRow | ConditionGroup]:
    top: dict[int, dict[str, list[str]]] = {}
    nested: dict[int, dict[int, dict[str, list[str]]]] = {}
    for name, got in values.items():
        match = _COND.match(name)
        if not match:
            continue
        i, j, part = int(match.group(1)), match.group(2), match.group(3)
        if j is None:
            top.setdefault(i, {})[part] = got
        else:
            nested.setdefault(i, {}).setdefault(int(j), {})[part] = got
    items: list[ConditionRow | ConditionGroup] = []
    for i in sorted(set(top) | set(nested)):
        parts = top.get(i, {})
        if parts.get("kind", [""])[0] == "group" or i in nested:
            rows = [_row(nested[i][j]) for j in sorted(nested.get(i, {}))]
            items.append(ConditionGroup(parts.get("mode", ["all"])[0], rows))
        else:
            items.append(_row(parts))
    return items


def _row(parts: dict[str, list[str]]) -> ConditionRow:
    def one(part: str) -> str:
        return parts.get(part, [""])[0].strip()

    row = ConditionRow(one("field"), one("op"), one("value"), one("value2"),
                       [v for v in parts.get("value", []) if v], one("type"), one("was"),
                       one("currency"))
    kind_ops = OPERATORS_BY_TYPE.get(row.kind, ())
    if row.kind == "money" and not row.currency:
        row.currency = DEFAULT_CURRENCY
    if row.field and (row.field != row.was or row.op not in kind_ops):
        if row.op not in kind_ops:
            first = FIRST_OPERATOR.get(row.kind)
            row.op = first if first in kind_ops else (kind_ops[0] if kind_ops else "")
        if row.field != row.was and row.was:
            row.value, row.value2, row.values = "", "", []
    row.was = row.field
    return row


# -- form -> definition ---------------------------------------------------------------------

def to_definition(form: RuleForm) -> Built:
    problems: list[Problem] = []
    places: dict[str, str] = {}
    definition: dict[str, Any] = {"name": form.name, "description": form.description,
                                  "trigger": _trigger(form)}
    items: list[Any] = []
    for i, item in enumerate(form.items):
        if isinstance(item, ConditionGroup):
            children: list[dict[str, Any]] = []
            for j, row in enumerate(item.rows):
                if row.field:
                    where = f"conditions.{form.mode}[{len(items)}].{item.mode}[{len(children)}]"
                    places[where] = f"c{i}.{j}"
                    children.append(_leaf(row))
            if children:
                places[f"conditions.{form.mode}[{len(items)}]"] = f"c{i}"
                items.append({item.mode: children})
        elif item.field:
            places[f"conditions.{form.mode}[{len(items)}]"] = f"c{i}"
            items.append(_leaf(item))
    definition["conditions"] = {form.mode if form.mode in ("all", "any") else "all": items}
    if form.expression:
        definition["expression"] = form.expression
    definition["actions"] = [step_definition(action, f"actions[{i}]", action_prefix(i), places,
                                             problems, form.types)
                             for i, action in enumerate(form.actions)]
    return Built(definition, places, problems)


def _trigger(form: RuleForm) -> dict[str, Any]:
    kind = form.trigger_kind
    if kind == "schedule":
        return {"kind": "schedule", "cron": form.trigger_cron,
                "timezone": form.trigger_timezone or "Asia/Shanghai"}
    out: dict[str, Any] = {"kind": kind, "event": form.trigger_event or None}
    sources = split_list(form.trigger_sources)
    if sources:
        out["sources"] = sources
    if form.trigger_channels:
        out["channels"] = list(form.trigger_channels)
    if kind == "timeout":
        minutes = to_number(form.trigger_minutes)
        out["minutes"] = minutes if minutes is not None else form.trigger_minutes
        out["unless"] = form.trigger_unless or None
    return out


def _leaf(row: ConditionRow) -> dict[str, Any]:
    leaf: dict[str, Any] = {"field": row.field, "op": row.op}
    if row.field not in FIELD_BY_PATH:
        leaf["type"] = row.kind
    if row.kind == "money" and row.currency not in ("", NO_CURRENCY):
        leaf["currency"] = row.currency
    shape, numeric = row.shape, row.kind in ("number", "money")
    if shape == "none":
        return leaf
    if shape == "pair":
        leaf["value"] = [maybe_number(row.value), maybe_number(row.value2)]
    elif shape == "list":
        choices = FIELD_BY_PATH[row.field].choices if row.field in FIELD_BY_PATH else ()
        items = row.values if choices else split_list(row.value)
        leaf["value"] = [maybe_number(v) for v in items] if numeric else items
    elif shape == "minutes":
        leaf["value"] = maybe_number(row.value)
    elif shape == "datetime":
        leaf["value"] = from_datetime_input(row.value)
    else:
        leaf["value"] = maybe_number(row.value) if numeric else row.value
    return leaf
