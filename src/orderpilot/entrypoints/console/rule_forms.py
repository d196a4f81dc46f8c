"""The rule builder's form, as plain data: read from the posted fields, turned into the rule
JSON the rules service checks, and back (to edit a stored rule). No web framework here.

Field names, one level of nested condition group:

    name, description, key, expression, cond_mode (all | any)
    trigger_kind, trigger_event, trigger_sources, trigger_channels (repeated), trigger_minutes,
    trigger_unless, trigger_cron, trigger_timezone
    c3-field, c3-op, c3-value, c3-value2, c3-was     a condition row
    c2-kind=group, c2-mode, c2.0-field ...           a nested group and its rows
    a1-type, a1-id, a1-p-<param>                     an action and its scalar parameters
    a1-m-<param>-<n>-k, a1-m-<param>-<n>-v           rows of a mapping parameter
    a1-if-step, a1-if-output, a1-if-test, a1-if-value, a1-retries, a1-backoff, a1-then
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orderpilot.domain.rules.actions import ACTION_TYPES
from orderpilot.domain.rules.fields import FIELD_BY_PATH, OPERATORS, OPERATORS_BY_TYPE
from orderpilot.domain.rules.problems import Problem
from orderpilot.entrypoints.console.rule_values import (
    from_datetime_input,
    split_list,
    to_number,
)

_COND = re.compile(r"^c(\d+)(?:\.(\d+))?-([a-z0-9]+)$")
_ACTION = re.compile(r"^a(\d+)-(.+)$")
_MAP = re.compile(r"^m-([a-z_]+)-(\d+)-([kv])$")
STEP_TESTS = {"bool": ("is_false", "is_true"), "other": ("eq", "ne", "not_empty", "is_empty")}
DEFAULT_IDS = {"http.call": "call", "order.hold": "hold", "order.release": "release",
               "order.tag": "tag", "order.set_field": "set_field", "sms.send": "sms",
               "ticket.create": "ticket", "crm.tag": "crm", "email.send": "email",
               "notify.dingtalk": "dingtalk", "notify.wecom": "wecom",
               "table.lookup": "lookup"}


@dataclass
class ConditionRow:
    field: str = ""
    op: str = ""
    value: str = ""
    value2: str = ""
    values: list[str] = dataclasses.field(default_factory=list)  # ticked choices of an enum list
    type: str = ""  # declared type of a path outside the catalogue (steps.*, event.data.*)
    was: str = ""  # the field the row was drawn for: a new field resets the operator

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
class ActionForm:
    type: str
    id: str
    params: dict[str, str] = dataclasses.field(default_factory=dict)
    maps: dict[str, list[tuple[str, str]]] = dataclasses.field(default_factory=dict)
    if_step: str = ""
    if_output: str = ""
    if_test: str = ""
    if_value: str = ""
    if_json: str = ""  # an `if` the picker cannot show, kept as JSON
    retries: str = "3"
    backoff: str = "5"
    then: str = "fail"
    extra: str = ""  # JSON of what the form does not show (failure branch, idempotency key)


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


@dataclass
class Built:
    """The definition made from a form, where each definition path came from, and what the
    form itself could not make sense of (the service finds the rest)."""

    definition: dict[str, Any]
    places: dict[str, str]  # "conditions.all[1]" -> "c2", "actions[0]" -> "a0"
    problems: list[Problem]


# -- reading the posted fields --------------------------------------------------------------

def read_form(pairs: Iterable[tuple[str, str]]) -> RuleForm:
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)

    def one(name: str, default: str = "") -> str:
        return values.get(name, [default])[0].strip()

    form = RuleForm(name=one("name"), description=one("description"), key=one("key"),
                    trigger_kind=one("trigger_kind", "event"), trigger_event=one("trigger_event"),
                    trigger_sources=one("trigger_sources"),
                    trigger_channels=values.get("trigger_channels", []),
                    trigger_minutes=one("trigger_minutes"), trigger_unless=one("trigger_unless"),
                    trigger_cron=one("trigger_cron"),
                    trigger_timezone=one("trigger_timezone", "Asia/Shanghai"),
                    mode=one("cond_mode", "all"), expression=one("expression"))
    form.items = _read_conditions(values)
    form.actions = _read_actions(values)
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
                       [v for v in parts.get("value", []) if v], one("type"), one("was"))
    kind_ops = OPERATORS_BY_TYPE.get(row.kind, ())
    if row.field and (row.field != row.was or row.op not in kind_ops):
        if row.op not in kind_ops:
            row.op = kind_ops[0] if kind_ops else ""
        if row.field != row.was and row.was:
            row.value, row.value2, row.values = "", "", []
    row.was = row.field
    return row


def _read_actions(values: dict[str, list[str]]) -> list[ActionForm]:
    parts: dict[int, dict[str, str]] = {}
    for name, got in values.items():
        match = _ACTION.match(name)
        if match:
            parts.setdefault(int(match.group(1)), {})[match.group(2)] = got[0].strip()
    actions = []
    for i in sorted(parts):
        p = parts[i]
        kind = ACTION_TYPES.get(p.get("type", ""))
        if kind is None:
            continue
        action = ActionForm(kind.id, p.get("id", ""), if_step=p.get("if-step", ""),
                            if_output=p.get("if-output", ""), if_test=p.get("if-test", ""),
                            if_value=p.get("if-value", ""), if_json=p.get("if-json", ""),
                            retries=p.get("retries", "3"), backoff=p.get("backoff", "5"),
                            then=p.get("then", "fail"), extra=p.get("extra", ""))
        rows: dict[str, dict[int, dict[str, str]]] = {}
        for name, value in p.items():
            if name.startswith("p-"):
                action.params[name[2:]] = value
            elif (match := _MAP.match(name)) is not None:
                rows.setdefault(match.group(1), {}).setdefault(
                    int(match.group(2)), {})[match.group(3)] = value
        for param, numbered in rows.items():
            action.maps[param] = [(r.get("k", ""), r.get("v", "")) for _, r in
                                  sorted(numbered.items()) if r.get("k") or r.get("v")]
        actions.append(action)
    return actions


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
    steps: list[dict[str, Any]] = []
    for i, action in enumerate(form.actions):
        places[f"actions[{len(steps)}]"] = f"a{i}"
        steps.append(_step(action, f"actions[{len(steps)}]", problems))
    definition["actions"] = steps
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
    shape, numeric = row.shape, row.kind in ("number", "money")
    if shape == "none":
        return leaf
    if shape == "pair":
        leaf["value"] = [_maybe_number(row.value), _maybe_number(row.value2)]
    elif shape == "list":
        choices = FIELD_BY_PATH[row.field].choices if row.field in FIELD_BY_PATH else ()
        items = row.values if choices else split_list(row.value)
        leaf["value"] = [_maybe_number(v) for v in items] if numeric else items
    elif shape == "minutes":
        leaf["value"] = _maybe_number(row.value)
    elif shape == "datetime":
        leaf["value"] = from_datetime_input(row.value)
    else:
        leaf["value"] = _maybe_number(row.value) if numeric else row.value
    return leaf


def _maybe_number(text: str) -> Any:
    number = to_number(text)
    return text if number is None else number


def _step(action: ActionForm, where: str, problems: list[Problem]) -> dict[str, Any]:
    kind = ACTION_TYPES[action.type]
    params: dict[str, Any] = {}
    for param in kind.params:
        if param.kind == "mapping":
            rows = action.maps.get(param.name, [])
            if rows:
                params[param.name] = {k: v for k, v in rows}
            continue
        text = action.params.get(param.name, "")
        if param.kind == "bool":
            params[param.name] = text in ("on", "true", "1")
        elif not text:
            continue
        elif param.kind == "tags":
            params[param.name] = split_list(text)
        elif param.kind in ("int", "number"):
            params[param.name] = _maybe_number(text)
        elif param.kind == "json":
            try:
                params[param.name] = json.loads(text)
            except ValueError as error:
                problems.append(Problem(f"{where}.params.{param.name}",
                                        f"not valid JSON: {error}"))
        else:
            params[param.name] = text
    step: dict[str, Any] = {"id": action.id or DEFAULT_IDS[action.type], "type": action.type,
                            "params": params}
    condition = _step_condition(action, f"{where}.if", problems)
    if condition:
        step["if"] = condition
    extra = _extra(action.extra)
    step["on_error"] = {"retries": _maybe_number(action.retries),
                        "backoff_seconds": _maybe_number(action.backoff),
                        "then": action.then or "fail"}
    if "branch" in extra and action.then == "branch":
        step["on_error"]["branch"] = extra["branch"]
    if extra.get("idempotency_key"):
        step["idempotency_key"] = extra["idempotency_key"]
    return step


def _step_condition(action: ActionForm, where: str,
                    problems: list[Problem]) -> dict[str, Any] | None:
    if action.if_json:
        try:
            parsed: dict[str, Any] = json.loads(action.if_json)
        except ValueError as error:
            problems.append(Problem(where, f"not valid JSON: {error}"))
            return None
        return parsed
    if action.if_step and not action.if_output:
        problems.append(Problem(where, f"choose which output of step {action.if_step} "
                                       f"to test"))
        return None
    if not action.if_step:
        return None
    kind = output_type(action.if_output)
    test = action.if_test or STEP_TESTS["bool" if kind == "bool" else "other"][0]
    leaf: dict[str, Any] = {"field": f"steps.{action.if_step}.{action.if_output}",
                            "op": test, "type": _output_field_type(kind)}
    if OPERATORS.get(test) is not None and OPERATORS[test].value == "one":
        leaf["value"] = _maybe_number(action.if_value) if kind == "number" else action.if_value
    return {"all": [leaf]}


def output_type(name: str, outputs: dict[str, str] | None = None) -> str:
    """The type of a step output: from the action type when it declares it, else bool for
    names that read as yes/no answers, else text."""
    if outputs and name in outputs:
        return outputs[name]
    for kind in ACTION_TYPES.values():
        if name in kind.outputs:
            return kind.outputs[name]
    return "text"


def _output_field_type(kind: str) -> str:
    return kind if kind in OPERATORS_BY_TYPE else "text"


def _extra(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
