"""The enabled rules, parsed and compiled once, and matching an event against them.

The book reloads itself when the rules change (checked at most every ``refresh_seconds``, and
at once in the process that changed them). Matching evaluates only the rules whose trigger
accepts the event, all in one call to the expression engine.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from orderpilot.domain.currency_rates import CurrencyRates
from orderpilot.domain.decision_tables import TableResult
from orderpilot.domain.rules.actions import ActionType, Checks
from orderpilot.domain.rules.definition import RuleDefinition, parse_definition
from orderpilot.services.repositories import RulesGeneration
from orderpilot.services.rules import money
from orderpilot.services.unit_of_work import UnitOfWork


class Expressions(Protocol):
    def check(self, expression: str) -> str | None: ...
    def check_syntax(self, expression: str) -> str | None: ...
    def evaluate(self, expression: str, context: dict[str, object]) -> object: ...
    # one value per expression, or the exception that expression raised
    def evaluate_all(self, expressions: list[str], context: dict[str, object]) -> list[object]: ...
    def render(self, template: str, context: dict[str, object]) -> object: ...


log = structlog.get_logger("orderpilot.rules")
TableLookup = Callable[[str, dict[str, object]], TableResult]  # (name, context)


@dataclass(frozen=True)
class ActiveRule:
    id: str
    key: str
    name: str
    version: int
    definition: RuleDefinition


@dataclass
class Matched:
    rule: ActiveRule
    trace: dict[str, object]


@dataclass
class Evaluation:
    """The rules that matched, and those whose evaluation failed (with why): each failure is
    a strike against its rule (services/rules/strikes.py)."""

    matched: list[Matched]
    failed: list[tuple[ActiveRule, str]]


def loading_checks(engine: Expressions, actions: Mapping[str, ActionType]) -> Checks:
    """Checks for stored versions: already validated when published. The expressions' cost is
    not checked here but when they are evaluated, so a stored rule beyond today's limits still
    loads, fails at evaluation and is paused by its strikes, without stopping the others."""
    return Checks({}, {}, lambda _url: None, engine.check_syntax, strict=False,
                  actions=actions)


@dataclass
class RuleBook:
    engine: Expressions
    tables: TableLookup | None = None
    refresh_seconds: float = 1.0
    by_event: dict[str, list[ActiveRule]] = field(default_factory=dict)
    timeouts_by_start: dict[str, list[ActiveRule]] = field(default_factory=dict)
    timeouts_by_unless: dict[str, list[ActiveRule]] = field(default_factory=dict)
    schedules: list[ActiveRule] = field(default_factory=list)
    _generation: RulesGeneration | None = None
    _checked_at: float = -1e9
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _versions: dict[tuple[str, int], RuleDefinition] = field(default_factory=dict)
    # The hub's actions by id (its action table's types): what a stored step may be.
    actions: Mapping[str, ActionType] = field(kw_only=True)
    # The administrator's exchange rates, for amounts compared in a stated currency.
    rates: CurrencyRates = field(default_factory=CurrencyRates, kw_only=True)

    def invalidate(self) -> None:
        self._checked_at = -1e9

    def refresh(self, uow: UnitOfWork) -> None:
        if time.monotonic() - self._checked_at < self.refresh_seconds:
            return
        generation = uow.rules.generation()
        if generation == self._generation:
            self._checked_at = time.monotonic()
            return
        rows = uow.rules.active()
        by_event: dict[str, list[ActiveRule]] = defaultdict(list)
        starts: dict[str, list[ActiveRule]] = defaultdict(list)
        unless: dict[str, list[ActiveRule]] = defaultdict(list)
        schedules = []
        for row in rows:
            try:
                definition = self.definition(row.id, row.published_version, row.definition)
            except Exception as error:  # one unreadable stored rule must not stop the others
                log.error("rule_unloadable", rule=row.key, version=row.published_version,
                          error=str(error))
                continue
            rule = ActiveRule(row.id, row.key, row.name, row.published_version, definition)
            trigger = rule.definition.trigger
            if trigger.kind == "event":
                by_event[str(trigger.event)].append(rule)
            elif trigger.kind == "timeout":
                starts[str(trigger.event)].append(rule)
                unless[str(trigger.unless)].append(rule)
            else:
                schedules.append(rule)
        with self._lock:
            self.by_event, self.timeouts_by_start = dict(by_event), dict(starts)
            self.timeouts_by_unless, self.schedules = dict(unless), schedules
            self._generation, self._checked_at = generation, time.monotonic()

    def definition(self, rule_id: str, version: int, raw: dict[str, object]) -> RuleDefinition:
        """A stored version, parsed once (versions never change)."""
        key = (rule_id, version)
        found = self._versions.get(key)
        if found is None:
            found = parse_definition(raw, loading_checks(self.engine, self.actions))
            self._versions[key] = found
        return found

    def cached_definition(self, rule_id: str, version: int) -> RuleDefinition | None:
        return self._versions.get((rule_id, version))

    def candidates(self, event_type: str) -> list[ActiveRule]:
        return self.by_event.get(event_type, [])

    def match(self, rules: list[ActiveRule], context: dict[str, object]) -> list[Matched]:
        """The rules whose conditions hold on ``context``, each with its trace."""
        return self.evaluate(rules, context).matched

    def matching(self, rules: list[ActiveRule], context: dict[str, object]) -> list[ActiveRule]:
        """The rules whose conditions hold, without traces: one engine call for all."""
        return [rule for rule, value in self._conditions(rules, context)[0] if value is True]

    def evaluate(self, rules: list[ActiveRule], context: dict[str, object]) -> Evaluation:
        """Match, keeping apart each rule whose evaluation failed, with why."""
        values, failed = self._conditions(rules, context)
        return Evaluation([Matched(rule, self.trace(rule.definition, context))
                           for rule, value in values if value is True], failed)

    def _conditions(self, rules: list[ActiveRule], context: dict[str, object]
                    ) -> tuple[list[tuple[ActiveRule, object]], list[tuple[ActiveRule, str]]]:
        failed: list[tuple[ActiveRule, str]] = []
        usable = rules
        if any(r.definition.reads_lookups for r in rules):
            usable = []
            for rule in rules:  # a refused or failing decision table fails only its rules
                try:
                    if rule.definition.reads_lookups:
                        self.add_tables([rule], context)
                    usable.append(rule)
                except Exception as error:
                    failed.append((rule, f"decision table: {error}"))
        # the texts are built once per parsed version, and the engine compiles the candidates'
        # list once, so an event costs one evaluation and no text building
        values = self.engine.evaluate_all([r.definition.condition_expression for r in usable],
                                          context)
        evaluated = []
        for rule, value in zip(usable, values, strict=True):
            if isinstance(value, Exception):  # e.g. an advanced expression on odd data
                log.warning("rule_condition_failed", rule=rule.key, version=rule.version,
                            event_id=_event_id(context), error=str(value))
                failed.append((rule, str(value)))
            else:
                evaluated.append((rule, value))
        return evaluated, failed

    def add_tables(self, rules: list[ActiveRule], context: dict[str, object]) -> None:
        """What the rules read beyond the order: converted amounts, decision tables."""
        money.add_money(self.rates, (r.definition for r in rules), context)
        names = set().union(*(r.definition.tables_used() for r in rules))
        if not names or self.tables is None:
            return
        tables = _object_at(context, "tables")
        matches = _object_at(context, "_table_rows")
        for name in sorted(names - set(tables)):
            result = self.tables(name, context)
            tables[name] = result.output
            matches[name] = {"version": result.version, "rows": result.matched}

    def trace(self, definition: RuleDefinition, context: dict[str, object]) -> dict[str, object]:
        """Each condition leaf with the value it saw and its result (green/grey)."""
        leaves = list(definition.conditions.leaves())
        values = self.engine.evaluate_all(list(definition.trace_expressions), context)
        out = []
        for i, leaf in enumerate(leaves):
            result, actual = values[2 * i], values[2 * i + 1]
            entry = {"where": leaf.where, "field": leaf.field.path, "op": leaf.op,
                     "value": leaf.value, "actual": _plain(actual), "result": result is True}
            if leaf.currency:
                entry.update(money.explain(leaf.currency, context))
            out.append(entry)
        trace: dict[str, object] = {"leaves": out}
        if definition.expression:
            trace["expression"] = {"text": definition.expression,
                                   "result": values[-1] is True}
        if context.get("_table_rows"):
            trace["tables"] = context["_table_rows"]
        return trace


def _event_id(context: dict[str, object]) -> object:
    event = context.get("event")
    return event.get("id") if isinstance(event, dict) else None


def _object_at(context: dict[str, object], key: str) -> dict[str, object]:
    """The object under ``key``, made empty if missing."""
    found = context.setdefault(key, {})
    if not isinstance(found, dict):
        raise TypeError(f"the rule context's {key} is not an object")
    return found


def _plain(value: object) -> object:
    if isinstance(value, Exception):
        return f"error: {value}"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
