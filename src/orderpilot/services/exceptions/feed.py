"""Feeding the workbench: a hold placed opens its exception, a hold released resolves it (both
idempotent by (kind, subject ref), so a redelivered event changes nothing); an exception opened
appends ``exception.opened`` (a rule trigger) and starts its playbook clock, in one transaction.

The playbook timer fires PLAYBOOK_WINDOW later: an exception still open is marked "decision
required" with the reason no rule could settle it (none ran, one failed, one left it open)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.exceptions import (
    PLAYBOOK_TIMER,
    PLAYBOOK_WINDOW,
    ExceptionRecord,
    HistoryRecord,
    Reason,
    classify_hold,
    due_at,
)
from orderpilot.domain.records import JsonObject, text
from orderpilot.services.unit_of_work import Clock, UnitOfWork

OPENED = "exception.opened"
HUB = "hub"
FAILED_RUNS = ("failed", "dead", "interrupted")


def playbook_key(exception_id: str) -> str:
    return f"exception:{exception_id}:playbook"


def open_exception(uow: UnitOfWork, reason: Reason, subject_ref: str, order_id: str | None,
                   opened_at: datetime, now: datetime,
                   detail: dict[str, Any] | None = None) -> ExceptionRecord | None:
    """Open one exception unless its subject has one; None when it had."""
    record = ExceptionRecord(new_id(), reason.kind, reason.code, subject_ref, order_id,
                             reason.owner, "open", "", "", opened_at, due_at(reason, opened_at),
                             None, "", "", detail)
    if not uow.exceptions.add(record):
        return None
    uow.exceptions.log(HistoryRecord(None, record.id, now, HUB, "opened", None,
                                     {"status": "open", "reason": reason.code}))
    event = OrderEvent(order_id, OPENED, HUB, opened_at, now,
                       {"exception_id": record.id, "kind": record.kind,
                        "reason": record.reason, "order_id": order_id})
    uow.events.append([event])
    uow.timers.schedule(playbook_key(record.id), PLAYBOOK_TIMER, now + PLAYBOOK_WINDOW,
                        {"exception_id": record.id, "event_id": event.id}, now,
                        order_id=order_id)
    return record


def resolve_in(uow: UnitOfWork, record: ExceptionRecord, resolution: str, who: str,
               now: datetime) -> bool:
    """Resolve an active exception; a resolved one stays as it was (False)."""
    if not record.active:
        return False
    uow.exceptions.update(record.id, status="resolved", resolution=resolution, resolved_by=who,
                          resolved_at=now)
    uow.exceptions.log(HistoryRecord(None, record.id, now, who, "resolved",
                                     {"status": record.status},
                                     {"status": "resolved", "resolution": resolution}))
    uow.timers.cancel(playbook_key(record.id))
    return True


def on_hold_placed(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    payload = event.payload
    reason = classify_hold(text(payload, "reason"))
    open_exception(uow, reason, text(payload, "hold_id"), event.order_id, event.occurred_at,
                   clock(), {"hold_reason": payload.get("reason"), "note": payload.get("note"),
                             "placed_by": payload.get("placed_by")})


def on_hold_released(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """Resolve the hold's exception with the release reason and who released it. A release
    seen before its placing (a replay) stores the exception resolved, so it never reopens."""
    payload = event.payload
    reason = classify_hold(text(payload, "reason"))
    hold_id = text(payload, "hold_id")
    who = str(payload.get("released_by") or HUB)
    resolution = str(payload.get("release_reason") or "released")
    now = clock()
    record = uow.exceptions.by_subject(reason.kind, hold_id)
    if record is None:
        uow.exceptions.add(ExceptionRecord(
            new_id(), reason.kind, reason.code, hold_id, event.order_id, reason.owner,
            "resolved", "", "", event.occurred_at, due_at(reason, event.occurred_at), now,
            resolution, who, {"hold_reason": payload.get("reason")}))
        return
    resolve_in(uow, record, resolution, who, now)


def on_order_cancelled(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """An order cancelled (by its platform or from the hub) leaves nothing to decide: its
    open exceptions are resolved as ``cancelled``."""
    if event.order_id is None:
        return
    now = clock()
    data = event.payload.get("data")
    who = str((data.get("by") if isinstance(data, dict) else None) or HUB)  # a person, or us
    for record in uow.exceptions.active_of_order(event.order_id):
        resolve_in(uow, record, "cancelled", who, now)


def on_playbook_timer(payload: JsonObject, uow: UnitOfWork, clock: Clock) -> None:
    record = uow.exceptions.get(text(payload, "exception_id"), for_update=True)
    if record is None or record.status != "open":
        return
    statuses = uow.exceptions.rule_run_statuses(text(payload, "event_id"))
    if not statuses:
        why = "no_rule"
    elif any(s in FAILED_RUNS for s in statuses):
        why = "rule_failed"
    else:
        why = "rule_left_open"
    now = clock()
    uow.exceptions.update(record.id, status="decision_required", decision_reason=why)
    uow.exceptions.log(HistoryRecord(None, record.id, now, HUB, "status", {"status": "open"},
                                     {"status": "decision_required", "decision_reason": why}))
