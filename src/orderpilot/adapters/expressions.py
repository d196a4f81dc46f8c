"""The expression engine behind the rules: GoRules ZEN, a sandboxed language with no access to
Python, the file system or the network. Compiled expressions are cached by their text.

Rules are matched in one call per event: the candidate rules' expressions are joined into one
list expression, compiled once per list of texts (the rule book passes the same texts, built
once per rule version, event after event), so the context crosses from Python into the engine
once instead of once per rule and nothing is parsed or compiled per event. If that combined
call fails (one rule's expression errs on this context), each rule is evaluated on its own so
one bad rule cannot hide the others.

Every expression passes the static cost guard (adapters/expression_limits.py) before zen compiles
it, here as well as when a rule is saved: a rule stored before the guard existed, or written into
the database by hand, is refused when it would run instead of taking the process down. Each
evaluation is timed; one slower than the budget twice in a row (a single slow one may be the
machine pausing) counts as a failure (ExpressionTooSlow), which the rule book turns into a
strike against the rule.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Sequence
from typing import Any

import zen

from orderpilot.adapters.expression_limits import check_cost, check_template
from orderpilot.domain.errors import ExpressionError, ExpressionTooCostly, ExpressionTooSlow

__all__ = ["ExpressionEngine", "ExpressionError", "ExpressionTooCostly", "ExpressionTooSlow"]

DEFAULT_BUDGET_SECONDS = 0.25


@functools.lru_cache(maxsize=20_000)
def _cost_problem(expression: str, unary: bool = False) -> str | None:
    try:
        check_cost(expression, unary=unary)
    except ExpressionTooCostly as error:
        return str(error)
    return None


def cost_problem(expression: str, *, unary: bool = False) -> str | None:
    """Why the expression is too costly to run, or None (cached by text)."""
    return _cost_problem(expression, unary)


@functools.lru_cache(maxsize=20_000)
def template_problem(template: str) -> str | None:
    """Why a template's placeholders are too costly to run, or None."""
    try:
        check_template(template)
    except ExpressionTooCostly as error:
        return str(error)
    return None


def _message(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    try:
        parsed = json.loads(text)
        return str(parsed.get("source") or parsed.get("type") or text)
    except ValueError:
        return text


class ExpressionEngine:
    def __init__(self, budget_seconds: float = DEFAULT_BUDGET_SECONDS) -> None:
        self._lock = threading.Lock()
        self.budget_seconds = budget_seconds

    def check(self, expression: str) -> str | None:
        """A message when the expression does not parse or is too costly, else None."""
        if not expression.strip():
            return "the expression is empty"
        return cost_problem(expression) or self.check_syntax(expression)

    def check_syntax(self, expression: str) -> str | None:
        """A message when the expression does not parse (the cost is not looked at: stored
        versions load with this, and are refused when they would run)."""
        try:
            problem = zen.validate_expression(expression)
        except Exception as error:  # the engine raises on some malformed input
            return _message(error)
        if problem:
            return f"{problem.get('type', 'error')}: {problem.get('source', '')}"
        return None

    def compiled(self, expression: str) -> Any:
        problem = cost_problem(expression)
        if problem:
            raise ExpressionError(problem)
        return self._compile(expression)

    @functools.lru_cache(maxsize=20_000)  # noqa: B019 - one engine per hub, cache lives with it
    def _compile(self, expression: str) -> Any:
        """Compile without the guard (compiled() applies it)."""
        try:
            return zen.compile_expression(expression)
        except Exception as error:
            raise ExpressionError(_message(error)) from error

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - as _compile
    def _combined(self, expressions: tuple[str, ...]) -> Any | None:
        """The expressions joined into one list expression and compiled, once per list (the
        rule book asks with the same candidates' texts event after event); None when one of
        them does not pass the guard or the list does not compile, so each is tried alone."""
        if any(cost_problem(e) for e in expressions):
            return None  # each part passed the guard: together they cost their sum
        try:
            return zen.compile_expression("[" + ", ".join(expressions) + "]")
        except Exception:
            return None

    def evaluate(self, expression: str, context: dict[str, Any]) -> Any:
        compiled = self.compiled(expression)
        try:
            return self._timed(compiled, context)
        except ExpressionTooSlow:  # once more: a pause of the machine is not the rule's fault
            return self._timed(compiled, context)

    def _timed(self, compiled: Any, context: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            value = compiled.evaluate(context)
        except Exception as error:
            raise ExpressionError(_message(error)) from error
        self._within_budget(started)
        return value

    def _within_budget(self, started: float) -> None:
        took = time.perf_counter() - started
        if took > self.budget_seconds:
            raise ExpressionTooSlow(f"the evaluation took {took * 1000:.0f} ms; the budget is "
                                    f"{self.budget_seconds * 1000:.0f} ms")

    def evaluate_all(self, expressions: Sequence[str], context: dict[str, Any]) -> list[Any]:
        """Each expression's value (an ExpressionError instance where one failed)."""
        if not expressions:
            return []
        combined = self._combined(tuple(expressions)) if len(expressions) > 1 else None
        if combined is not None:
            try:
                result = self._timed(combined, context)
                if isinstance(result, list) and len(result) == len(expressions):
                    return result
            except ExpressionError:
                pass  # one at a time below, so the slow or failing one is the one blamed
        values: list[Any] = []
        for expression in expressions:
            try:
                values.append(self.evaluate(expression, context))
            except ExpressionError as error:
                values.append(error)
        return values

    def render(self, template: str, context: dict[str, Any]) -> Any:
        """Fill ``{{ expression }}`` placeholders. A template that is one placeholder keeps the
        value's type (a number stays a number); otherwise the result is text."""
        if "{{" not in template:
            return template
        problem = template_problem(template)
        if problem:
            raise ExpressionError(f"{template!r}: {problem}")
        try:
            return self._rendered(template, context)
        except ExpressionTooSlow:  # once more, as evaluate()
            return self._rendered(template, context)

    def _rendered(self, template: str, context: dict[str, Any]) -> Any:
        started = time.perf_counter()
        try:
            value = zen.render_template(template, context)
        except Exception as error:
            raise ExpressionError(f"{template!r}: {_message(error)}") from error
        self._within_budget(started)
        return value
