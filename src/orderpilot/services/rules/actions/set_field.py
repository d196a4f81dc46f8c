"""order.set_field: set a named attribute of the order."""

from __future__ import annotations

from datetime import datetime

from orderpilot.domain.rules.actions import ActionType, param
from orderpilot.services.rules.actions.base import Output, RuleAction, StepCall, order_for_update
from orderpilot.services.unit_of_work import UnitOfWork

TYPE = ActionType("order.set_field", "设置订单字段", "Set an order field", (
    param("name", "code", "字段名", "Field name", required=True),
    param("value", "template", "值", "Value", required=True)),
    external=False, internal=True, outputs={"value": "text"}, default_step_id="set_field")


def set_field(uow: UnitOfWork, call: StepCall, now: datetime) -> Output:
    order = order_for_update(uow, call)
    name, value = call.params["name"], call.params["value"]
    uow.attributes.set(order.id, name, value, call.actor, now)
    order.record("order.field_set", "hub", now, now, {"name": name, "value": value,
                                                      "by": call.actor},
                 causation_id=call.run_id)
    uow.events.append(order.events)
    return {"value": value}


ACTION = RuleAction(TYPE, effect=set_field)
