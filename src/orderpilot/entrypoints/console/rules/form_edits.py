"""What the rule builder does between posts: a stored rule back into the form, adding and
removing rows and actions (failure branches included), and placing each validation problem
next to its field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orderpilot.domain.rules.actions import ActionType
from orderpilot.domain.rules.definition import MAX_ACTIONS
from orderpilot.domain.rules.fields import FIELD_BY_PATH
from orderpilot.domain.rules.problems import Problem
from orderpilot.entrypoints.console.rules.action_forms import (
    ActionForm,
    action_from_step,
    action_prefix,
)
from orderpilot.entrypoints.console.rules.forms import ConditionGroup, ConditionRow, RuleForm
from orderpilot.entrypoints.console.rules.values import join_list, to_datetime_input, to_text

# Values offered for SMS parameters by their name, so nobody has to type an expression.
PARAM_SUGGESTIONS = {"order_no": "{{ order.external_id }}", "order_id": "{{ order.id }}",
                     "name": "{{ order.customer.name }}", "phone": "{{ order.customer.phone }}",
                     "total": "{{ order.total_text }}", "amount": "{{ order.total_text }}"}
MAX_ROWS = 50


# -- definition -> form ---------------------------------------------------------------------

def from_definition(raw: dict[str, Any], types: Mapping[str, ActionType]) -> RuleForm:
    """A stored definition as a form; TYPES: the actions the hub offers, by id."""
    trigger = raw.get("trigger") or {}
    conditions = raw.get("conditions") or {"all": []}
    mode = "any" if "any" in conditions else "all"
    form = RuleForm(name=str(raw.get("name", "")), description=str(raw.get("description", "")),
                    trigger_kind=str(trigger.get("kind", "event")),
                    trigger_event=str(trigger.get("event") or ""),
                    trigger_sources=join_list(trigger.get("sources", [])),
                    trigger_channels=list(trigger.get("channels", [])),
                    trigger_minutes=to_text(trigger.get("minutes")),
                    trigger_unless=str(trigger.get("unless") or ""),
                    trigger_cron=str(trigger.get("cron") or ""),
                    trigger_timezone=str(trigger.get("timezone") or "Asia/Shanghai"),
                    mode=mode, expression=str(raw.get("expression") or ""), types=types)
    for item in conditions.get(mode, []):
        if isinstance(item, dict) and ("all" in item or "any" in item):
            inner = "any" if "any" in item else "all"
            form.items.append(ConditionGroup(inner, [_row(leaf) for leaf in item[inner]]))
        else:
            form.items.append(_row(item))
    form.actions = [action_from_step(step, types) for step in raw.get("actions", [])]
    return form


def _row(leaf: dict[str, Any]) -> ConditionRow:
    path = str(leaf.get("field", ""))
    row = ConditionRow(path, str(leaf.get("op", "")), was=path,
                       type="" if path in FIELD_BY_PATH else str(leaf.get("type", "text")))
    value = leaf.get("value")
    if row.shape == "pair" and isinstance(value, list) and len(value) == 2:
        row.value, row.value2 = to_text(value[0]), to_text(value[1])
    elif row.shape == "list":
        known = FIELD_BY_PATH.get(path)
        if known is not None and known.choices:
            row.values = [str(v) for v in value or []]
        else:
            row.value = join_list(value)
    elif row.shape == "datetime":
        row.value = to_datetime_input(value)
    else:
        row.value = to_text(value)
    return row


# -- edits ----------------------------------------------------------------------------------

def new_action(form: RuleForm, action_type: str) -> ActionForm:
    kind = form.types[action_type]
    taken = {a.id for a in all_actions(form)}
    base = kind.default_step_id
    step_id = base if base not in taken else next(
        f"{base}{n}" for n in range(2, 100) if f"{base}{n}" not in taken)
    action = ActionForm(action_type, step_id)
    for param in kind.params:
        if param.kind == "mapping":
            action.maps[param.name] = []
        elif param.default is not None:
            action.params[param.name] = to_text(param.default)
    return action


def all_actions(form: RuleForm) -> list[ActionForm]:
    """Every action of the form, each followed by its failure branch."""
    return [a for action in form.actions for a in (action, *action.branch)]


def new_action_field(do: str) -> str:
    """The select naming the type to add: the main list's, or one action's branch's."""
    verb, _, target = do.partition(":")
    return f"a{target}-new-type" if verb == "add-action" and target else "new_action_type"


def apply(form: RuleForm, do: str, new_action_type: str = "") -> RuleForm:
    """One builder button: add-condition, add-group, add-condition:2, remove-condition:2.0,
    add-action, remove-action:1, up-action:1, down-action:1; on a failure branch
    add-action:1 (to action 1's branch), remove-action:1.0, up-action:1.0, down-action:1.0.
    Anything else only redraws."""
    verb, _, target = do.partition(":")
    if verb == "add-condition":
        if target.isdigit() and int(target) < len(form.items):
            group = form.items[int(target)]
            if isinstance(group, ConditionGroup) and len(group.rows) < MAX_ROWS:
                group.rows.append(ConditionRow())
        elif len(form.items) < MAX_ROWS:
            form.items.append(ConditionRow())
    elif verb == "add-group" and len(form.items) < MAX_ROWS:
        form.items.append(ConditionGroup())
    elif verb == "remove-condition":
        _remove_condition(form, target)
    elif verb == "add-action" and new_action_type in form.types:
        _add_action(form, target, new_action_type)
    elif verb in ("remove-action", "up-action", "down-action"):
        found = _actions_at(form, target)
        if found is not None:
            actions, i = found
            if verb == "remove-action":
                actions.pop(i)
            else:
                j = i - 1 if verb == "up-action" else i + 1
                if 0 <= j < len(actions):
                    actions[i], actions[j] = actions[j], actions[i]
    return form


def _add_action(form: RuleForm, target: str, action_type: str) -> None:
    if not target:
        if len(form.actions) < MAX_ACTIONS:
            form.actions.append(new_action(form, action_type))
    elif target.isdigit() and int(target) < len(form.actions):
        parent = form.actions[int(target)]
        if len(parent.branch) < MAX_ACTIONS:
            parent.then = "branch"
            parent.branch.append(new_action(form, action_type))


def _actions_at(form: RuleForm, target: str) -> tuple[list[ActionForm], int] | None:
    """The list an action is in and its index there: "1" in the main list, "1.0" in the
    failure branch of action 1."""
    head, _, tail = target.partition(".")
    if not head.isdigit() or int(head) >= len(form.actions):
        return None
    actions, index = form.actions, head
    if tail:
        actions, index = form.actions[int(head)].branch, tail
    if not index.isdigit() or int(index) >= len(actions):
        return None
    return actions, int(index)


def _remove_condition(form: RuleForm, target: str) -> None:
    head, _, tail = target.partition(".")
    if not head.isdigit() or int(head) >= len(form.items):
        return
    item = form.items[int(head)]
    if tail.isdigit() and isinstance(item, ConditionGroup):
        if int(tail) < len(item.rows):
            item.rows.pop(int(tail))
        if not item.rows:
            form.items.pop(int(head))
    elif not tail:
        form.items.pop(int(head))


def fill_sms_params(form: RuleForm, templates: dict[str, list[str]]) -> None:
    """Once an SMS template is picked, its parameters appear as rows, with a value suggested
    where the name says what it is (order_no -> the channel order number)."""
    for action in all_actions(form):
        kind = form.types.get(action.type)
        params = kind.params if kind is not None else ()
        code = next((p.name for p in params if p.kind == "sms_template"), None)
        mapping = next((p.name for p in params if p.kind == "mapping"), None)
        if code is None or mapping is None:
            continue
        names = templates.get(action.params.get(code, ""))
        if names is None:
            continue
        rows = dict(action.maps.get(mapping, []))
        action.maps[mapping] = [(n, rows.get(n) or PARAM_SUGGESTIONS.get(n, ""))
                                 for n in names] + [(k, v) for k, v in rows.items()
                                                    if k not in names]


@dataclass(frozen=True)
class EarlierStep:
    id: str
    type: str
    outputs: dict[str, str]  # name -> type


def earlier_steps(form: RuleForm, index: int,
                  branch_index: int | None = None) -> list[EarlierStep]:
    """The steps before action ``index`` (or before action ``branch_index`` of its failure
    branch) whose outputs an "only if" can test. An HTTP call's own output mapping names
    count too. The failed action itself is not offered to its branch: it has no outputs."""
    before = form.actions[:index]
    if branch_index is not None:
        before = before + form.actions[index].branch[:branch_index]
    steps = []
    for action in before:
        kind = form.types[action.type]
        outputs = dict(kind.outputs)
        if kind.output_param:
            for name, _path in action.maps.get(kind.output_param, []):
                outputs.setdefault(name, "text")
        if action.id:
            steps.append(EarlierStep(action.id, action.type, outputs))
    return steps


def earlier_by_slot(form: RuleForm) -> dict[str, list[EarlierStep]]:
    """``earlier_steps`` of every action, by its prefix ("a1", "a1b0")."""
    out = {}
    for i, action in enumerate(form.actions):
        out[action_prefix(i)] = earlier_steps(form, i)
        for j in range(len(action.branch)):
            out[action_prefix(i, j)] = earlier_steps(form, i, j)
    return out


# -- problems next to their fields ----------------------------------------------------------

_INDEX = re.compile(r"^(conditions\.(?:all|any)\[\d+\](?:\.(?:all|any)\[\d+\])?)")
_ACTION_PATH = re.compile(r"^(actions\[\d+\](?:\.on_error\.branch\[\d+\])?)"
                          r"(?:\.(params)\.([a-z_]+)|\.(idempotency_key|if|on_error|id|type)(?![a-z_]))?")
_TRIGGER = {"trigger.event": "trigger_event", "trigger.sources": "trigger_sources",
            "trigger.channels": "trigger_channels", "trigger.minutes": "trigger_minutes",
            "trigger.unless": "trigger_unless", "trigger.cron": "trigger_cron",
            "trigger.timezone": "trigger_timezone"}


def slot_for(path: str, places: dict[str, str]) -> str:
    """Where on the form a problem at ``path`` is shown: "c2", "c2.0", "a1", "a1.template",
    "a1.if", "a1.on_error", "a1.idempotency_key", "a1b0.text" (in action 1's failure branch),
    "trigger_event", "name"... or "rule" (the summary only)."""
    if path in ("name", "description", "expression", "key"):
        return path
    if path.startswith("trigger"):
        for prefix, slot in _TRIGGER.items():
            if path.startswith(prefix):
                return slot
        return "trigger_kind"
    found = _INDEX.match(path)
    if found:
        where = found.group(1)
        while where not in places and "." in where[len("conditions."):]:
            where = where.rsplit(".", 1)[0]
        return places.get(where, "conditions")
    if path.startswith("conditions"):
        return "conditions"
    found = _ACTION_PATH.match(path)
    if found:
        action = places.get(found.group(1))
        if action is None:  # a branch step the form did not draw: its parent's failure row
            parent = places.get(found.group(1).split(".", 1)[0])
            return f"{parent}.on_error" if parent else "actions"
        if found.group(2):
            return f"{action}.{found.group(3)}"
        return f"{action}.{found.group(4)}" if found.group(4) else action
    return "actions" if path.startswith("actions") else "rule"


def problems_by_slot(problems: list[Problem], places: dict[str, str],
                     locale: str | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for problem in problems:
        out.setdefault(slot_for(problem.field, places), []).append(problem.in_language(locale))
    return out
