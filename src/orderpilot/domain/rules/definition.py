"""A rule's whole definition (what a version freezes) and its validation.

    name, description
    trigger      {"kind": "event", "event": "payment.succeeded", "sources": ["youzan"]}
    conditions   {"all": [...]}                      structured, compiled to one expression
    expression   optional advanced expression, ANDed with the conditions
    actions      [{"id", "type", "params", "if", "on_error", "on_outcome",
                   "idempotency_key"}, ...]

``on_error`` is what happens when a step's call fails (transport, refusal by the system);
``on_outcome`` ({"not_qualified": [steps]}) runs steps when the step succeeded with a business
outcome its action declares (domain/rules/actions.py ``Outcome``), then the run goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from orderpilot.domain.rules.actions import (
    STEP_ID,
    ActionType,
    Checks,
    Outcome,
    check_params,
    check_template,
)
from orderpilot.domain.rules.conditions import EMPTY, Group, dump_group, parse_conditions
from orderpilot.domain.rules.problems import Problems
from orderpilot.domain.rules.triggers import Trigger, parse_trigger

MAX_ACTIONS = 20
THEN = ("fail", "ignore", "branch")


@dataclass(frozen=True)
class OnError:
    retries: int = 3
    backoff_seconds: int = 5
    then: str = "fail"  # fail | ignore | branch
    branch: tuple[Step, ...] = ()

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"retries": self.retries, "backoff_seconds": self.backoff_seconds,
                               "then": self.then}
        if self.branch:
            out["branch"] = [s.dump() for s in self.branch]
        return out


@dataclass(frozen=True)
class OutcomeBranch:
    """The steps a step runs when its action answered with OUTCOME (如果核验不通过)."""

    outcome: Outcome
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Step:
    id: str
    type: str
    params: dict[str, Any]
    when: Group = EMPTY  # the step's `if`
    on_error: OnError = OnError()
    idempotency_key: str | None = None
    # The decision tables the step reads (its params of kind "table"); not dumped.
    reads_tables: frozenset[str] = frozenset()
    on_outcome: tuple[OutcomeBranch, ...] = ()

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "params": self.params}
        if self.when.children:
            out["if"] = dump_group(self.when)
        out["on_error"] = self.on_error.dump()
        if self.on_outcome:
            out["on_outcome"] = {b.outcome.id: [s.dump() for s in b.steps]
                                 for b in self.on_outcome}
        if self.idempotency_key:
            out["idempotency_key"] = self.idempotency_key
        return out


@dataclass(frozen=True)
class RuleDefinition:
    name: str
    trigger: Trigger
    conditions: Group
    actions: tuple[Step, ...]
    description: str = ""
    expression: str | None = None

    @cached_property  # a definition is immutable: built once per parsed version
    def condition_expression(self) -> str:
        """The one expression the engine evaluates to decide whether the rule matches."""
        body = self.conditions.expression
        return f"({body} and ({self.expression}))" if self.expression else body

    @cached_property
    def trace_expressions(self) -> tuple[str, ...]:
        """What a trace evaluates: each leaf's test and the value it read, then the advanced
        expression if any."""
        texts = [e for leaf in self.conditions.leaves()
                 for e in (leaf.expression, leaf.actual_expression)]
        return (*texts, self.expression) if self.expression else tuple(texts)

    def dump(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "description": self.description,
                               "trigger": self.trigger.dump(),
                               "conditions": dump_group(self.conditions),
                               "actions": [s.dump() for s in self.actions]}
        if self.expression:
            out["expression"] = self.expression
        return out

    def tables_used(self) -> set[str]:
        return set(self.tables_read)

    @cached_property
    def tables_read(self) -> frozenset[str]:
        """The decision tables the conditions and steps read."""
        used = {leaf.field.path.split(".")[1] for leaf in self.conditions.leaves()
                if leaf.field.path.startswith("tables.")}
        used.update(*(s.reads_tables for s in self.all_steps()))
        return frozenset(used)

    @cached_property
    def reads_lookups(self) -> bool:
        """Whether matching needs more than the order and event: converted amounts or
        decision tables."""
        return bool(self.tables_read or self.currencies_compared)

    @cached_property
    def currencies_compared(self) -> frozenset[str]:
        """The currencies money leaves (conditions and steps' `if`s) compare amounts in."""
        groups = [self.conditions, *(s.when for s in self.all_steps())]
        return frozenset(leaf.currency for g in groups for leaf in g.leaves() if leaf.currency)

    def all_steps(self) -> list[Step]:
        steps: list[Step] = []
        for step in self.actions:
            steps.append(step)
            steps.extend(step.on_error.branch)
            for branch in step.on_outcome:
                steps.extend(branch.steps)
        return steps


def parse_definition(raw: Any, checks: Checks) -> RuleDefinition:
    """The rule, checked whole; raises RuleInvalid naming every field at fault."""
    problems = Problems()
    if not isinstance(raw, dict):
        problems.add("rule", "a rule is an object with name, trigger, conditions and actions",
                     "规则应为包含 name、trigger、conditions 和 actions 的对象")
        problems.raise_if_any()
    unknown = set(raw) - {"name", "description", "trigger", "conditions", "expression",
                          "actions"}
    for key in sorted(unknown):
        problems.add(key, "unknown key", "未知的键")
    name = raw.get("name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 200:
        problems.add("name", "a name of 1 to 200 characters is required",
                     "名称必填，1 到 200 个字符")
        name = "?"
    description = raw.get("description") or ""
    if not isinstance(description, str) or len(description) > 2000:
        problems.add("description", "at most 2000 characters of text", "最多 2000 个字符")
        description = ""
    trigger = parse_trigger(raw.get("trigger"), "trigger", problems)
    conditions = parse_conditions(raw.get("conditions"), "conditions", problems)
    expression = raw.get("expression") or None
    if expression is not None:
        if not isinstance(expression, str) or len(expression) > 4000:
            problems.add("expression", "at most 4000 characters of text", "最多 4000 个字符")
            expression = None
        else:
            message = checks.check_expression(expression)
            if message:
                problems.add("expression", message, f"表达式无效：{message}")
    actions = _steps(raw.get("actions"), "actions", problems, checks, set(), top=True)
    problems.raise_if_any()
    definition = RuleDefinition(name.strip(), trigger, conditions, tuple(actions), description,
                                expression)
    if checks.strict:  # the one text the engine runs, checked as it will be when it runs
        message = checks.check_expression(definition.condition_expression)
        if message:
            problems.add("expression" if expression else "conditions", message,
                         f"表达式无效：{message}")
            problems.raise_if_any()
    return definition


def _steps(raw: Any, where: str, problems: Problems, checks: Checks, seen: set[str], *,
           top: bool) -> list[Step]:
    if not isinstance(raw, list) or (top and not raw) or len(raw) > MAX_ACTIONS:
        problems.add(where, f"a list of 1 to {MAX_ACTIONS} actions",
                     f"应为 1 到 {MAX_ACTIONS} 个动作的列表")
        return []
    steps = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(item, dict):
            problems.add(here, "an action is an object with id, type and params",
                         "动作应为包含 id、type 和 params 的对象")
            continue
        unknown = set(item) - {"id", "type", "params", "if", "on_error", "on_outcome",
                               "idempotency_key"}
        for key in sorted(unknown):
            problems.add(f"{here}.{key}", "unknown key", "未知的键")
        step_id = item.get("id") or f"step{len(seen) + 1}"
        if not isinstance(step_id, str) or not STEP_ID.match(step_id):
            problems.add(f"{here}.id", "lowercase letters, digits and _, starting with a letter",
                         "小写字母、数字和 _，以字母开头")
            step_id = f"step{len(seen) + 1}"
        if step_id in seen:
            problems.add(f"{here}.id", f"another action is already called {step_id!r}",
                         f"已有另一个动作名为 {step_id!r}")
        seen.add(step_id)
        action = item.get("type")
        kind = checks.actions.get(action) if isinstance(action, str) else None
        if kind is None:
            problems.add(f"{here}.type", f"unknown action {action!r}; known: "
                                         f"{', '.join(checks.actions)}",
                         f"未知动作 {action!r}；可用：{'、'.join(checks.actions)}")
            continue
        params = check_params(kind.id, item.get("params", {}), f"{here}.params", problems,
                              checks)
        tables = frozenset(str(params[p.name]) for p in kind.params
                           if p.kind == "table" and params.get(p.name))
        when = parse_conditions(item.get("if"), f"{here}.if", problems)
        if checks.strict and when.children and not problems:
            message = checks.check_expression(when.expression)
            if message:
                problems.add(f"{here}.if", message, f"表达式无效：{message}")
        for leaf in when.leaves():
            if leaf.field.path.startswith("steps.") \
                    and leaf.field.path.split(".")[1] not in seen - {step_id}:
                problems.add(f"{leaf.where}.field", f"{leaf.field.path} names no earlier step",
                             f"{leaf.field.path} 没有指向之前的步骤")
        on_error = _on_error(item.get("on_error"), f"{here}.on_error", problems, checks, seen,
                             top)
        on_outcome = _on_outcome(item.get("on_outcome"), kind, f"{here}.on_outcome", problems,
                                 checks, seen, top)
        key = item.get("idempotency_key") or None
        if key is not None:
            if not isinstance(key, str) or len(key) > 200:
                problems.add(f"{here}.idempotency_key", "at most 200 characters of text",
                             "最多 200 个字符")
                key = None
            else:
                check_template(key, f"{here}.idempotency_key", problems, checks)
        steps.append(Step(step_id, kind.id, params, when, on_error, key, tables, on_outcome))
    return steps


def _on_error(raw: Any, where: str, problems: Problems, checks: Checks, seen: set[str],
              top: bool) -> OnError:
    if raw is None:
        return OnError()
    if not isinstance(raw, dict):
        problems.add(where, 'on_error is {"retries": 3, "backoff_seconds": 5, "then": "fail"}',
                     'on_error 的格式为 {"retries": 3, "backoff_seconds": 5, "then": "fail"}')
        return OnError()
    retries, backoff, then = raw.get("retries", 3), raw.get("backoff_seconds", 5), \
        raw.get("then", "fail")
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        problems.add(f"{where}.retries", "a whole number from 0 to 10", "应为 0 到 10 的整数")
        retries = 3
    if isinstance(backoff, bool) or not isinstance(backoff, int) or not 1 <= backoff <= 3600:
        problems.add(f"{where}.backoff_seconds", "a whole number of seconds from 1 to 3600",
                     "应为 1 到 3600 的整数秒数")
        backoff = 5
    if then not in THEN:
        problems.add(f"{where}.then", f"one of {', '.join(THEN)}",
                     f"应为以下之一：{'、'.join(THEN)}")
        then = "fail"
    branch: list[Step] = []
    if then == "branch":
        if not top:
            problems.add(f"{where}.then", "a failure branch cannot have a branch of its own",
                         "失败分支内不能再有分支")
        else:
            branch = _steps(raw.get("branch"), f"{where}.branch", problems, checks, seen,
                            top=False)
    elif raw.get("branch"):
        problems.add(f"{where}.branch", 'a branch only runs with "then": "branch"',
                     '分支只在 "then": "branch" 时运行')
    return OnError(retries, backoff, then, tuple(branch))


def _on_outcome(raw: Any, kind: ActionType, where: str, problems: Problems, checks: Checks,
                seen: set[str], top: bool) -> tuple[OutcomeBranch, ...]:
    if raw is None or raw == {}:
        return ()
    if not top:
        problems.add(where, "a branch step cannot have branches of its own",
                     "分支内的步骤不能再有分支")
        return ()
    if not isinstance(raw, dict):
        problems.add(where, 'on_outcome is {"<outcome>": [steps]}',
                     'on_outcome 的格式为 {"<结果>": [步骤]}')
        return ()
    branches = []
    for outcome_id, steps in raw.items():
        outcome = kind.outcome(str(outcome_id))
        if outcome is None:
            declared = ", ".join(o.id for o in kind.outcomes) or "none"
            problems.add(f"{where}.{outcome_id}",
                         f"{kind.en} declares no outcome {outcome_id!r} (declared: {declared})",
                         f"{kind.zh}没有名为 {outcome_id!r} 的结果（已声明："
                         f"{'、'.join(o.zh for o in kind.outcomes) or '无'}）")
            continue
        if not isinstance(steps, list) or not steps:
            problems.add(f"{where}.{outcome_id}", "a branch needs at least one step",
                         "分支至少需要一个步骤")
            continue
        branches.append(OutcomeBranch(outcome, tuple(
            _steps(steps, f"{where}.{outcome_id}", problems, checks, seen, top=False))))
    return tuple(branches)


def warnings(definition: RuleDefinition, actions: Mapping[str, ActionType]) -> list[RuleWarning]:
    """What is allowed but likely wrong: 失败时 on an action that answers refusals in its
    output (it never fires for them), money compared without a currency."""
    found: list[RuleWarning] = []
    for i, step in enumerate(definition.actions):
        kind = actions.get(step.type)
        if kind is None or not kind.reports_refusals or step.on_error.then != "branch":
            continue
        refusals_en = ", ".join(o.en.lower() for o in kind.outcomes)
        refusals_zh = "、".join(o.zh for o in kind.outcomes)
        handled = {b.outcome.id for b in step.on_outcome}
        if handled >= {o.id for o in kind.outcomes}:
            continue
        found.append(RuleWarning(
            "on_error_misses_refusal", f"actions[{i}].on_error.then", step.id,
            f"step {step.id!r}: the on-failure branch runs only when the call to {kind.en} "
            f"fails (network, timeout); an answer of {refusals_en} is a success and does "
            f"not run it. Branch on the outcome instead (on_outcome).",
            f"步骤“{step.id}”：失败时分支只在调用{kind.zh}失败（网络、超时）时执行；"
            f"{refusals_zh}是正常的应答，不会进入失败时分支。请改用“如果{refusals_zh}”分支。"))
    for leaf in definition.conditions.leaves():
        if leaf.field.type == "money" and leaf.currency is None:
            found.append(RuleWarning(
                "money_without_currency", leaf.where, None,
                f"{leaf.where}: {leaf.field.en} is compared without a currency, so orders in "
                f"SGD, MYR, CNY... are all compared with {leaf.value}; pick a currency",
                f"{leaf.where}：{leaf.field.zh}未指定币种，新币、马币、人民币等订单都会与 "
                f"{leaf.value} 直接比较；请选择币种"))
    return found


@dataclass(frozen=True)
class RuleWarning:
    code: str
    field: str
    step: str | None
    message: str
    message_zh: str

    def dump(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "step": self.step,
                "message": self.message, "message_zh": self.message_zh}


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> list[dict[str, Any]]:
    """What changed between two dumped definitions, as path / before / after entries."""
    changes: list[dict[str, Any]] = []
    _diff(old or {}, new, "", changes)
    return changes


def _diff(old: Any, new: Any, path: str, out: list[dict[str, Any]]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            _diff(old.get(key), new.get(key), f"{path}.{key}" if path else str(key), out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(a, b, f"{path}[{i}]", out)
    elif old != new:
        out.append({"path": path, "before": old, "after": new})
