"""What the rule builder does between posts: a stored rule back into the form, adding and
removing rows and actions (failure branches included), and placing each validation problem
next to its field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orderpilot.domain.rules.actions import ActionType, Outcome
from orderpilot.domain.rules.definition import MAX_ACTIONS
from orderpilot.domain.rules.fields import FIELD_BY_PATH
from orderpilot.domain.rules.problems import Problem
from orderpilot.entrypoints.console.rules.action_forms import (
    ActionForm,
    action_from_step,
    action_prefix,
)
from orderpilot.entrypoints.console.rules.forms import (
    NO_CURRENCY,
    ConditionGroup,
    ConditionRow,
    RuleForm,
)
from orderpilot.entrypoints.console.rules.values import join_list, to_datetime_input, to_text

# What an action added to the branch on a declared outcome starts with, by outcome id.
OUTCOME_DEFAULTS = {"not_qualified": {"reason": "qualification_pending"},
                    "decision_required": {"reason": "return_decision_required"},
                    "refused": {"reason": "return_decision_required"}}
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
                       type="" if path in FIELD_BY_PATH else str(leaf.get("type", "text")),
                       currency=str(leaf.get("currency") or NO_CURRENCY))
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

def new_action(form: RuleForm, action_type: str, outcome: Outcome | None = None) -> ActionForm:
    """A new action with its parameters' defaults; inside the branch on OUTCOME, with what
    such a branch usually wants (a ticket a person must look at soon, named after it)."""
    kind = form.types[action_type]
    taken = {a.id for a in all_actions(form)}
    base = kind.default_step_id
    step_id = base if base not in taken else next(
        f"{base}{n}" for n in range(2, 100) if f"{base}{n}" not in taken)
    action = ActionForm(action_type, step_id)
    for param in kind.params:
        if param.kind == "mapping":
            action.maps[param.name] = []
        elif param.default is not None and not param.prefilled:
            action.params[param.name] = to_text(param.default)
    if outcome is not None:
        names = {p.name for p in kind.params}
        for name, value in OUTCOME_DEFAULTS.get(outcome.id, {}).items():
            if name in names:
                action.params[name] = value
        if "priority" in names:
            action.params["priority"] = "high"
        if "title" in names:
            action.params["title"] = outcome.zh + " {{ order.external_id }}"
    return action


def all_actions(form: RuleForm) -> list[ActionForm]:
    """Every action of the form, each followed by its failure and outcome branches."""
    return [a for action in form.actions
            for a in (action, *action.branch, *_outcome_steps(action))]


def _outcome_steps(action: ActionForm) -> list[ActionForm]:
    return [a for steps in action.outcomes.values() for a in steps]


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
    elif verb in ("open-outcome", "close-outcome"):
        _toggle_outcome(form, target, verb == "open-outcome")
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


def _outcome_at(form: RuleForm, target: str) -> tuple[ActionForm, Outcome] | None:
    """Action i and its declared outcome k, from "1o0"."""
    found = _OUTCOME_TARGET.match(target)
    if found is None or int(found.group(1)) >= len(form.actions):
        return None
    action = form.actions[int(found.group(1))]
    declared = form.types[action.type].outcomes
    k = int(found.group(2))
    return (action, declared[k]) if k < len(declared) else None


def _toggle_outcome(form: RuleForm, target: str, open_it: bool) -> None:
    found = _outcome_at(form, target)
    if found is None:
        return
    action, outcome = found
    if open_it:
        action.outcomes.setdefault(outcome.id, [])
    else:
        action.outcomes.pop(outcome.id, None)


def _add_action(form: RuleForm, target: str, action_type: str) -> None:
    if not target:
        if len(form.actions) < MAX_ACTIONS:
            form.actions.append(new_action(form, action_type))
    elif (outcome := _outcome_at(form, target)) is not None:
        parent, declared = outcome
        steps = parent.outcomes.setdefault(declared.id, [])
        if len(steps) < MAX_ACTIONS:
            steps.append(new_action(form, action_type, declared))
    elif target.isdigit() and int(target) < len(form.actions):
        parent = form.actions[int(target)]
        if len(parent.branch) < MAX_ACTIONS:
            parent.then = "branch"
            parent.branch.append(new_action(form, action_type))


def _actions_at(form: RuleForm, target: str) -> tuple[list[ActionForm], int] | None:
    """The list an action is in and its index there: "1" in the main list, "1.0" in the
    failure branch of action 1, "1o0.2" in the branch on its outcome 0."""
    head, _, tail = target.partition(".")
    outcome = _outcome_at(form, head) if "o" in head else None
    if outcome is not None and tail:
        actions, index = outcome[0].outcomes.get(outcome[1].id, []), tail
    elif not head.isdigit() or int(head) >= len(form.actions):
        return None
    else:
        actions, index = form.actions, head
    if tail and outcome is None:
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


def earlier_steps(form: RuleForm, index: int, branch_index: int | None = None,
                  outcome: tuple[str, int] | None = None) -> list[EarlierStep]:
    """The steps before action ``index`` (or before action ``branch_index`` of its failure
    branch, or before position p of its branch on outcome o) whose outputs an "only if" can
    test. An HTTP call's own output mapping names count too. The failed action itself is not
    offered to its failure branch: it has no outputs; it is to its outcome branches."""
    before = form.actions[:index]
    if branch_index is not None:
        before = before + form.actions[index].branch[:branch_index]
    if outcome is not None:
        parent = form.actions[index]
        before = [*before, parent, *parent.outcomes.get(outcome[0], [])[:outcome[1]]]
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
        declared = [o.id for o in form.types[action.type].outcomes]
        for outcome_id, steps in action.outcomes.items():
            if outcome_id in declared:
                for j in range(len(steps)):
                    out[action_prefix(i, outcome=(declared.index(outcome_id), j))] = \
                        earlier_steps(form, i, outcome=(outcome_id, j))
    return out


# -- problems next to their fields ----------------------------------------------------------

_OUTCOME_TARGET = re.compile(r"^(\d+)o(\d+)$")
_INDEX = re.compile(r"^(conditions\.(?:all|any)\[\d+\](?:\.(?:all|any)\[\d+\])?)")
_ACTION_PATH = re.compile(r"^(actions\[\d+\](?:\.on_error\.branch\[\d+\]"
                          r"|\.on_outcome\.[a-z_]+\[\d+\])?)"
                          r"(?:\.(params)\.([a-z_]+)|\.(idempotency_key|if|on_error|on_outcome|id|type)(?![a-z_]))?")
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
