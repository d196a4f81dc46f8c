"""The expression engine behind the rules: GoRules ZEN, a sandboxed language with no access to
Python, the file system or the network. Compiled expressions are cached by their text.

Rules are matched in one call per event: the candidate rules' expressions are joined into one
list expression, so the context crosses from Python into the engine once instead of once per
rule. If that combined call fails (one rule's expression errs on this context), each rule is
evaluated on its own so one bad rule cannot hide the others.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from typing import Any

import zen


class ExpressionError(Exception):
    """The engine refused an expression or failed evaluating it."""


def _message(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    try:
        parsed = json.loads(text)
        return str(parsed.get("source") or parsed.get("type") or text)
    except ValueError:
        return text


class ExpressionEngine:
    def __init__(self) -> None:
        self._lock = threading.Lock()

    def check(self, expression: str) -> str | None:
        """A message when the expression does not parse, else None."""
        if not expression.strip():
            return "the expression is empty"
        try:
            problem = zen.validate_expression(expression)
        except Exception as error:  # the engine raises on some malformed input
            return _message(error)
        if problem:
            return f"{problem.get('type', 'error')}: {problem.get('source', '')}"
        return None

    @functools.lru_cache(maxsize=20_000)  # noqa: B019 - one engine per hub, cache lives with it
    def compiled(self, expression: str) -> Any:
        try:
            return zen.compile_expression(expression)
        except Exception as error:
            raise ExpressionError(_message(error)) from error

    def evaluate(self, expression: str, context: dict[str, Any]) -> Any:
        try:
            return self.compiled(expression).evaluate(context)
        except ExpressionError:
            raise
        except Exception as error:
            raise ExpressionError(_message(error)) from error

    def evaluate_all(self, expressions: Sequence[str], context: dict[str, Any]) -> list[Any]:
        """Each expression's value (an ExpressionError instance where one failed)."""
        if not expressions:
            return []
        if len(expressions) > 1:
            try:
                result = self.evaluate("[" + ", ".join(expressions) + "]", context)
                if isinstance(result, list) and len(result) == len(expressions):
                    return result
            except ExpressionError:
                pass
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
        try:
            return zen.render_template(template, context)
        except Exception as error:
            raise ExpressionError(f"{template!r}: {_message(error)}") from error
