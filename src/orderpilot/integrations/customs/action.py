"""海关资质核验 / Customs qualification check (``customs.check_qualification``): asks the
customs filing service whether the order's buyer is a qualified cross-border buyer.

Nothing to type: the buyer's name and phone and the order id come from the order. The answer
is a success either way; "not qualified" is a declared business outcome (``not_qualified``)
that a rule branches on (如果核验不通过), not a failure. A failed call (network, 5xx) retries
per the step's ``on_error``.
"""

from __future__ import annotations

from typing import Any

from orderpilot.domain.rules.actions import ActionType, Outcome, Output, param
from orderpilot.services.rules.actions.base import Answer, Outside, RuleAction, StepCall

CHECK_PATH = "/api/qualification/check"

TYPE = ActionType(
    "customs.check_qualification", "海关资质核验", "Customs qualification check", (
        param("phone", "template", "买家手机", "Buyer phone", prefilled=True,
              default="{{ order.customer.phone }}"),
        param("name", "template", "买家姓名", "Buyer name", prefilled=True,
              default="{{ order.customer.name }}"),
        param("order_id", "template", "订单号", "Order id", prefilled=True,
              default="{{ order.id }}")),
    external=True, internal=False,
    outputs={"qualified": "bool", "reference": "text", "status_code": "number"},
    default_step_id="check", integration="customs",
    output_fields=(Output("qualified", "bool", "资质合格", "Qualified"),
                   Output("reference", "text", "核验编号", "Check reference")),
    outcomes=(Outcome("not_qualified", "核验不通过", "Not qualified", "qualified", False),))


def check_qualification(outside: Outside, step: StepCall, hub_output: dict[str, Any],
                        hmac_secret: str | None) -> Answer:
    """One POST to the customs connector with the step's idempotency key."""
    p = step.params
    return outside.http_call(
        "POST", connector="customs", path=CHECK_PATH,
        json_body={"phone": str(p.get("phone") or ""), "name": str(p.get("name") or ""),
                   "order_id": str(p.get("order_id") or "")},
        idempotency_key=step.key)


def outputs(answer: Any) -> dict[str, Any]:
    """``qualified`` is true only when customs said so in as many words."""
    body = answer if isinstance(answer, dict) else {}
    return {"qualified": body.get("qualified") is True,
            "reference": str(body.get("reference") or "")}


ACTION = RuleAction(
    TYPE, call=check_qualification, outputs=outputs, predict=check_qualification,
    unchecked_resend="a question, not an order: asking customs again changes nothing there")
