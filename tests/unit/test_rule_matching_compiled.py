"""Matching an event compiles nothing: each rule version's condition text is built once and
the candidates' list is compiled once, however many events follow; a failing rule is still
blamed alone."""

from __future__ import annotations

from typing import Any

import pytest
import zen

from orderpilot.adapters.expressions import ExpressionEngine
from orderpilot.domain.rules import conditions
from orderpilot.domain.rules.actions import Checks
from orderpilot.domain.rules.definition import parse_definition
from orderpilot.services.rules.actions import ActionTable
from orderpilot.services.rules.book import ActiveRule, RuleBook

ACTIONS = ActionTable()


def active(n: int, conditions: dict[str, Any], expression: str | None = None) -> ActiveRule:
    engine = ExpressionEngine()
    raw: dict[str, Any] = {"name": f"r{n}", "trigger": {"kind": "event",
                                                         "event": "payment.succeeded"},
                           "conditions": conditions,
                           "actions": [{"id": "t", "type": "order.tag",
                                        "params": {"tags": ["x"]}}]}
    if expression:
        raw["expression"] = expression
    checks = Checks({}, {}, lambda _url: None, engine.check, actions=ACTIONS.types())
    return ActiveRule(f"id-{n}", f"key-{n}", f"r{n}", 1, parse_definition(raw, checks))


def context(total: float, channel: str = "youzan") -> dict[str, object]:
    return {"order": {"total": total, "channel": channel, "skus": ["MILK-900"]},
            "event": {"id": "e1"}}


def test_events_after_the_first_build_and_compile_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    book = RuleBook(ExpressionEngine(), actions=ACTIONS.types())
    rules = [active(i, {"all": [{"field": "order.total", "op": "gt", "value": 100 * i},
                                {"field": "order.channel", "op": "in",
                                 "value": ["youzan", "shopee"]}]}) for i in range(5)]
    assert [r.key for r in book.matching(rules, context(250))] == ["key-0", "key-1", "key-2"]
    compiled: list[str] = []
    built: list[object] = []
    compile_expression, leaf_expression = zen.compile_expression, conditions._leaf_expression

    def compiling(text: str) -> Any:
        compiled.append(text)
        return compile_expression(text)

    def building(leaf: Any) -> str:
        built.append(leaf)
        return leaf_expression(leaf)

    monkeypatch.setattr(zen, "compile_expression", compiling)
    monkeypatch.setattr(conditions, "_leaf_expression", building)
    for total in (50, 150, 450, 999):
        wanted = [f"key-{i}" for i in range(5) if total > 100 * i]
        # a fresh list each event, as the triggers filter the candidates by source
        assert [r.key for r in book.matching(list(rules), context(total))] == wanted
    assert book.matching(rules, context(500, "lazada")) == []
    assert compiled == [] and built == []


def test_a_rule_that_fails_on_the_context_is_blamed_alone() -> None:
    book = RuleBook(ExpressionEngine(), actions=ACTIONS.types())
    rules = [active(0, {"all": [{"field": "order.total", "op": "gt", "value": 10}]}),
             active(1, {"all": []}, expression="order.skus[0] + 1 > 0"),
             active(2, {"all": [{"field": "order.total", "op": "lt", "value": 10}]})]
    for _ in range(2):  # the second time from the cached compilation
        evaluation = book.evaluate(rules, context(20))
        assert [m.rule.key for m in evaluation.matched] == ["key-0"]
        assert [rule.key for rule, _why in evaluation.failed] == ["key-1"]
