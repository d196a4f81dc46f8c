"""order.hold: hold the order (in the step's transaction), optionally releasing it later.

The note is kept as written; with ``note_en`` as well, the note is kept in both languages
(``note`` the Chinese reading, ``note_en`` the English) and each reader sees theirs: a
template writes a hold note from outputs it has in both (退货路由's reason).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from orderpilot.domain.messages import bilingual_note
from orderpilot.domain.rules.actions import ActionType, param
from orderpilot.services.rules.actions.base import (
    Output,
    RuleAction,
    StepCall,
    order_for_update,
    save,
)
from orderpilot.services.unit_of_work import UnitOfWork

TYPE = ActionType("order.hold", "冻结订单", "Hold the order", (
    param("reason", "code", "冻结原因代码", "Reason code", required=True),
    param("note", "template", "备注", "Note"),
    param("note_en", "template", "备注(英文，填写后按阅读者的语言显示)",
          "Note in English (with it, each reader sees the note in their language)"),
    param("release_after_minutes", "int", "自动解冻(分钟)", "Release after (minutes)")),
    external=False, internal=True, outputs={"hold_id": "text"}, default_step_id="hold")


def hold_note(params: Mapping[str, Any]) -> str:
    """The note as kept: in both languages when ``note_en`` is given, else as written."""
    note, note_en = str(params.get("note") or ""), str(params.get("note_en") or "")
    return bilingual_note(note_en, note or note_en) if note_en.strip() else note


def hold(uow: UnitOfWork, call: StepCall, now: datetime) -> Output:
    order = order_for_update(uow, call)
    minutes = call.params.get("release_after_minutes")
    release_at = now + timedelta(minutes=int(minutes)) if minutes else None
    placed = order.place_hold(call.params["reason"], hold_note(call.params),
                              call.actor, "rule", now, release_at, causation_id=call.run_id)
    if release_at is not None:
        uow.timers.schedule(f"hold:{placed.id}:auto_release", "hold.auto_release", release_at,
                            {"order_id": order.id, "hold_id": placed.id,
                             "placed_event_id": order.events[-1].id}, now, order_id=order.id)
    save(uow, order, now)
    return {"hold_id": placed.id}


ACTION = RuleAction(TYPE, effect=hold)
