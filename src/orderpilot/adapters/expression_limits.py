"""A static guard in front of the expression engine: what an expression could cost, decided
from its text before zen ever sees it.

zen holds the GIL for a whole evaluation and allocates without a ceiling: iterating
``[0..1000000000]`` asks for 32 GB and aborts the process. It cannot be interrupted, so the only
safe place to stop an expensive expression is before it runs. The guard tokenises the text,
matches brackets, and estimates the work:

- a range ``[a..b]`` / ``(a..b)`` / ``[a..b)`` needs number literals as bounds; a range that can be
  iterated (anywhere but right after ``in``) needs integer bounds and at most ``MAX_RANGE``
  elements. ``x in [1..1000000]`` is a comparison and may be as wide as it likes;
- a closure (``map``, ``filter``, ``some``, ``all``, ``none``, ``one``, ``count``, ``flatMap``) runs
  its body once per element of its first argument: the ranges there, or ``ASSUMED_COLLECTION``
  elements for a list from the order (lines, tags...). Nested closures multiply; a regular
  expression or ``split`` call weighs ``EXPENSIVE_CALL`` steps; ``fuzzyMatch`` (quadratic in
  its texts) is refused. The sum over the expression is at most
  ``MAX_WORK`` steps, and closures nest at most ``MAX_CLOSURE_NESTING`` deep;
- assignments (``a = ...; b = a + a``) are refused: each doubling is a few characters;
- at most ``MAX_LENGTH`` characters and ``MAX_NESTING`` levels of brackets.

Measured (zen 2.1, one core): 50,000 plain steps take 5-250 ms depending on the body; a rule's
conditions over order lines estimate at 100 steps, two nested closures at 10,000. The cost of
one step also grows with the texts and lists it touches; those are bounded by the order's
intake limits (texts of at most 200 characters, 500 lines) and, for event payloads, by
services/rules/context.py (texts of 4,000 characters, 500 items, 8 levels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from orderpilot.domain.errors import ExpressionTooCostly

__all__ = ["ExpressionTooCostly", "check_cost", "check_template"]

MAX_LENGTH = 100_000  # a rule's 200 conditions compile to one text; a person writes 4,000
MAX_NESTING = 32
MAX_RANGE = 10_000
MAX_WORK = 50_000
MAX_CLOSURE_NESTING = 3
ASSUMED_COLLECTION = 100
EXPENSIVE_CALL = 20

CLOSURES = frozenset({"map", "filter", "some", "all", "none", "one", "count", "flatMap"})
EXPENSIVE = frozenset({"matches", "extract", "split"})  # a regex compiled, or a list made
# fuzzyMatch compares every character of one text with every one of the other: quadratic in
# the texts' length (16,000 characters: 3.3 s holding the GIL)
REFUSED = {"fuzzyMatch": "fuzzyMatch is not available in rules: its cost grows with the square "
                         "of the texts' length"}
PAIRS = {"(": ")", "[": "]", "{": "}", "${": "}"}

_NUMBER = re.compile(r"\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"\d[\d_]*")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_OPERATORS = ("..", "==", "!=", ">=", "<=", "??", "?.", "&&", "||")


@dataclass
class _Group:
    open: str
    args: list[list[_Node]] = field(default_factory=lambda: [[]])
    is_range: bool = False


_Node = str | _Group


def check_cost(expression: str, *, unary: bool = False) -> None:
    """Raise ExpressionTooCostly when ``expression`` is beyond the limits. ``unary`` is a
    decision-table input cell, where a leading range (``[1..10]``) is a membership test."""
    if len(expression) > MAX_LENGTH:
        raise ExpressionTooCostly(f"the expression is {len(expression)} characters long; "
                                  f"at most {MAX_LENGTH}")
    tree = _parse(_tokens(expression))
    work = _Work()
    work.walk(tree, multiplier=1, closures=0, unary=unary)


def check_template(template: str) -> None:
    """Each ``{{ expression }}`` of a template, as check_cost."""
    if len(template) > MAX_LENGTH:
        raise ExpressionTooCostly(f"the template is {len(template)} characters long; "
                                  f"at most {MAX_LENGTH}")
    rest = template
    while "{{" in rest:
        start = rest.index("{{") + 2
        end = rest.find("}}", start)
        if end < 0:
            raise ExpressionTooCostly("a {{ placeholder is not closed with }}")
        check_cost(rest[start:end])
        rest = rest[end + 2:]


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    modes = ["code"]  # "code", or "template" inside `...` (a `${` re-enters code)
    braces = [0]
    i, n = 0, len(text)
    while i < n:
        if modes[-1] == "template":
            if text.startswith("${", i):
                tokens.append("${")
                modes.append("code")
                braces.append(0)
                i += 2
            elif text[i] == "`":
                modes.pop()
                braces.pop()
                tokens.append("'…'")
                i += 1
            else:
                i += 1
            continue
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise ExpressionTooCostly(f"a text in quotes is not closed (at character {i})")
            tokens.append("'…'")
            i = end + 1
        elif ch == "`":
            modes.append("template")
            braces.append(0)
            i += 1
        elif ch.isdigit():
            match = _NUMBER.match(text, i)
            assert match is not None
            tokens.append(match.group())
            i = match.end()
        elif _NAME.match(text, i):
            match = _NAME.match(text, i)
            assert match is not None
            tokens.append(match.group())
            i = match.end()
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), ch)
            if op == "{":
                braces[-1] += 1
            elif op == "}" and len(modes) > 1 and braces[-1] == 0:
                modes.pop()  # the end of a ${...} inside a template text
                braces.pop()
            elif op == "}":
                braces[-1] -= 1
            tokens.append(op)
            i += len(op)
    if len(modes) > 1:
        raise ExpressionTooCostly("a `template` text is not closed")
    return tokens


def _parse(tokens: list[str]) -> list[_Node]:
    root = _Group("")
    stack = [root]
    for token in tokens:
        top = stack[-1]
        if token in ("=", ";"):
            raise ExpressionTooCostly("assignments and ';' are not allowed in rule expressions")
        if token in PAIRS:
            if len(stack) > MAX_NESTING:
                raise ExpressionTooCostly(f"brackets nest more than {MAX_NESTING} deep")
            group = _Group(token)
            top.args[-1].append(group)
            stack.append(group)
        elif token in (")", "]", "}"):
            if top is root or not _closes(top, token):
                raise ExpressionTooCostly(f"unbalanced {token!r}")
            stack.pop()
        elif token == "," and top is not root:
            top.args.append([])
        elif token == ".." and top.open in ("[", "(") and len(top.args) == 1:
            top.is_range = True
            top.args[-1].append(token)
        else:
            top.args[-1].append(token)
    if len(stack) > 1:
        raise ExpressionTooCostly(f"unbalanced {stack[-1].open!r}")
    return [node for arg in root.args for node in arg]


def _closes(group: _Group, token: str) -> bool:
    if group.is_range:  # [a..b) and (a..b] are ranges too
        return token in (")", "]")
    return PAIRS[group.open] == token


def _range_size(group: _Group, *, membership: bool) -> int:
    body = group.args[0]
    cut = body.index("..")
    bounds = [_literal(body[:cut]), _literal(body[cut + 1:])]
    if None in bounds:
        raise ExpressionTooCostly("a range's bounds must be number literals, e.g. [1..10]")
    if membership:
        return 1
    low, high = (str(b) for b in bounds)
    if not all(_INTEGER.fullmatch(b.lstrip("-")) for b in (low, high)):
        raise ExpressionTooCostly(f"a range that is iterated needs whole-number bounds "
                                  f"([{low}..{high}])")
    size = max(0, int(high.replace("_", "")) - int(low.replace("_", "")) + 1)
    if size > MAX_RANGE:
        raise ExpressionTooCostly(f"the range [{low}..{high}] has {size} elements; "
                                  f"at most {MAX_RANGE}")
    return size


def _literal(tokens: list[_Node]) -> str | None:
    if len(tokens) == 2 and tokens[0] == "-" and isinstance(tokens[1], str):
        inner = _literal(tokens[1:])
        return None if inner is None else "-" + inner
    if len(tokens) == 1 and isinstance(tokens[0], str) and _NUMBER.fullmatch(tokens[0]):
        return tokens[0]
    return None


class _Work:
    def __init__(self) -> None:
        self.steps = 0

    def add(self, steps: int) -> None:
        self.steps += steps
        if self.steps > MAX_WORK:
            raise ExpressionTooCostly(
                f"the expression could take more than {MAX_WORK} steps (ranges and loops over "
                f"lists multiply when nested; a list from the order counts as "
                f"{ASSUMED_COLLECTION}); use smaller ranges or fewer nested map/filter/some")

    def walk(self, nodes: list[_Node], *, multiplier: int, closures: int,
             unary: bool = False) -> None:
        previous: _Node | None = None
        for i, node in enumerate(nodes):
            following = nodes[i + 1] if i + 1 < len(nodes) else None
            if isinstance(node, _Group):
                if node.is_range:
                    membership = previous == "in" or (unary and previous in (None, ","))
                    self.add(multiplier * _range_size(node, membership=membership))
                elif isinstance(previous, str) and previous in CLOSURES and node.open == "(":
                    self.closure(node, multiplier=multiplier, closures=closures)
                else:
                    for arg in node.args:
                        self.walk(arg, multiplier=multiplier, closures=closures, unary=unary
                                  and node.open == "")
            elif node in REFUSED and isinstance(following, _Group):
                raise ExpressionTooCostly(REFUSED[node])
            elif node in EXPENSIVE and isinstance(following, _Group):
                self.add(multiplier * EXPENSIVE_CALL)
            previous = node

    def closure(self, call: _Group, *, multiplier: int, closures: int) -> None:
        if closures + 1 > MAX_CLOSURE_NESTING:
            raise ExpressionTooCostly(f"map/filter/some/... nest more than "
                                      f"{MAX_CLOSURE_NESTING} deep")
        collection, bodies = call.args[0], call.args[1:]
        self.walk(collection, multiplier=multiplier, closures=closures)
        size = _size(collection)
        self.add(multiplier * size)
        for body in bodies:
            self.walk(body, multiplier=multiplier * size, closures=closures + 1)


def _size(nodes: list[_Node]) -> int:
    """How many elements a closure's first argument may have: the product of the ranges in it
    (a flatMap over ranges can yield their product), else an assumed list length."""
    sizes = list(_range_sizes(nodes))
    if not sizes:
        literal = nodes[0] if len(nodes) == 1 else None
        if isinstance(literal, _Group) and literal.open == "[":  # ['a', 'b']: its length
            return len(literal.args) if literal.args != [[]] else 0
        return ASSUMED_COLLECTION
    product = 1
    for size in sizes:
        product *= max(size, 1)
    return product


def _range_sizes(nodes: list[_Node]) -> list[int]:
    found: list[int] = []
    previous: _Node | None = None
    for node in nodes:
        if isinstance(node, _Group):
            if node.is_range and previous != "in":
                found.append(_range_size(node, membership=False))
            else:
                for arg in node.args:
                    found.extend(_range_sizes(arg))
        previous = node
    return found
