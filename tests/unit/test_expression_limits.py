"""The static cost guard in front of zen (issue 8): the expressions that took the hub down are
refused before the engine sees them, at every entry (check, compile, evaluate, render, combined
matching, decision-table cells), and the rules people really write still pass."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from orderpilot.adapters.decision_tables import TableEngine, ZenExpressionChecker
from orderpilot.adapters.expression_limits import (
    MAX_RANGE,
    ExpressionTooCostly,
    check_cost,
    check_template,
)
from orderpilot.adapters.expressions import ExpressionEngine, ExpressionError, ExpressionTooSlow
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.rules.actions import Checks
from orderpilot.domain.rules.definition import parse_definition
from orderpilot.domain.rules.problems import RuleInvalid
from orderpilot.services.rules import context as rule_context
from orderpilot.services.rules.actions import ActionTable

ABORTS = "len(map([0..1000000000], #)) > 0"  # asked zen for 32 GB: the process aborted
STALLS = "len(map([0..20000000], #)) > 0"  # 5-6 s holding the GIL

REAL_RULES = [
    "order.total > 500 and order.channel == 'youzan'",
    "some(order.lines, #.quantity >= 10)",
    "count(order.lines, startsWith(#.sku, 'BND-')) > 0",
    "some(order.lines, some(order.customer.tags, # == 'vip'))",
    "order.address.city in ['宁波', '杭州'] and order.total in [100..100000000]",
    "len(map([1..31], #)) == 31",
    "now.hour in [9..18) and now.weekday in [1..5]",
    "`${order.channel}-${order.shop_id}` == 'youzan-yz-main'",
    "count(order.lines, matches(#.sku, '^A[0-9]+$')) > 2",
    "d(order.placed_at).add(1, 'd') > d(now.iso)",
    "order.customer.name ?? 'unknown' != ''",
]


@pytest.mark.parametrize("expression", REAL_RULES)
def test_what_rules_really_say_passes(expression: str) -> None:
    check_cost(expression)
    assert ExpressionEngine().check(expression) is None


@pytest.mark.parametrize(("expression", "says"), [
    (ABORTS, "has 1000000001 elements; at most 10000"),
    (STALLS, "at most 10000"),
    ("len(map([0..1e9], #)) > 0", "whole-number bounds"),
    ("len(map([0..order.total], #)) > 0", "bounds must be number literals"),
    ("x in [a..b]", "bounds must be number literals"),
    ("len(map([0..9999], map([0..9999], #))) > 0", "more than 50000 steps"),
    ("len(flatMap([0..999], [0..999])) > 0", "more than 50000 steps"),
    ("len(map(flatMap([0..999], [0..999]), #)) > 0", "more than 50000 steps"),
    ("count(order.lines, some(order.lines, some(order.lines, #.quantity > 5))) > 0",
     "more than 50000 steps"),
    ("some([1], some([1], some([1], some([1], true))))", "nest more than 3 deep"),
    ("len(map([0..5000], matches(order.note, 'x+'))) > 0", "more than 50000 steps"),
    ("a = 'xx'; b = a + a; c = b + b; len(c) > 0", "assignments"),
    ("(" * 40 + "1" + ")" * 40, "nest more than 32 deep"),
    ("1 + " * 30_000 + "1", "characters long"),
    ("'unclosed", "not closed"),
    ("`${map([0..100000000], #)}` == ''", "at most 10000"),
    ("fuzzyMatch(order.customer.name, 'x') > 0.5", "square of the texts' length"),
    ("count([0..5000], len(split(event.data.note, '')) > 0) > 0", "more than 50000 steps"),
])
def test_costly_expressions_are_refused_with_a_reason(expression: str, says: str) -> None:
    with pytest.raises(ExpressionTooCostly, match=says.replace("(", r"\(")):
        check_cost(expression)
    problem = ExpressionEngine().check(expression)
    assert problem is not None and says in problem


def test_a_range_after_in_is_a_comparison_and_may_be_wide() -> None:
    check_cost("order.total in [0..1000000000]")
    check_cost("order.total not in (0..1000000000]")
    with pytest.raises(ExpressionTooCostly):
        check_cost("[0..1000000000] == order.total")  # not after `in`: could be iterated


def test_the_runtime_guard_refuses_before_zen_sees_the_expression() -> None:
    """A rule stored before the guard (or by hand) is refused when it would run: no abort,
    no multi-second GIL hold."""
    engine = ExpressionEngine()
    started = time.perf_counter()
    for call in (lambda: engine.compiled(ABORTS), lambda: engine.evaluate(ABORTS, {}),
                 lambda: engine.evaluate(STALLS, {}),
                 lambda: engine.render("{{ " + ABORTS + " }}", {})):
        with pytest.raises(ExpressionError, match="at most 10000"):
            call()
    assert time.perf_counter() - started < 0.5


def test_combined_matching_keeps_the_good_rules_and_refuses_the_poison_one() -> None:
    engine = ExpressionEngine()
    context = {"order": {"total": 800}}
    values = engine.evaluate_all(["order.total > 500", ABORTS, "order.total > 1000"], context)
    assert values[0] is True and values[2] is False
    assert isinstance(values[1], ExpressionError) and "at most 10000" in str(values[1])


def test_an_evaluation_over_the_budget_is_a_failure() -> None:
    slow_but_allowed = "len(map([0..9999], # + 1)) > 0"
    check_cost(slow_but_allowed)
    engine = ExpressionEngine(budget_seconds=1e-6)
    with pytest.raises(ExpressionTooSlow, match="budget"):
        engine.evaluate(slow_but_allowed, {})
    [value] = engine.evaluate_all([slow_but_allowed], {})
    assert isinstance(value, ExpressionTooSlow)
    with pytest.raises(ExpressionTooSlow):
        engine.render("{{ " + slow_but_allowed + " }}", {})
    assert ExpressionEngine().evaluate(slow_but_allowed, {}) is True


def test_templates_are_checked_placeholder_by_placeholder() -> None:
    check_template("您好 {{ order.customer.name }}, {{ len(order.lines) }} 件")
    with pytest.raises(ExpressionTooCostly):
        check_template("hi {{ order.id }} {{ " + ABORTS + " }}")
    with pytest.raises(ExpressionTooCostly, match="not closed"):
        check_template("hi {{ order.id")


def test_decision_table_cells_are_checked_as_unary_tests() -> None:
    checker = ZenExpressionChecker()
    assert checker.condition_error("[1..1000000000]") is None  # `$ in [1..1000000000]`
    assert checker.condition_error("> 5, [1..10]") is None
    problem = checker.condition_error("len(map([0..1000000000], #)) > 0")
    assert problem is not None and f"at most {MAX_RANGE}" in problem
    problem = checker.value_error("len(map([0..1000000000], #))")
    assert problem is not None and f"at most {MAX_RANGE}" in problem


def test_a_stored_decision_table_with_a_costly_cell_is_refused_not_evaluated() -> None:
    jdm = {"contentType": "application/vnd.gorules.decision", "edges": [
        {"id": "e1", "sourceId": "request", "targetId": "table", "type": "edge"},
        {"id": "e2", "sourceId": "table", "targetId": "response", "type": "edge"}],
        "nodes": [
        {"id": "request", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
        {"id": "table", "type": "decisionTableNode", "name": "t", "position": {"x": 1, "y": 0},
         "content": {"hitPolicy": "first", "inputs": [{"id": "in1", "field": "x", "name": "x"}],
                     "outputs": [{"id": "out1", "field": "y", "name": "y"}],
                     "rules": [{"_id": "r1", "in1": "",
                                "out1": "len(map([0..1000000000], #))"}]}},
        {"id": "response", "type": "outputNode", "name": "response",
         "position": {"x": 2, "y": 0}}]}
    with pytest.raises(InvalidInput, match="row 1, column out1: .*at most 10000"):
        TableEngine().evaluate("t", 1, {"jdm": jdm}, {"x": 1})


def test_a_rule_sees_an_events_payload_bounded() -> None:
    """Per-step cost grows with the texts and lists walked; a 1 MiB text or a 100,000-item
    list from a reporting system is cut before any rule sees it."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    deep: dict[str, object] = {}
    cursor = deep
    for _ in range(20):
        cursor["in"] = {}
        cursor = cursor["in"]  # type: ignore[assignment]
    event = OrderEvent("o1", "order.placed", "wms", now, now,
                       {"data": {"note": "x" * 1_000_000, "xs": list(range(100_000)),
                                 "deep": deep, "code": "SZ01"}})
    seen = rule_context.event_context(event)
    assert len(seen["data"]["note"]) == rule_context.MAX_TEXT
    assert len(seen["data"]["xs"]) == rule_context.MAX_ITEMS
    assert seen["data"]["code"] == "SZ01"
    depth, node = 0, seen["data"]["deep"]
    while isinstance(node, dict) and node.get("in") is not None:
        depth, node = depth + 1, node["in"]
    assert depth < rule_context.MAX_DEPTH
    engine = ExpressionEngine()
    started = time.perf_counter()
    assert engine.evaluate("some(event.data.xs, some(event.data.xs, # == -1))",
                           {"event": seen}) is False
    assert time.perf_counter() - started < 2


def test_saving_checks_the_condition_text_that_will_run() -> None:
    """The advanced expression is ANDed with the conditions when it runs: an expression just
    within the nesting limit alone is beyond it there, so saving refuses it instead of the
    rule being paused later."""
    deepest = max(n for n in range(1, 40)
                  if ExpressionEngine().check("(" * n + "order.total > 1" + ")" * n) is None)
    expression = "(" * deepest + "order.total > 1" + ")" * deepest
    raw = {"name": "r", "trigger": {"kind": "event", "event": "order.placed"},
           "conditions": {"all": [{"field": "order.total", "op": "gt", "value": 1}]},
           "expression": expression,
           "actions": [{"id": "t", "type": "order.tag", "params": {"tags": ["x"]},
                        "if": {"all": [{"field": "order.total", "op": "gt", "value": 1}]}}]}
    checks = Checks({}, {}, lambda _url: None, ExpressionEngine().check,
                    actions=ActionTable().types())
    with pytest.raises(RuleInvalid) as caught:
        parse_definition(raw, checks)
    [problem] = caught.value.problems
    assert problem.field == "expression" and "nest more than 32 deep" in problem.message
    raw["expression"] = "order.total > 2"
    definition = parse_definition(raw, checks)
    assert ExpressionEngine().check(definition.condition_expression) is None


def test_one_slow_evaluation_is_tried_again_before_it_counts() -> None:
    """A pause of the machine (GC, a busy core) must not strike a healthy rule."""

    class PausesOnce:
        calls = 0

        def evaluate(self, context: dict[str, object]) -> bool:
            PausesOnce.calls += 1
            if PausesOnce.calls == 1:
                time.sleep(0.05)
            return True

    engine = ExpressionEngine(budget_seconds=0.02)
    engine.compiled = lambda expression: PausesOnce()  # type: ignore[method-assign]
    assert engine.evaluate("order.total > 1", {}) is True
    assert PausesOnce.calls == 2
