"""order.tag: add tags to the order, or remove them."""

from __future__ import annotations

from datetime import datetime

from orderpilot.domain.rules.actions import ActionType, param
from orderpilot.services.rules.actions.base import (
    Output,
    RuleAction,
    StepCall,
    order_for_update,
    save,
)
from orderpilot.services.unit_of_work import UnitOfWork

TYPE = ActionType("order.tag", "订单打标", "Tag the order", (
    param("tags", "tags", "标签", "Tags", required=True),
    param("remove", "bool", "移除这些标签", "Remove these tags", default=False)),
    external=False, internal=True, outputs={"tags": "tags"}, default_step_id="tag")


def tag(uow: UnitOfWork, call: StepCall, now: datetime) -> Output:
    order = order_for_update(uow, call)
    changed = order.tag(list(call.params["tags"]), call.actor, now,
                        remove=bool(call.params.get("remove")), causation_id=call.run_id)
    if changed:
        save(uow, order, now)
    return {"tags": list(order.tags), "changed": changed}


ACTION = RuleAction(TYPE, effect=tag)
