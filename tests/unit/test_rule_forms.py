"""The rule builder's form turned into rule JSON (and back), without a web server."""

from __future__ import annotations

from typing import Any

from orderpilot.domain.rules.templates import TEMPLATE_BY_ID
from orderpilot.entrypoints.console.rule_form_edits import (
    apply,
    earlier_steps,
    fill_sms_params,
    from_definition,
    slot_for,
)
from orderpilot.entrypoints.console.rule_forms import (
    ConditionGroup,
    ConditionRow,
    read_form,
    to_definition,
)

S4 = TEMPLATE_BY_ID["bonded-zone-customs-check"].definition
NOT_QUALIFIED = {"all": [{"field": "steps.check.qualified", "op": "is_false", "type": "bool"}]}

S4_FORM = [
    ("name", "保税区大额订单资质核验"), ("trigger_kind", "event"),
    ("trigger_event", "payment.succeeded"), ("trigger_sources", "youzan"), ("cond_mode", "all"),
    ("c0-field", "order.total"), ("c0-was", "order.total"), ("c0-op", "gt"), ("c0-value", "500"),
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
    built = to_definition(read_form(S4_FORM))
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
    ])
    built = to_definition(form)
    assert built.definition["conditions"] == {"any": [
        {"field": "order.total", "op": "between", "value": [100, 200.5]},
        {"field": "order.channel", "op": "in", "value": ["youzan", "tmall"]},
        {"field": "order.tags", "op": "has_any", "value": ["vip", "大客户", "new"]},
        {"field": "order.placed_at", "op": "after", "value": "2026-11-26T10:00:00+08:00"},
        {"field": "order.held", "op": "is_true"},
        {"all": [{"field": "now.hour", "op": "gte", "value": 9}]}]}
    assert built.places["conditions.any[5].all[0]"] == "c5.0"


def test_a_new_field_resets_the_operator_to_one_of_its_type() -> None:
    form = read_form([("c0-field", "order.address.flags"), ("c0-was", "order.total"),
                      ("c0-op", "gt"), ("c0-value", "500")])
    row = form.items[0]
    assert isinstance(row, ConditionRow)
    assert (row.op, row.value, row.was) == ("has", "", "order.address.flags")


def test_a_stored_rule_comes_back_into_the_same_form() -> None:
    form = from_definition(S4)
    assert [a.id for a in form.actions] == ["check", "freeze", "notify", "ticket"]
    assert (form.actions[1].if_step, form.actions[1].if_output, form.actions[1].if_test) == \
        ("check", "qualified", "is_false")
    again = to_definition(form).definition
    assert essentials(again) == essentials(S4)
    assert again["actions"][0]["params"]["body"] == S4["actions"][0]["params"]["body"]


def test_typing_mistakes_become_problems_in_place() -> None:
    built = to_definition(read_form([
        ("a0-type", "http.call"), ("a0-id", "check"), ("a0-p-body", "{not json"),
        ("a1-type", "order.hold"), ("a1-id", "hold"), ("a1-if-step", "check")]))
    assert [p.field for p in built.problems] == ["actions[0].params.body", "actions[1].if"]
    assert slot_for("actions[0].params.body", built.places) == "a0.body"
    assert slot_for("actions[1].if.all[0].field", built.places) == "a1.if"


def test_problem_paths_point_at_the_rows_they_came_from() -> None:
    built = to_definition(read_form([
        ("c0-field", ""), ("c1-field", "order.total"), ("c1-was", "order.total"),
        ("c1-op", "gt"), ("c1-value", "lots")]))
    assert built.definition["conditions"]["all"][0]["value"] == "lots"  # the service says why
    assert slot_for("conditions.all[0].value", built.places) == "c1"
    assert slot_for("trigger.event", built.places) == "trigger_event"
    assert slot_for("name", built.places) == "name"
    assert slot_for("actions", built.places) == "actions"


def test_builder_buttons_add_remove_and_move() -> None:
    form = read_form([])
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
    form = read_form(S4_FORM)
    steps = earlier_steps(form, 1)
    assert [s.id for s in steps] == ["check"] and steps[0].outputs["qualified"] == "bool"
    form.actions[2].maps["params"] = []
    fill_sms_params(form, {"SMS_QUAL_UPLOAD": ["order_no"]})
    assert form.actions[2].maps["params"] == [("order_no", "{{ order.external_id }}")]
