"""Whether two rules would act twice on one order: the same trigger, conditions that are not
provably disjoint, and an effect in common (the same action type on the same target).

"Provably disjoint" is deliberately simple: two top-level ``all`` groups in which one pair of
leaves on the same field (and currency) cannot both hold — number ranges that do not meet,
different values of one field, is yes / is no, has / does not have. Anything else (``any``
groups, advanced expressions) may overlap, so publishing asks for a confirmation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from orderpilot.domain.errors import Conflict
from orderpilot.domain.rules.actions import ActionType
from orderpilot.domain.rules.conditions import Group, Leaf
from orderpilot.domain.rules.definition import RuleDefinition, Step
from orderpilot.domain.rules.triggers import Trigger

# The parameter that says what a step acts on (or which message it sends), per action type;
# types not listed act on the order (or its buyer) as a whole.
TARGETS = {"order.hold": "reason", "order.release": "reason", "order.tag": "tags",
           "crm.tag": "tags", "sms.send": "template", "order.set_field": "name",
           "http.call": "path", "ticket.create": "title", "email.send": "subject",
           "notify.dingtalk": "text", "notify.wecom": "text"}


@dataclass(frozen=True)
class Effect:
    type: str
    target: str

    def dump(self, actions: Mapping[str, ActionType]) -> dict[str, Any]:
        kind = actions.get(self.type)
        return {"type": self.type, "target": self.target,
                "zh": kind.zh if kind else self.type, "en": kind.en if kind else self.type}


def effects(definition: RuleDefinition) -> set[Effect]:
    """What a rule does, as (action type, target) pairs; reads are no effect."""
    return {_effect(step) for step in definition.all_steps() if step.type != "table.lookup"}


def _effect(step: Step) -> Effect:
    name = TARGETS.get(step.type)
    value = step.params.get(name) if name else None
    if step.type == "http.call":
        value = f"{step.params.get('connector') or ''}{step.params.get('path') or ''}" \
            f"{step.params.get('url') or ''}"
    if isinstance(value, list):
        value = ",".join(sorted(str(v) for v in value))
    return Effect(step.type, "" if value is None else str(value))


def same_trigger(a: Trigger, b: Trigger) -> bool:
    """They fire on the same thing (source and channel filters that share nothing do not)."""
    if (a.kind, a.event, a.cron, a.minutes, a.unless) != \
            (b.kind, b.event, b.cron, b.minutes, b.unless):
        return False
    if a.sources and b.sources and not set(a.sources) & set(b.sources):
        return False
    return not (a.channels and b.channels and not set(a.channels) & set(b.channels))


def shared_effects(a: RuleDefinition, b: RuleDefinition) -> list[Effect]:
    """The effects the two rules would both have on one order, or [] when they cannot both
    run on it."""
    if not same_trigger(a.trigger, b.trigger):
        return []
    if disjoint(a.conditions, b.conditions):
        return []
    return sorted(effects(a) & effects(b), key=lambda e: (e.type, e.target))


def disjoint(a: Group, b: Group) -> bool:
    """True only when no context can satisfy both groups."""
    left, right = _conjuncts(a), _conjuncts(b)
    return any(_leaves_disjoint(x, y) for x in left for y in right) \
        or any(_leaves_disjoint(x, y) for x in left for y in left if x is not y) \
        or any(_leaves_disjoint(x, y) for x in right for y in right if x is not y)


def _conjuncts(group: Group) -> list[Leaf]:
    """Leaves that must all hold for the group to hold (nested ``all`` groups included)."""
    if group.negate:
        return []
    if group.kind == "any":
        return [group.children[0]] if len(group.children) == 1 \
            and isinstance(group.children[0], Leaf) else []
    out: list[Leaf] = []
    for child in group.children:
        if isinstance(child, Leaf):
            out.append(child)
        else:
            out.extend(_conjuncts(child))
    return out


def _leaves_disjoint(x: Leaf, y: Leaf) -> bool:
    if x.path != y.path:
        return False
    kind = x.field.type
    if kind in ("number", "money"):
        a, b = _interval(x), _interval(y)
        if a is None or b is None:
            return False
        return _apart(a, b)
    if kind == "bool":
        return {x.op, y.op} == {"is_true", "is_false"}
    if kind in ("tags", "flags"):
        return {x.op, y.op} == {"has", "not_has"} and x.value == y.value
    a_set, b_set = _values(x), _values(y)
    if a_set is not None and b_set is not None:
        return not a_set & b_set
    for one, other in ((x, y), (y, x)):
        inside = _values(one)
        if inside is not None and other.op in ("ne", "not_in") and \
                inside <= set(map(str, other.value if isinstance(other.value, list)
                                  else [other.value])):
            return True
    return False


def _values(leaf: Leaf) -> set[str] | None:
    """The values a text/enum leaf allows, when it lists them."""
    if leaf.op == "eq":
        return {str(leaf.value)}
    if leaf.op == "in":
        return {str(v) for v in leaf.value}
    return None


# (low, low inclusive, high, high inclusive); None bounds are open.
Interval = tuple[Decimal | None, bool, Decimal | None, bool]


def _interval(leaf: Leaf) -> Interval | None:
    v = leaf.value
    if leaf.op == "between":
        return Decimal(str(v[0])), True, Decimal(str(v[1])), True
    if leaf.op not in ("eq", "gt", "gte", "lt", "lte"):
        return None
    d = Decimal(str(v))
    return {"eq": (d, True, d, True), "gt": (d, False, None, False),
            "gte": (d, True, None, False), "lt": (None, False, d, False),
            "lte": (None, False, d, True)}[leaf.op]


def _apart(a: Interval, b: Interval) -> bool:
    return _below(a, b) or _below(b, a)


def _below(a: Interval, b: Interval) -> bool:
    """Every value of A is under every value of B."""
    high, high_in = a[2], a[3]
    low, low_in = b[0], b[1]
    if high is None or low is None:
        return False
    return high < low or (high == low and not (high_in and low_in))


class RuleOverlap(Conflict):
    """Publishing would leave two rules acting on the same orders with the same effects;
    ``overlaps`` names each other rule (what the API's details list)."""

    code = "rule_overlap"

    def __init__(self, name: str, overlaps: list[dict[str, Any]]) -> None:
        names = ", ".join(f"{o['name']!r} ({o['key']})" for o in overlaps)
        names_zh = "、".join(f"“{o['name']}”（{o['key']}）" for o in overlaps)
        super().__init__(
            f"rule {name!r} overlaps with published rule(s) {names}: same trigger, conditions "
            f"that can both hold, same effects; publish with confirm_overlap to keep both",
            field="confirm_overlap",
            zh=f"规则“{name}”与已发布的规则 {names_zh} 重叠：触发条件相同、条件可能同时成立、"
               f"动作相同；确认保留两条规则后可再次发布")
        self.overlaps = overlaps
