"""The action table: built-in actions plus those an integration brings, one definition each;
validation, the Messages page and the console's step ids follow the table, not a list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from orderpilot.adapters.expressions import ExpressionEngine
from orderpilot.domain.rules.actions import ActionType, Checks, MessageKind, param
from orderpilot.domain.rules.definition import parse_definition
from orderpilot.domain.rules.problems import Problems, RuleInvalid
from orderpilot.services.rules.actions import ActionTable, RuleAction, StepCall
from orderpilot.services.unit_of_work import UnitOfWork

PAGER = ActionType("pager.page", "呼叫值班", "Page the on-call", (
    param("text", "template", "内容", "Text", required=True),),
    external=True, internal=False, message=MessageKind("值班", "Pager"),
    default_step_id="page")


def page(outside: Any, call: StepCall, hub_output: dict[str, Any],
         hmac_secret: str | None) -> Any:
    raise AssertionError("not called here")


def no_shouting(params: dict[str, Any], where: str, problems: Problems, checks: Checks) -> None:
    if params.get("text", "").isupper():
        problems.add(f"{where}.text", "no shouting")


PAGER_ACTION = RuleAction(PAGER, call=page, check=no_shouting)


def checks(table: ActionTable) -> Checks:
    return Checks({}, {}, lambda url: None, ExpressionEngine().check,
                  actions=table.types(), action_checks=table.save_checks())


def rule(step_type: str, text: str = "on-call: {{ order.id }}") -> dict[str, Any]:
    return {"name": "r", "trigger": {"kind": "event", "event": "order.placed"},
            "actions": [{"type": step_type, "params": {"text": text}}]}


def test_an_extra_action_is_validated_with_its_own_checks() -> None:
    table = ActionTable(extra=[PAGER_ACTION])
    assert parse_definition(rule("pager.page"), checks(table)).actions[0].type == "pager.page"
    with pytest.raises(RuleInvalid) as refused:
        parse_definition(rule("pager.page", "WAKE UP"), checks(table))
    assert [p.field for p in refused.value.problems] == ["actions[0].params.text"]
    with pytest.raises(RuleInvalid) as unknown:
        parse_definition(rule("pager.page"), checks(ActionTable()))
    assert "unknown action 'pager.page'" in unknown.value.problems[0].message


def test_the_messages_kinds_come_from_the_flags() -> None:
    assert set(ActionTable().message_types()) == {"sms.send", "email.send", "notify.dingtalk",
                                                  "notify.wecom"}
    assert "pager.page" in ActionTable(extra=[PAGER_ACTION]).message_types()


def test_two_actions_with_one_id_are_refused() -> None:
    with pytest.raises(ValueError, match="pager.page"):
        ActionTable(extra=[PAGER_ACTION, PAGER_ACTION])


def test_an_action_missing_its_effect_or_call_is_refused() -> None:
    def effect(uow: UnitOfWork, call: StepCall, now: datetime) -> dict[str, Any]:
        return {}

    with pytest.raises(ValueError, match="needs a call"):
        RuleAction(PAGER)
    internal = ActionType("note.add", "备注", "Add a note", (), external=False, internal=True)
    with pytest.raises(ValueError, match="needs an effect"):
        RuleAction(internal)
    assert RuleAction(internal, effect=effect).id == "note.add"
