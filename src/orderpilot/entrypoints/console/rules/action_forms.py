"""One action of the rule builder's form, as plain data: read from the posted fields, turned
into a step of the rule JSON, and back from a stored step. An action may carry a failure
branch (transport failure) and a branch per business outcome its action declares (如果核验不通过):
ordered lists of actions of the same shape, one level deep. No web framework here.

Field names. A top-level action has the prefix "a1"; the first action of its failure branch
has "a1b0"; the third action of the branch on its first declared outcome has "a1o0s2":

    <prefix>-type, <prefix>-id, <prefix>-p-<param>      the action and its scalar parameters
    <prefix>-m-<param>-<n>-k, <prefix>-m-<param>-<n>-v  rows of a mapping parameter
    <prefix>-if-step, -if-output, -if-test, -if-value   "only if" on an earlier step's output
    <prefix>-if-json                                    an "only if" the picker cannot show
    <prefix>-retries, -backoff, -then, -idem            failure handling and idempotency key
    <prefix>-outcome-<k>                                 the branch on outcome k is open
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orderpilot.domain.rules.actions import ActionType
from orderpilot.domain.rules.fields import OPERATORS, OPERATORS_BY_TYPE
from orderpilot.domain.rules.problems import Problem
from orderpilot.entrypoints.console.rules.values import join_list, split_list, to_number, to_text

_ACTION = re.compile(r"^a(\d+)(?:b(\d+)|o(\d+)s(\d+))?-(.+)$")
_MAP = re.compile(r"^m-([a-z_]+)-(\d+)-([kv])$")
_STEP_LEAF = re.compile(r"^steps\.([a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$")
STEP_TESTS = {"bool": ("is_false", "is_true"), "other": ("eq", "ne", "not_empty", "is_empty")}


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
    then: str = "fail"  # fail | ignore | branch
    idempotency_key: str = ""  # empty: the runner's default, once per run and step
    branch: list[ActionForm] = dataclasses.field(default_factory=list)  # then == "branch"
    # outcome id -> the actions its branch runs; an open branch is here even while empty
    outcomes: dict[str, list[ActionForm]] = dataclasses.field(default_factory=dict)


def action_prefix(index: int, branch_index: int | None = None,
                  outcome: tuple[int, int] | None = None) -> str:
    """The field-name prefix and problem slot of an action: "a1", "a1b0" in its failure
    branch, "a1o0s2" as action 2 of the branch on its outcome 0."""
    if outcome is not None:
        return f"a{index}o{outcome[0]}s{outcome[1]}"
    return f"a{index}" if branch_index is None else f"a{index}b{branch_index}"


# -- reading the posted fields --------------------------------------------------------------

def read_actions(values: dict[str, list[str]],
                 types: Mapping[str, ActionType]) -> list[ActionForm]:
    # (action, -1 | 0 for its failure branch | k + 1 for its outcome k, position)
    parts: dict[tuple[int, int, int], dict[str, str]] = {}
    for name, got in values.items():
        match = _ACTION.match(name)
        if match:
            i, b, k, j, part = match.groups()
            where = (int(i), -1, 0) if b is None and k is None else \
                (int(i), 0, int(b)) if b is not None else (int(i), int(k) + 1, int(j))
            parts.setdefault(where, {})[part] = got[0].strip()
    actions: dict[int, ActionForm] = {}
    for (i, branch, _j), fields in sorted(parts.items()):  # an action before its branches
        action = _read_action(fields, types)
        if action is None:
            continue
        if branch < 0:
            actions[i] = action
            declared = types[action.type].outcomes
            for k, outcome in enumerate(declared):
                if fields.get(f"outcome-{k}"):
                    action.outcomes[outcome.id] = []
        elif i in actions and branch == 0:
            actions[i].branch.append(action)
        elif i in actions:
            declared = types[actions[i].type].outcomes
            if branch - 1 < len(declared):
                actions[i].outcomes.setdefault(declared[branch - 1].id, []).append(action)
    return list(actions.values())


def _read_action(p: dict[str, str], types: Mapping[str, ActionType]) -> ActionForm | None:
    kind = types.get(p.get("type", ""))
    if kind is None:
        return None
    action = ActionForm(kind.id, p.get("id", ""), if_step=p.get("if-step", ""),
                        if_output=p.get("if-output", ""), if_test=p.get("if-test", ""),
                        if_value=p.get("if-value", ""), if_json=p.get("if-json", ""),
                        retries=p.get("retries", "3"), backoff=p.get("backoff", "5"),
                        then=p.get("then", "fail"), idempotency_key=p.get("idem", ""))
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
    return action


# -- form -> step ---------------------------------------------------------------------------

def step_definition(action: ActionForm, where: str, slot: str, places: dict[str, str],
                    problems: list[Problem], types: Mapping[str, ActionType], *,
                    top: bool = True) -> dict[str, Any]:
    """The step at definition path ``where`` (drawn on the form as ``slot``), its failure
    branch included; records in ``places`` where each step's problems are shown. A step of a
    branch has no branch of its own (the service says so if one asks for it)."""
    places[where] = slot
    kind = types[action.type]
    step: dict[str, Any] = {"id": action.id or kind.default_step_id, "type": action.type,
                            "params": _params(action, kind, where, problems)}
    condition = _step_condition(action, f"{where}.if", problems, types)
    if condition:
        step["if"] = condition
    on_error: dict[str, Any] = {"retries": maybe_number(action.retries),
                                "backoff_seconds": maybe_number(action.backoff),
                                "then": action.then or "fail"}
    kind_outcomes = [o.id for o in kind.outcomes]
    if top and action.outcomes:
        on_outcome: dict[str, Any] = {}
        for outcome_id, inner_steps in action.outcomes.items():
            if outcome_id not in kind_outcomes:
                continue
            k = kind_outcomes.index(outcome_id)
            here = f"{where}.on_outcome.{outcome_id}"
            if not inner_steps:
                problems.append(Problem(here, "add at least one action to this branch",
                                        "请为此分支至少添加一个动作"))
            on_outcome[outcome_id] = [
                step_definition(inner, f"{here}[{j}]", f"{slot}o{k}s{j}", places, problems,
                                types, top=False)
                for j, inner in enumerate(inner_steps)]
        if any(on_outcome.values()):
            step["on_outcome"] = {k: v for k, v in on_outcome.items() if v}
    if action.then == "branch" and top:
        if not action.branch:  # valid, but a failure that runs nothing is surely a slip
            problems.append(Problem(f"{where}.on_error.branch",
                                    "add at least one action to run instead",
                                    "请至少添加一个改为执行的动作"))
        on_error["branch"] = [
            step_definition(inner, f"{where}.on_error.branch[{j}]", f"{slot}b{j}", places,
                            problems, types, top=False)
            for j, inner in enumerate(action.branch)]
    step["on_error"] = on_error
    if action.idempotency_key:
        step["idempotency_key"] = action.idempotency_key
    return step


def _params(action: ActionForm, kind: ActionType, where: str,
            problems: list[Problem]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for param in kind.params:
        if param.prefilled:  # filled from the order by its default
            continue
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
            params[param.name] = maybe_number(text)
        elif param.kind == "json":
            try:
                params[param.name] = json.loads(text)
            except json.JSONDecodeError as error:
                problems.append(Problem(f"{where}.params.{param.name}",
                                        f"not valid JSON: {error}",
                                        f"{param.zh}：格式不正确（第 {error.lineno} 行）"))
        else:
            params[param.name] = text
    return params


def _step_condition(action: ActionForm, where: str, problems: list[Problem],
                    types: Mapping[str, ActionType]) -> dict[str, Any] | None:
    if action.if_json:
        try:
            parsed: dict[str, Any] = json.loads(action.if_json)
        except json.JSONDecodeError as error:
            problems.append(Problem(where, f"not valid JSON: {error}",
                                    f"条件格式不正确（第 {error.lineno} 行）"))
            return None
        return parsed
    if action.if_step and not action.if_output:
        problems.append(Problem(where, f"choose which output of step {action.if_step} "
                                       f"to test", f"请选择要判断步骤 {action.if_step} 的哪个结果"))
        return None
    if not action.if_step:
        return None
    kind = output_type(action.if_output, types)
    test = action.if_test or STEP_TESTS["bool" if kind == "bool" else "other"][0]
    leaf: dict[str, Any] = {"field": f"steps.{action.if_step}.{action.if_output}",
                            "op": test, "type": kind if kind in OPERATORS_BY_TYPE else "text"}
    if OPERATORS.get(test) is not None and OPERATORS[test].value == "one":
        leaf["value"] = maybe_number(action.if_value) if kind == "number" else action.if_value
    return {"all": [leaf]}


def output_type(name: str, types: Mapping[str, ActionType]) -> str:
    """The type of a step output: from an action type that declares it, else text."""
    for kind in types.values():
        if name in kind.outputs:
            return kind.outputs[name]
    return "text"


def maybe_number(text: str) -> Any:
    number = to_number(text)
    return text if number is None else number


# -- stored step -> form --------------------------------------------------------------------

def action_from_step(step: dict[str, Any], types: Mapping[str, ActionType]) -> ActionForm:
    kind = types[step["type"]]
    action = ActionForm(kind.id, str(step.get("id", "")))
    params = step.get("params", {})
    for param in kind.params:
        value = params.get(param.name)
        if param.kind == "mapping":
            action.maps[param.name] = [(str(k), str(v)) for k, v in (value or {}).items()]
        elif param.kind == "json":
            action.params[param.name] = "" if value is None else json.dumps(
                value, ensure_ascii=False, indent=2)
        elif param.kind == "tags":
            action.params[param.name] = join_list(value or [])
        elif param.kind == "bool":
            action.params[param.name] = to_text(bool(value if value is not None
                                                     else param.default))
        else:
            action.params[param.name] = to_text(value)
    _read_if(action, step.get("if"))
    on_error = step.get("on_error") or {}
    action.retries = to_text(on_error.get("retries", 3))
    action.backoff = to_text(on_error.get("backoff_seconds", 5))
    action.then = str(on_error.get("then", "fail"))
    action.branch = [action_from_step(inner, types) for inner in on_error.get("branch") or []]
    for outcome_id, inner_steps in (step.get("on_outcome") or {}).items():
        action.outcomes[str(outcome_id)] = [action_from_step(inner, types)
                                            for inner in inner_steps or []]
    action.idempotency_key = str(step.get("idempotency_key") or "")
    return action


def _read_if(action: ActionForm, condition: Any) -> None:
    if not condition:
        return
    leaves = condition.get("all") if isinstance(condition, dict) else None
    leaf = leaves[0] if isinstance(leaves, list) and len(leaves) == 1 else None
    match = _STEP_LEAF.match(str(leaf.get("field", ""))) if isinstance(leaf, dict) else None
    if leaf is None or match is None or condition.get("not"):
        action.if_json = json.dumps(condition, ensure_ascii=False)
        return
    action.if_step, action.if_output = match.group(1), match.group(2)
    action.if_test, action.if_value = str(leaf.get("op", "")), to_text(leaf.get("value"))
