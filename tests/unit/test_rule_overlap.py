"""Overlap on publish: same trigger, conditions not provably disjoint, an effect in common."""

from __future__ import annotations

import copy
from typing import Any

from orderpilot.adapters.expressions import ExpressionEngine
from orderpilot.domain.rules.actions import Checks
from orderpilot.domain.rules.definition import RuleDefinition, parse_definition
from orderpilot.domain.rules.overlap import Effect, disjoint, shared_effects
from orderpilot.domain.rules.templates import TEMPLATE_BY_ID
from orderpilot.integrations.customs.action import ACTION as CUSTOMS_CHECK
from orderpilot.services.rules.actions import ActionTable

ACTIONS = ActionTable(extra=[CUSTOMS_CHECK])
CHECKS = Checks({"SMS_QUAL_UPLOAD": ("order_no",)}, {}, lambda url: None,
                ExpressionEngine().check, connectors=frozenset({"customs"}),
                actions=ACTIONS.types(), action_checks=ACTIONS.save_checks())
S4: dict[str, Any] = TEMPLATE_BY_ID["bonded-zone-customs-check"].definition


def parsed(raw: dict[str, Any]) -> RuleDefinition:
    return parse_definition(raw, CHECKS)


def variant(**changes: Any) -> RuleDefinition:
    raw = copy.deepcopy(S4)
    for path, value in changes.items():
        where: Any = raw
        parts = path.split("__")
        for part in parts[:-1]:
            where = where[int(part)] if part.isdigit() else where[part]
        where[int(parts[-1]) if parts[-1].isdigit() else parts[-1]] = value
    return parsed(raw)


def test_a_copy_of_a_rule_overlaps_with_every_effect_named() -> None:
    shared = shared_effects(parsed(S4), parsed(copy.deepcopy(S4)))
    assert {e.type for e in shared} == {"customs.check_qualification", "order.hold",
                                        "sms.send", "ticket.create"}
    assert Effect("order.hold", "qualification_pending") in shared


def test_a_higher_threshold_still_overlaps_but_a_disjoint_range_does_not() -> None:
    assert shared_effects(parsed(S4), variant(conditions__all__0__value=800))
    under = variant(conditions__all__0__op="lte", conditions__all__0__value=500)
    assert shared_effects(parsed(S4), under) == []


def test_other_sources_or_other_events_do_not_overlap() -> None:
    assert shared_effects(parsed(S4), variant(trigger__sources=["shopee"])) == []
    assert shared_effects(parsed(S4), variant(trigger__event="order.placed")) == []


def test_the_same_conditions_with_other_effects_do_not_overlap() -> None:
    other = copy.deepcopy(S4)
    other["actions"] = [{"id": "mark", "type": "order.tag", "params": {"tags": ["bonded"]}}]
    assert shared_effects(parsed(S4), parsed(other)) == []


def test_amounts_in_different_currencies_are_not_proved_disjoint() -> None:
    sgd = variant(conditions__all__0__op="lte", conditions__all__0__currency="SGD")
    assert shared_effects(parsed(S4), sgd)  # 500 SGD and > 500 CNY can both hold


def test_disjoint_values_flags_and_yes_no() -> None:
    def group(*leaves: dict[str, Any]) -> Any:
        return parsed({**S4, "conditions": {"all": list(leaves)}}).conditions

    channel = {"field": "order.channel", "op": "eq", "value": "shopee"}
    assert disjoint(group(channel), group({**channel, "value": "lazada"}))
    assert disjoint(group(channel), group({"field": "order.channel", "op": "in",
                                           "value": ["lazada", "tiktok"]}))
    assert not disjoint(group(channel), group({"field": "order.channel", "op": "in",
                                               "value": ["lazada", "shopee"]}))
    assert disjoint(group({"field": "order.held", "op": "is_true"}),
                    group({"field": "order.held", "op": "is_false"}))
    flag = {"field": "order.address.flags", "op": "has", "value": "bonded_zone"}
    assert disjoint(group(flag), group({**flag, "op": "not_has"}))
    # an `any` group of several conditions is never proved disjoint
    assert not disjoint(group({"any": [channel, flag]}), group({**channel, "value": "lazada"}))
