"""Rule definitions: validation names every field at fault; conditions compile to null-safe
expressions that the engine evaluates as staff expect."""

from __future__ import annotations

from typing import Any

import pytest

from orderpilot.adapters.expressions import ExpressionEngine
from orderpilot.domain.rules.actions import Checks
from orderpilot.domain.rules.definition import diff, parse_definition
from orderpilot.domain.rules.problems import RuleInvalid
from orderpilot.domain.rules.templates import TEMPLATES
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.services.rules.actions import ActionTable

ENGINE = ExpressionEngine()
# The hub's table: the integrations' actions (the customs check, the ERP and CRM ones) built in.
ACTIONS = ActionTable(extra=IntegrationRegistry.discover(installed=False).actions())


def checks(**kw: Any) -> Checks:
    return Checks(kw.get("sms", {"SMS_QUAL_UPLOAD": ("order_no",)}), kw.get("tables", {}),
                  lambda url: None if "allowed.example" in url else f"{url} is not allowed",
                  ENGINE.check,
                  connectors=kw.get("connectors", frozenset({"customs", "helpdesk", "crm"})),
                  actions=ACTIONS.types(), action_checks=ACTIONS.save_checks())


def rule(conditions: Any = None, actions: Any = None, **extra: Any) -> dict[str, Any]:
    return {"name": "r", "trigger": {"kind": "event", "event": "payment.succeeded"},
            "conditions": conditions or {"all": []},
            "actions": actions or [{"id": "t", "type": "order.tag",
                                    "params": {"tags": ["x"]}}], **extra}


def problems(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(RuleInvalid) as caught:
        parse_definition(raw, checks())
    return {p.field: p.message for p in caught.value.problems}


def test_every_template_is_valid() -> None:
    for template in TEMPLATES:
        parsed = parse_definition(template.definition, checks(
            sms={"SMS_QUAL_UPLOAD": ("order_no",), "SMS_PAY_REMIND": ("order_no",),
                 "SMS_RETURN_PICKUP": ("centre", "address", "window"),
                 "SMS_ADDR_CONFIRM": ("order_no",)}))
        assert parsed.dump()["actions"]


def test_refusals_name_the_field() -> None:
    found = problems(rule(
        {"all": [{"field": "order.nonsense", "op": "gt", "value": 1},
                 {"field": "order.total", "op": "gt", "value": "abc"},
                 {"field": "order.total", "op": "contains", "value": "x"},
                 {"field": "order.customer.phone", "op": "regex", "value": "(["}]},
        [{"id": "s", "type": "sms.send", "params": {"template": "SMS_QUAL_UPLOAD"}},
         {"id": "s2", "type": "sms.send", "params": {"template": "SMS_NOPE"}},
         {"id": "h", "type": "http.call", "params": {"url": "https://evil.example/x"}}],
        expression="order.total >"))
    assert "unknown field" in found["conditions.all[0].field"]
    assert "not a number" in found["conditions.all[1].value"]
    assert "does not apply" in found["conditions.all[2].op"]
    assert "regular expression" in found["conditions.all[3].value"]
    assert "needs order_no" in found["actions[0].params.params"]
    assert "not registered" in found["actions[1].params.template"]
    assert "not allowed" in found["actions[2].params.url"]
    assert "expression" in found


def test_if_may_only_name_earlier_steps() -> None:
    found = problems(rule(actions=[
        {"id": "a", "type": "order.tag", "params": {"tags": ["x"]},
         "if": {"all": [{"field": "steps.b.ok", "op": "is_true", "type": "bool"}]}},
        {"id": "b", "type": "order.tag", "params": {"tags": ["y"]}}]))
    assert "names no earlier step" in found["actions[0].if.all[0].field"]


CONTEXT = {"order": {"total": 600.0, "address": {"flags": ["bonded_zone"], "line1": "保税区1号"},
                     "tags": ["vip"], "customer": {"phone": "13800000000"},
                     "placed_at_ts": 1000.0, "channel": "youzan"},
           "now_ts": 1000.0 + 60 * 30}


@pytest.mark.parametrize(("leaf", "expected"), [
    ({"field": "order.total", "op": "gt", "value": 500}, True),
    ({"field": "order.total", "op": "between", "value": [600, 700]}, True),
    ({"field": "order.total", "op": "lt", "value": 500}, False),
    ({"field": "order.address.flags", "op": "has", "value": "bonded_zone"}, True),
    ({"field": "order.address.line1", "op": "contains", "value": "保税"}, True),
    ({"field": "order.address.line1", "op": "contains", "value": 'he said "hi"'}, False),
    ({"field": "order.tags", "op": "has_any", "value": ["a", "vip"]}, True),
    ({"field": "order.tags", "op": "has_all", "value": ["a", "vip"]}, False),
    ({"field": "order.channel", "op": "in", "value": ["youzan", "shopee"]}, True),
    ({"field": "order.customer.phone", "op": "regex", "value": r"^1[3-9]\d{9}$"}, True),
    ({"field": "order.placed_at", "op": "within_last_minutes", "value": 60}, True),
    ({"field": "order.placed_at", "op": "within_last_minutes", "value": 10}, False),
    # Missing data makes a leaf false, never an error.
    ({"field": "order.address.city", "op": "contains", "value": "宁波"}, False),
    ({"field": "order.address.city", "op": "is_empty"}, True),
    ({"field": "event.data.amount", "op": "gt", "value": 1, "type": "number"}, False),
])
def test_compiled_leaves_are_null_safe(leaf: dict[str, Any], expected: bool) -> None:
    parsed = parse_definition(rule({"all": [leaf]}), checks())
    assert ENGINE.evaluate(parsed.condition_expression, CONTEXT) is expected


def test_diff_lists_changed_paths() -> None:
    old = parse_definition(rule({"all": [{"field": "order.total", "op": "gt", "value": 500}]}),
                           checks()).dump()
    new = parse_definition(rule({"all": [{"field": "order.total", "op": "gt", "value": 800}]}),
                           checks()).dump()
    assert diff(old, new) == [{"path": "conditions.all[0].value", "before": 500, "after": 800}]


def test_an_http_connector_must_be_one_the_hub_offers() -> None:
    step = {"id": "push", "type": "http.call", "params": {"connector": "erp", "path": "/x"}}
    offered = checks(connectors=frozenset({"customs", "erp"}))
    assert parse_definition(rule(actions=[step]), offered).actions[0].params["connector"] \
        == "erp"
    with pytest.raises(RuleInvalid) as refused:
        parse_definition(rule(actions=[step]), checks())
    [problem] = refused.value.problems
    assert problem.field == "actions[0].params.connector"
    assert "'erp'" in problem.message and "configured: crm, customs, helpdesk" in \
        problem.message
