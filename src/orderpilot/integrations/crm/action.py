"""降低客户等级 / Lower the customer's level (``crm.lower_level``): moves the buyer (by phone)
down in the CRM by ``levels``, with the step's idempotency key; the CRM can be asked for the
change by that key before any resend. Once the CRM answered, ``crm.level_changed``
{from, to, levels, reason} is recorded on the order in the transaction that records the
answer, so it happens exactly once per step.

Meant for the template 两次退货降级 (two returns in 90 days lower the level), whose condition
reads ``order.customer.returns_90d``; the action itself decides nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderpilot.domain.errors import PermanentError
from orderpilot.domain.rules.actions import ActionType, Output, param
from orderpilot.integrations.crm.client import Crm
from orderpilot.services.rules.actions.base import (
    Answer,
    Found,
    Outside,
    RuleAction,
    StepCall,
    StepRefused,
    order_for_update,
    save,
)
from orderpilot.services.unit_of_work import UnitOfWork

TYPE = ActionType(
    "crm.lower_level", "降低客户等级(CRM)", "Lower the customer's level (CRM)", (
        param("levels", "int", "降低几级", "Levels to lower", default=1),
        param("reason", "template", "原因", "Reason",
              default="90天内退货{{ order.customer.returns_90d }}次")),
    external=True, internal=False,
    outputs={"from": "number", "to": "number"}, default_step_id="lower", integration="crm",
    output_fields=(Output("from", "number", "原等级", "Level before"),
                   Output("to", "number", "新等级", "Level after")))


def _crm(outside: Outside) -> Crm:
    crm = outside.client("crm")
    if not isinstance(crm, Crm):
        raise PermanentError("the crm integration's client is not a Crm",
                             zh="CRM 集成的客户端类型不对")
    return crm


def _phone(call: StepCall) -> str:
    phone = call.customer_phone
    if not phone:
        raise StepRefused("this run has no customer phone to find in the CRM",
                          field="order.customer.phone",
                          zh="本次运行没有可在 CRM 中查找的客户手机号")
    return phone


def lower(outside: Outside, call: StepCall, hub_output: dict[str, Any],
          hmac_secret: str | None) -> Answer:
    levels = call.params.get("levels", 1)
    return _crm(outside).lower_level(_phone(call), int(levels) if isinstance(levels, int) else 1,
                                     str(call.params.get("reason") or ""), call.key)


def find(outside: Outside, call: StepCall, since: datetime) -> Found:
    return _crm(outside).find_level_change(call.key)


def record_change(uow: UnitOfWork, call: StepCall, output: dict[str, Any],
                  now: datetime) -> None:
    """``crm.level_changed`` on the order, once per step key."""
    if call.order_id is None:
        return
    reference = f"level:{call.key}"
    if uow.events.find_by_source("crm", reference) is not None:
        return
    order = order_for_update(uow, call)
    order.report("crm.level_changed", "crm", now, now, {
        "from": output.get("from"), "to": output.get("to"),
        "levels": call.params.get("levels", 1), "reason": str(call.params.get("reason") or ""),
        "status": "level_changed"}, source_event_id=reference, causation_id=call.run_id)
    save(uow, order, now)


ACTION = RuleAction(TYPE, call=lower, look_up=find, after_call=record_change,
                    outputs=lambda answer: {})
