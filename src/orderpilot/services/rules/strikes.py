"""Poison rules: a rule whose evaluation fails, is refused by the expression limits or runs over
its time budget gets a strike; after ``limit`` strikes it is paused, the audit trail says why,
and a high-priority ticket (zh + en) alerts the operators, once per disablement.

Strikes are counted in the rules table in the same transaction as the event's handling, so a
restart continues the count instead of starting it again; the event itself completes for the
other rules and handlers (the failing rule simply does not match).
"""

from __future__ import annotations

from datetime import datetime

import structlog

from orderpilot.domain.events import new_id
from orderpilot.services.unit_of_work import UnitOfWork

ACTOR = "system:rule-guard"
DEFAULT_LIMIT = 3
log = structlog.get_logger("orderpilot.rules")


def strike(uow: UnitOfWork, rule_id: str, version: int, error: str, now: datetime, *,
           limit: int = DEFAULT_LIMIT, event_id: str | None = None,
           where: str = "condition") -> bool:
    """Count one failure against the rule; True when this strike disabled it."""
    count = uow.rules.add_strike(rule_id)
    error = error[:500]
    uow.rules.audit(rule_id, "strike", ACTOR, now,
                    {"version": version, "strikes": count, "limit": limit, "where": where,
                     "error": error, "event_id": event_id})
    log.warning("rule_strike", rule_id=rule_id, version=version, strikes=count, limit=limit,
                where=where, event_id=event_id, error=error)
    if count < limit:
        return False
    row = uow.rules.get(rule_id)
    if row is None or row.status != "enabled":
        return False
    uow.rules.update(rule_id, row.row_version, now, status="paused")
    uow.rules.audit(rule_id, "auto_disabled", ACTOR, now,
                    {"version": version, "strikes": count, "error": error})
    uow.tickets.add({
        "id": new_id(), "order_id": None, "priority": "high",
        "title": f"规则已自动停用 / Rule disabled automatically: {row.key}"[:200],
        "body": (f"规则 {row.key}（版本 {version}）连续 {count} 次求值失败或超出限制，"
                 f"已自动暂停。最后一次错误：{error}\n"
                 f"修正条件后重新发布或启用即可恢复。\n\n"
                 f"Rule {row.key} (version {version}) failed or exceeded the expression "
                 f"limits {count} times and was paused automatically. Last error: {error}\n"
                 f"Fix its condition, then publish or enable it again."),
        "tags": ["rule-disabled", f"rule:{row.key}"], "status": "open",
        "created_by": ACTOR,
        # one alert per disablement: the row version is new each time the rule is disabled
        "idempotency_key": f"rule-disabled:{rule_id}:{row.row_version}",
        "external_id": None, "created_at": now, "updated_at": now})
    log.error("rule_auto_disabled", rule_id=rule_id, rule=row.key, version=version,
              strikes=count)
    return True
