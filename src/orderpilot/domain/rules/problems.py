"""Collecting every problem of a rule at once, so the console can show them all."""

from __future__ import annotations

from dataclasses import dataclass, field

from orderpilot.domain.errors import InvalidInput, is_chinese
from orderpilot.domain.messages import field_path

WHAT_ZH = {"the rule": "规则", "the table": "决策表", "the decision table": "决策表"}


@dataclass(frozen=True)
class Problem:
    field: str  # where, e.g. actions[2].params.template
    message: str  # English
    zh: str | None = None  # Chinese, where the problem was found

    @property
    def message_zh(self) -> str:
        return self.zh or f"{InvalidInput.title_zh}：{self.message}"

    def in_language(self, locale: str | None) -> str:
        return self.message_zh if is_chinese(locale) else self.message


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, where: str, message: str, zh: str | None = None) -> None:
        self.items.append(Problem(where, message, zh))

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
        more_zh = f"（另有 {len(problems) - 1} 处）" if len(problems) > 1 else ""
        what_zh = WHAT_ZH.get(what, what)
        super().__init__(f"{what}: {first.field}: {first.message}{more}", field=first.field,
                         zh=f"{what_zh}：{field_path(first.field, 'zh_CN')}："
                            f"{first.message_zh}{more_zh}")
        self.problems = problems
