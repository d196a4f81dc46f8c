"""Named actions with declared outcomes: the on_outcome branch in the rule JSON, the warning
for 失败时 on an action that answers refusals in its output, money with a currency, and the
template gallery's blanks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from orderpilot.adapters.expressions import ExpressionEngine
from orderpilot.domain.currency_rates import CurrencyRates
from orderpilot.domain.rules.actions import Checks
from orderpilot.domain.rules.definition import parse_definition, warnings
from orderpilot.domain.rules.problems import RuleInvalid
from orderpilot.domain.rules.templates import TEMPLATE_BY_ID
from orderpilot.integrations.customs.action import outputs
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.services.rules.actions import ActionTable
from orderpilot.services.rules.money import add_money

ENGINE = ExpressionEngine()
ACTIONS = ActionTable(extra=IntegrationRegistry.discover(installed=False).actions())
CHECKS = Checks({"SMS_QUAL_UPLOAD": ("order_no",), "SMS_PAY_REMIND": ("order_no",),
                 "SMS_RETURN_PICKUP": ("centre", "address", "window"),
                 "SMS_ADDR_CONFIRM": ("order_no",)}, {},
                lambda url: None, ENGINE.check,
                connectors=frozenset({"customs"}), actions=ACTIONS.types(),
                action_checks=ACTIONS.save_checks())
S4: dict[str, Any] = TEMPLATE_BY_ID["bonded-zone-customs-check"].definition
HOLD = {"id": "freeze", "type": "order.hold", "params": {"reason": "qualification_pending"}}


def rule(*actions: dict[str, Any], **leaf: Any) -> dict[str, Any]:
    return {"name": "r", "trigger": {"kind": "event", "event": "payment.succeeded"},
            "conditions": {"all": [{"field": "order.total", "op": "gt", "value": 500,
                                    **leaf}]},
            "actions": list(actions)}


def refused(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(RuleInvalid) as caught:
        parse_definition(raw, CHECKS)
    return {p.field: p.message for p in caught.value.problems}


def test_the_customs_check_needs_nothing_typed_and_its_branch_round_trips() -> None:
    definition = parse_definition(S4, CHECKS)
    check = definition.actions[0]
    assert check.params == {"phone": "{{ order.customer.phone }}",
                            "name": "{{ order.customer.name }}", "order_id": "{{ order.id }}"}
    [branch] = check.on_outcome
    assert branch.outcome.id == "not_qualified" and branch.outcome.zh == "核验不通过"
    assert [s.id for s in branch.steps] == ["freeze", "notify", "ticket"]
    assert parse_definition(definition.dump(), CHECKS).dump() == definition.dump()
    assert {s.id for s in definition.all_steps()} == {"check", "freeze", "notify", "ticket"}


def test_only_declared_outcomes_and_top_level_steps_may_branch() -> None:
    check = {"id": "check", "type": "customs.check_qualification"}
    assert "declares no outcome 'approved'" in refused(rule(
        {**check, "on_outcome": {"approved": [HOLD]}}))["actions[0].on_outcome.approved"]
    tag = {"id": "tag", "type": "order.tag", "params": {"tags": ["x"]},
           "on_outcome": {"not_qualified": [HOLD]}}
    assert "actions[0].on_outcome.not_qualified" in refused(rule(tag))
    nested = {**check, "on_outcome": {"not_qualified": [
        {**check, "id": "again", "on_outcome": {"not_qualified": [HOLD]}}]}}
    assert "actions[0].on_outcome.not_qualified[0].on_outcome" in refused(rule(nested))
    assert "at least one step" in refused(rule(
        {**check, "on_outcome": {"not_qualified": []}}))["actions[0].on_outcome.not_qualified"]
    twice = {**check, "on_outcome": {"not_qualified": [{**HOLD, "id": "check"}]}}
    assert "already called 'check'" in str(refused(rule(twice)))


def test_on_failure_on_an_action_that_answers_refusals_is_a_warning_naming_the_step() -> None:
    check = {"id": "check", "type": "customs.check_qualification",
             "on_error": {"then": "branch", "branch": [HOLD]}}
    definition = parse_definition(rule(check, currency="CNY"), CHECKS)  # saved: no error
    [warning] = warnings(definition, ACTIONS.types())
    assert warning.code == "on_error_misses_refusal"
    assert warning.step == "check" and warning.field == "actions[0].on_error.then"
    assert "'check'" in warning.message and "not qualified" in warning.message
    assert "“check”" in warning.message_zh and "核验不通过" in warning.message_zh
    handled = {**check, "on_outcome": {"not_qualified": [{**HOLD, "id": "hold2"}]}}
    assert warnings(parse_definition(rule(handled, currency="CNY"), CHECKS),
                    ACTIONS.types()) == []
    assert warnings(parse_definition(S4, CHECKS), ACTIONS.types()) == []


def test_money_without_a_currency_is_a_warning_and_a_currency_only_fits_money() -> None:
    tag = {"id": "t", "type": "order.tag", "params": {"tags": ["x"]}}
    [warning] = warnings(parse_definition(rule(tag), CHECKS), ACTIONS.types())
    assert warning.code == "money_without_currency"
    assert warning.field == "conditions.all[0]" and "币种" in warning.message_zh
    assert "unknown currency 'XYZ'" in refused(rule(tag, currency="XYZ"))[
        "conditions.all[0].currency"]
    text = rule(tag)
    text["conditions"]["all"][0] = {"field": "order.channel", "op": "eq", "value": "shopee",
                                    "currency": "CNY"}
    assert "only an amount has a currency" in refused(text)["conditions.all[0].currency"]


def money_context(total: float, currency: str, rates: CurrencyRates) -> dict[str, Any]:
    context: dict[str, Any] = {"order": {"total": total, "shipping_fee": 0.0,
                                         "currency": currency}}
    add_money(rates, [parse_definition(S4, CHECKS)], context)
    return context


def test_amounts_convert_at_the_configured_rate_and_no_rate_does_not_match() -> None:
    over = parse_definition(S4, CHECKS).conditions.children[0]
    rates = CurrencyRates({"SGD": Decimal("5.30"), "MYR": Decimal("1.55")})
    assert ENGINE.evaluate(over.expression, money_context(100, "SGD", rates)) is True  # 530
    assert ENGINE.evaluate(over.expression, money_context(90, "SGD", rates)) is False  # 477
    assert ENGINE.evaluate(over.expression, money_context(600, "CNY", rates)) is True
    assert ENGINE.evaluate(over.expression, money_context(400, "CNY", rates)) is False
    missing = money_context(100000, "THB", rates)
    assert ENGINE.evaluate(over.expression, missing) is False
    assert missing["money"]["CNY"] == {"from": "THB", "missing_rate": True}
    assert rates.convert(Decimal("100"), "SGD", "MYR") == Decimal("341.94")


def test_rates_refuse_unknown_currencies_and_non_positive_numbers() -> None:
    with pytest.raises(ValueError, match="unknown currency"):
        CurrencyRates({"XXX": Decimal(1)})
    with pytest.raises(ValueError, match="positive"):
        CurrencyRates({"SGD": Decimal(0)})


def test_the_customs_answer_is_qualified_only_when_it_says_so() -> None:
    assert outputs({"qualified": True, "reference": "CQ-1"}) == {"qualified": True,
                                                                 "reference": "CQ-1"}
    assert outputs({"qualified": "yes"})["qualified"] is False
    assert outputs(None) == {"qualified": False, "reference": ""}


def test_template_blanks_fill_the_definition_and_bad_answers_name_the_blank() -> None:
    template = TEMPLATE_BY_ID["bonded-zone-customs-check"]
    assert [b.id for b in template.blanks] == ["amount", "currency", "channel"]
    filled = template.fill({"amount": "800", "currency": "SGD", "channel": "shopee"})
    assert filled["conditions"]["all"][0] == {"field": "order.total", "op": "gt",
                                              "value": 800, "currency": "SGD"}
    assert filled["trigger"]["sources"] == ["shopee"]
    assert template.definition["conditions"]["all"][0]["value"] == 500  # defaults untouched
    with pytest.raises(RuleInvalid) as caught:
        template.fill({"amount": "lots", "currency": "XYZ", "colour": "red"})
    assert {p.field for p in caught.value.problems} == {"answers.amount", "answers.currency",
                                                        "answers.colour"}
    for each in TEMPLATE_BY_ID.values():
        parse_definition(each.fill({}), CHECKS)
