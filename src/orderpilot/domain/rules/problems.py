"""Collecting every problem of a rule at once, so the console can show them all."""

from __future__ import annotations

from dataclasses import dataclass, field

from orderpilot.domain.errors import InvalidInput


@dataclass(frozen=True)
class Problem:
    field: str  # where, e.g. actions[2].params.template
    message: str


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append(Problem(where, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, what: str = "the rule") -> None:
        if self.items:
            raise RuleInvalid(self.items, what)


class RuleInvalid(InvalidInput):
    """A rule or table that cannot be saved; names every field at fault."""

    code = "rule_invalid"

    def __init__(self, problems: list[Problem], what: str = "the rule") -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{what}: {first.field}: {first.message}{more}", field=first.field)
        self.problems = problems
