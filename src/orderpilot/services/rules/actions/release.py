"""order.release: release the order's holds (all, or those with one reason)."""

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

TYPE = ActionType("order.release", "解除冻结", "Release holds", (
    param("reason", "code", "只解除此原因", "Only this reason"),
    param("note", "template", "备注", "Note")),
    external=False, internal=True, outputs={"released": "number"}, default_step_id="release")


def release(uow: UnitOfWork, call: StepCall, now: datetime) -> Output:
    order = order_for_update(uow, call)
    reason = call.params.get("reason")
    released = 0
    for active in list(order.active_holds):
        if reason and active.reason != reason:
            continue
        if order.release_hold(active.id, call.actor, now, str(call.params.get("note", "")),
                              call.run_id) is not None:
            uow.timers.cancel(f"hold:{active.id}:auto_release")
            released += 1
    if released:
        save(uow, order, now)
    return {"released": released}


ACTION = RuleAction(TYPE, effect=release)
