"""The rule builder's form turned into rule JSON (and back), without a web server."""

from __future__ import annotations

from typing import Any

import pytest

from orderpilot.adapters.expressions import ExpressionEngine
from orderpilot.domain.rules.actions import Checks
from orderpilot.domain.rules.definition import parse_definition
from orderpilot.domain.rules.problems import RuleInvalid
from orderpilot.entrypoints.console.rules.form_edits import (
    apply,
    earlier_steps,
    fill_sms_params,
    from_definition,
    problems_by_slot,
    slot_for,
)
from orderpilot.entrypoints.console.rules.forms import (
    ConditionGroup,
    ConditionRow,
    read_form,
    to_definition,
)
from orderpilot.integrations.customs.action import ACTION as CUSTOMS_CHECK
from orderpilot.services.rules.actions import ActionTable
from rule_samples import S4_BY_HTTP_CALL

TABLE = ActionTable()
TYPES = TABLE.types()
S4 = S4_BY_HTTP_CALL  # the generic-call S4 the form rebuilds field by field
NOT_QUALIFIED = {"all": [{"field": "steps.check.qualified", "op": "is_false", "type": "bool"}]}

S4_FORM = [
    ("name", "保税区大额订单资质核验"), ("trigger_kind", "event"),
    ("trigger_event", "payment.succeeded"), ("trigger_sources", "youzan"), ("cond_mode", "all"),
    ("c0-field", "order.total"), ("c0-was", "order.total"), ("c0-op", "gt"), ("c0-value", "500"),
    ("c0-currency", "none"),
    ("c1-field", "order.address.flags"), ("c1-was", "order.address.flags"), ("c1-op", "has"),
    ("c1-value", "bonded_zone"),
    ("a0-type", "http.call"), ("a0-id", "check"), ("a0-p-method", "POST"),
    ("a0-p-connector", "customs"), ("a0-p-path", "/api/qualification/check"),
    ("a0-m-output-0-k", "qualified"), ("a0-m-output-0-v", "qualified"),
    ("a0-m-output-1-k", ""), ("a0-m-output-1-v", ""),
    ("a0-retries", "5"), ("a0-backoff", "10"), ("a0-then", "fail"),
    ("a1-type", "order.hold"), ("a1-id", "freeze"), ("a1-p-reason", "qualification_pending"),
    ("a1-if-step", "check"), ("a1-if-output", "qualified"), ("a1-if-test", "is_false"),
    ("a2-type", "sms.send"), ("a2-id", "notify"), ("a2-p-template", "SMS_QUAL_UPLOAD"),
    ("a2-m-params-0-k", "order_no"), ("a2-m-params-0-v", "{{ order.external_id }}"),
    ("a2-if-step", "check"), ("a2-if-output", "qualified"), ("a2-if-test", "is_false"),
    ("a3-type", "ticket.create"), ("a3-id", "ticket"), ("a3-p-title", "资质待核验"),
    ("a3-p-priority", "high"), ("a3-p-tags", "资质待核验"),
    ("a3-if-step", "check"), ("a3-if-output", "qualified"), ("a3-if-test", "is_false"),
]


def essentials(definition: dict[str, Any]) -> dict[str, Any]:
    return {"trigger": definition["trigger"], "conditions": definition["conditions"],
            "actions": [(a["type"], a.get("if")) for a in definition["actions"]]}


def test_the_s4_rule_built_from_form_fields_has_the_templates_essentials() -> None:
    built = to_definition(read_form(S4_FORM, TYPES))
    assert built.problems == []
    assert essentials(built.definition) == essentials(S4)
    check, freeze, notify, ticket = built.definition["actions"]
    assert check["params"]["output"] == {"qualified": "qualified"}  # the blank row is dropped
    assert check["on_error"] == {"retries": 5, "backoff_seconds": 10, "then": "fail"}
    assert notify["params"]["params"] == {"order_no": "{{ order.external_id }}"}
    assert ticket["params"]["tags"] == ["资质待核验"] and ticket["params"]["webhook"] is False
    assert freeze["if"] == NOT_QUALIFIED


def test_values_follow_the_operator() -> None:
    form = read_form([
        ("cond_mode", "any"),
        ("c0-field", "order.total"), ("c0-was", "order.total"), ("c0-op", "between"),
        ("c0-value", "100"), ("c0-value2", "200.5"),
        ("c1-field", "order.channel"), ("c1-was", "order.channel"), ("c1-op", "in"),
        ("c1-value", "youzan"), ("c1-value", "tmall"),
        ("c2-field", "order.tags"), ("c2-was", "order.tags"), ("c2-op", "has_any"),
        ("c2-value", "vip，大客户, new"),
        ("c3-field", "order.placed_at"), ("c3-was", "order.placed_at"), ("c3-op", "after"),
        ("c3-value", "2026-11-26T10:00"),
        ("c4-field", "order.held"), ("c4-was", "order.held"), ("c4-op", "is_true"),
        ("c5-kind", "group"), ("c5-mode", "all"),
        ("c5.0-field", "now.hour"), ("c5.0-was", "now.hour"), ("c5.0-op", "gte"),
        ("c5.0-value", "9"),
        ("c6-field", ""),  # a row with no field chosen yet is left out
    ], TYPES)
    built = to_definition(form)
    assert built.definition["conditions"] == {"any": [
        {"field": "order.total", "op": "between", "value": [100, 200.5], "currency": "CNY"},
        {"field": "order.channel", "op": "in", "value": ["youzan", "tmall"]},
        {"field": "order.tags", "op": "has_any", "value": ["vip", "大客户", "new"]},
        {"field": "order.placed_at", "op": "after", "value": "2026-11-26T10:00:00+08:00"},
        {"field": "order.held", "op": "is_true"},
        {"all": [{"field": "now.hour", "op": "gte", "value": 9}]}]}
    assert built.places["conditions.any[5].all[0]"] == "c5.0"


def test_a_new_field_resets_the_operator_to_one_of_its_type() -> None:
    form = read_form([("c0-field", "order.address.flags"), ("c0-was", "order.total"),
                      ("c0-op", "gt"), ("c0-value", "500")], TYPES)
    row = form.items[0]
    assert isinstance(row, ConditionRow)
    assert (row.op, row.value, row.was) == ("has", "", "order.address.flags")


def test_a_stored_rule_comes_back_into_the_same_form() -> None:
    form = from_definition(S4, TYPES)
    assert [a.id for a in form.actions] == ["check", "freeze", "notify", "ticket"]
    assert (form.actions[1].if_step, form.actions[1].if_output, form.actions[1].if_test) == \
        ("check", "qualified", "is_false")
    again = to_definition(form).definition
    assert essentials(again) == essentials(S4)
    assert again["actions"][0]["params"]["body"] == S4["actions"][0]["params"]["body"]


def test_typing_mistakes_become_problems_in_place() -> None:
    built = to_definition(read_form([
        ("a0-type", "http.call"), ("a0-id", "check"), ("a0-p-body", "{not json"),
        ("a1-type", "order.hold"), ("a1-id", "hold"), ("a1-if-step", "check")], TYPES))
    assert [p.field for p in built.problems] == ["actions[0].params.body", "actions[1].if"]
    assert slot_for("actions[0].params.body", built.places) == "a0.body"
    assert slot_for("actions[1].if.all[0].field", built.places) == "a1.if"


def test_problem_paths_point_at_the_rows_they_came_from() -> None:
    built = to_definition(read_form([
        ("c0-field", ""), ("c1-field", "order.total"), ("c1-was", "order.total"),
        ("c1-op", "gt"), ("c1-value", "lots")], TYPES))
    assert built.definition["conditions"]["all"][0]["value"] == "lots"  # the service says why
    assert slot_for("conditions.all[0].value", built.places) == "c1"
    assert slot_for("trigger.event", built.places) == "trigger_event"
    assert slot_for("name", built.places) == "name"
    assert slot_for("actions", built.places) == "actions"


def test_builder_buttons_add_remove_and_move() -> None:
    form = read_form([], TYPES)
    for do in ("add-condition", "add-group", "add-condition:1"):
        apply(form, do)
    assert isinstance(form.items[1], ConditionGroup) and len(form.items[1].rows) == 2
    apply(form, "remove-condition:1.0")
    apply(form, "remove-condition:1.0")  # the last row of a group takes the group with it
    assert len(form.items) == 1
    apply(form, "add-action", "http.call")
    apply(form, "add-action", "order.hold")
    apply(form, "add-action", "order.hold")
    assert [a.id for a in form.actions] == ["call", "hold", "hold2"]
    apply(form, "up-action:2")
    assert [a.id for a in form.actions] == ["call", "hold2", "hold"]
    apply(form, "remove-action:0")
    assert [a.id for a in form.actions] == ["hold2", "hold"]


def test_earlier_steps_offer_their_outputs_and_sms_parameters_appear() -> None:
    form = read_form(S4_FORM, TYPES)
    steps = earlier_steps(form, 1)
    assert [s.id for s in steps] == ["check"] and steps[0].outputs["qualified"] == "bool"
    form.actions[2].maps["params"] = []
    fill_sms_params(form, {"SMS_QUAL_UPLOAD": ["order_no"]})
    assert form.actions[2].maps["params"] == [("order_no", "{{ order.external_id }}")]


CHECKS = Checks({"SMS_QUAL_UPLOAD": ("order_no",)}, {}, lambda url: None,
                ExpressionEngine().check, connectors=frozenset({"customs"}),
                actions=TYPES, action_checks=TABLE.save_checks())
KEY = "{{ order.id }}-qualification-sms"
# The customs check falls back to a DingTalk message and a tag when the service stays down.
BRANCHED: dict[str, Any] = {
    "name": "资质核验(失败转人工)", "description": "",
    "trigger": {"kind": "event", "event": "payment.succeeded", "sources": ["youzan"]},
    "conditions": {"all": [{"field": "order.total", "op": "gt", "value": 500}]},
    "actions": [
        {"id": "check", "type": "http.call",
         "params": {"method": "POST", "connector": "customs",
                    "path": "/api/qualification/check", "output": {"qualified": "qualified"}},
         "on_error": {"retries": 2, "backoff_seconds": 10, "then": "branch", "branch": [
             {"id": "alert", "type": "notify.dingtalk",
              "params": {"text": "海关资质接口不可用：{{ order.external_id }}"},
              "on_error": {"retries": 1, "backoff_seconds": 5, "then": "ignore"},
              "idempotency_key": "{{ order.id }}-customs-down"},
             {"id": "manual", "type": "order.tag", "params": {"tags": ["资质待人工核验"]}}]}},
        {"id": "notify", "type": "sms.send",
         "params": {"template": "SMS_QUAL_UPLOAD",
                    "params": {"order_no": "{{ order.external_id }}"}},
         "if": NOT_QUALIFIED, "idempotency_key": KEY}]}


def canonical(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition as the rules service stores it (defaults filled in)."""
    return parse_definition(definition, CHECKS).dump()


def test_a_stored_rule_with_a_failure_branch_round_trips_through_the_form() -> None:
    stored = canonical(BRANCHED)
    form = from_definition(stored, TYPES)
    check = form.actions[0]
    assert check.then == "branch" and [a.id for a in check.branch] == ["alert", "manual"]
    assert (check.branch[0].then, check.branch[0].retries) == ("ignore", "1")
    assert form.actions[1].idempotency_key == KEY
    built = to_definition(form)
    assert built.problems == []
    assert built.definition == stored
    assert built.places["actions[0].on_error.branch[1]"] == "a0b1"


def test_branch_fields_become_on_error_branch() -> None:
    built = to_definition(read_form([
        ("name", "r"), ("trigger_kind", "event"), ("trigger_event", "payment.succeeded"),
        ("a0-type", "http.call"), ("a0-id", "check"), ("a0-p-connector", "customs"),
        ("a0-p-path", "/api/qualification/check"), ("a0-retries", "2"), ("a0-backoff", "10"),
        ("a0-then", "branch"),
        ("a0b0-type", "notify.dingtalk"), ("a0b0-id", "alert"), ("a0b0-p-text", "接口不可用"),
        ("a0b0-retries", "1"), ("a0b0-backoff", "5"), ("a0b0-then", "ignore"),
        ("a0b0-idem", "{{ order.id }}-customs-down"),
        ("a9b0-type", "order.tag"),  # a branch whose action is gone is dropped
    ], TYPES))
    assert built.problems == []
    on_error = built.definition["actions"][0]["on_error"]
    assert on_error == {"retries": 2, "backoff_seconds": 10, "then": "branch", "branch": [
        {"id": "alert", "type": "notify.dingtalk", "params": {"text": "接口不可用"},
         "on_error": {"retries": 1, "backoff_seconds": 5, "then": "ignore"},
         "idempotency_key": "{{ order.id }}-customs-down"}]}
    assert len(built.definition["actions"]) == 1
    parse_definition(built.definition, CHECKS)  # valid as it is


def test_a_branch_kept_while_another_choice_is_made_is_left_out() -> None:
    built = to_definition(read_form([
        ("a0-type", "http.call"), ("a0-then", "ignore"),
        ("a0b0-type", "notify.dingtalk"), ("a0b0-p-text", "x")], TYPES))
    assert built.definition["actions"][0]["on_error"] == {
        "retries": 3, "backoff_seconds": 5, "then": "ignore"}


def test_problems_inside_a_branch_are_placed_at_the_nested_field() -> None:
    form = read_form([
        ("name", "r"), ("trigger_kind", "event"), ("trigger_event", "payment.succeeded"),
        ("a0-type", "order.tag"), ("a0-p-tags", "x"),
        ("a1-type", "http.call"), ("a1-id", "check"), ("a1-p-connector", "customs"),
        ("a1-p-path", "/check"), ("a1-then", "branch"),
        ("a1b0-type", "order.tag"), ("a1b0-id", "flag"), ("a1b0-p-tags", "y"),
        ("a1b1-type", "notify.dingtalk"), ("a1b1-id", "alert"), ("a1b1-p-text", ""),
        ("a1b1-idem", "{{ order.( }}"),
        ("a1b2-type", "http.call"), ("a1b2-id", "retry"), ("a1b2-p-connector", "customs"),
        ("a1b2-p-body", "{not json"), ("a1b2-then", "branch")], TYPES)
    built = to_definition(form)
    assert [p.field for p in built.problems] == ["actions[1].on_error.branch[2].params.body"]
    with pytest.raises(RuleInvalid) as caught:
        parse_definition(built.definition, CHECKS)
    found = {p.field for p in caught.value.problems}
    assert {"actions[1].on_error.branch[1].params.text",
            "actions[1].on_error.branch[1].idempotency_key",
            "actions[1].on_error.branch[2].on_error.then"} <= found
    slots = problems_by_slot(built.problems + list(caught.value.problems), built.places)
    assert "Message is required" in slots["a1b1.text"]
    assert slots["a1b1.idempotency_key"] and slots["a1b2.body"] and slots["a1b2.on_error"]
    assert slot_for("actions[1].on_error.branch[0].if.all[0].field", built.places) == "a1b0.if"
    assert slot_for("actions[1].on_error.branch[0].id", built.places) == "a1b0.id"
    assert slot_for("actions[1].on_error.branch[7].params.text", built.places) == "a1.on_error"
    assert slot_for("actions[1].on_error.branch", built.places) == "a1.on_error"
    assert slot_for("actions[0].idempotency_key", built.places) == "a0.idempotency_key"


def test_an_empty_branch_is_reported_on_its_actions_failure_row() -> None:
    built = to_definition(read_form([
        ("name", "r"), ("trigger_kind", "event"), ("trigger_event", "payment.succeeded"),
        ("a0-type", "order.tag"), ("a0-p-tags", "x"), ("a0-then", "branch")], TYPES))
    assert built.definition["actions"][0]["on_error"]["branch"] == []
    assert [slot_for(p.field, built.places) for p in built.problems] == ["a0.on_error"]


def test_the_idempotency_key_is_optional_and_comes_back() -> None:
    built = to_definition(read_form([
        ("a0-type", "sms.send"), ("a0-id", "notify"), ("a0-idem", f"  {KEY} "),
        ("a1-type", "order.tag"), ("a1-idem", "")], TYPES))
    first, second = built.definition["actions"]
    assert first["idempotency_key"] == KEY and "idempotency_key" not in second
    assert from_definition(built.definition, TYPES).actions[0].idempotency_key == KEY
    assert from_definition(S4, TYPES).actions[0].idempotency_key == ""


def test_branch_buttons_add_remove_and_move_inside_the_branch() -> None:
    form = read_form([("a0-type", "http.call"), ("a0-id", "check"),
                      ("a1-type", "order.hold"), ("a1-id", "hold")], TYPES)
    apply(form, "add-action:0", "order.hold")
    apply(form, "add-action:0", "notify.dingtalk")
    check = form.actions[0]
    assert check.then == "branch"
    assert [a.id for a in check.branch] == ["hold2", "dingtalk"]  # ids are unique rule-wide
    apply(form, "up-action:0.1")
    assert [a.id for a in check.branch] == ["dingtalk", "hold2"]
    apply(form, "down-action:0.1")  # already last: nothing moves
    apply(form, "remove-action:0.5")  # no such action
    apply(form, "add-action:7", "order.tag")  # no such parent
    assert [a.id for a in check.branch] == ["dingtalk", "hold2"]
    assert [s.id for s in earlier_steps(form, 0, 1)] == ["dingtalk"]
    assert [s.id for s in earlier_steps(form, 1, None)] == ["check"]
    apply(form, "remove-action:0.0")
    assert [a.id for a in check.branch] == ["hold2"] and len(form.actions) == 2
    fill_sms_params(form, {})  # branch actions are visited too, without error


CUSTOMS_TYPES = ActionTable(extra=(CUSTOMS_CHECK,)).types()


def test_an_amount_is_in_cny_unless_another_currency_or_none_is_picked() -> None:
    def first_leaf(*extra: tuple[str, str]) -> dict[str, Any]:
        form = read_form([("c0-field", "order.total"), ("c0-value", "500"), *extra], TYPES)
        leaf: dict[str, Any] = to_definition(form).definition["conditions"]["all"][0]
        return leaf

    assert first_leaf() == {"field": "order.total", "op": "gt", "value": 500,
                            "currency": "CNY"}  # a new amount row: "over", in CNY
    assert first_leaf(("c0-currency", "SGD"))["currency"] == "SGD"
    assert "currency" not in first_leaf(("c0-currency", "none"))
    stored = from_definition({"conditions": {"all": [
        {"field": "order.total", "op": "gt", "value": 500}]}}, TYPES)
    row = stored.items[0]
    assert isinstance(row, ConditionRow) and row.currency == "none"  # kept as it was stored


def test_the_not_qualified_branch_is_one_click_on_the_customs_check() -> None:
    form = read_form([("name", "S4"), ("a0-type", "customs.check_qualification"),
                      ("a0-id", "check")], CUSTOMS_TYPES)
    form = apply(form, "open-outcome:0o0")
    assert form.actions[0].outcomes == {"not_qualified": []}
    for kind in ("order.hold", "sms.send", "ticket.create"):
        form = apply(form, "add-action:0o0", kind)
    hold, _sms, ticket = form.actions[0].outcomes["not_qualified"]
    assert hold.params["reason"] == "qualification_pending"
    assert (ticket.params["priority"], ticket.params["title"]) == \
        ("high", "核验不通过 {{ order.external_id }}")
    built = to_definition(form)
    (check,) = built.definition["actions"]
    assert check["params"] == {}  # prefilled from the order: nothing typed, nothing sent
    assert [s["type"] for s in check["on_outcome"]["not_qualified"]] == \
        ["order.hold", "sms.send", "ticket.create"]
    assert built.places["actions[0].on_outcome.not_qualified[1]"] == "a0o0s1"
    assert slot_for("actions[0].on_outcome.not_qualified[1].params.template",
                    built.places) == "a0o0s1.template"
    # The posted fields of that form come back as the same form, and so does the stored step.
    again = to_definition(read_form(list(_fields(form)), CUSTOMS_TYPES)).definition
    assert again["actions"] == built.definition["actions"]
    stored = from_definition(built.definition, CUSTOMS_TYPES)
    assert to_definition(stored).definition["actions"] == built.definition["actions"]
    # A step inside the branch may test the check's outputs; a step after it may not test
    # the branch's steps.
    form = apply(form, "add-action", "order.tag")
    inside = earlier_steps(form, 0, outcome=("not_qualified", 1))
    assert [s.id for s in inside] == ["check", "hold"]
    assert [s.id for s in earlier_steps(form, 1)] == ["check"]
    # An open branch with no action yet is a problem next to it, not a silent drop.
    empty = apply(read_form([("a0-type", "customs.check_qualification"), ("a0-id", "check")],
                            CUSTOMS_TYPES), "open-outcome:0o0")
    problems = to_definition(empty).problems
    assert [p.field for p in problems] == ["actions[0].on_outcome.not_qualified"]
    assert slot_for(problems[0].field, {"actions[0]": "a0"}) == "a0.on_outcome"


def _fields(form: Any) -> Any:
    """The fields the builder would post for FORM's actions (the ones these tests use)."""
    for i, action in enumerate(form.actions):
        yield f"a{i}-type", action.type
        yield f"a{i}-id", action.id
        for k, steps in enumerate(action.outcomes.values()):
            yield f"a{i}-outcome-{k}", "on"
            for j, inner in enumerate(steps):
                yield f"a{i}o{k}s{j}-type", inner.type
                yield f"a{i}o{k}s{j}-id", inner.id
                for name, value in inner.params.items():
                    yield f"a{i}o{k}s{j}-p-{name}", value
