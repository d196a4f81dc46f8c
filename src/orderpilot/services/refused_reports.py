"""Keeping the reports the lifecycle refused, in a transaction of their own after the refusal:
the refused change still changes nothing and the caller's answer is the same
(domain/refused_reports.py, docs/exceptions-retry-and-refusals.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import structlog

from orderpilot.domain import lifecycle
from orderpilot.domain import refused_reports as refusals
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.records import JsonObject
from orderpilot.domain.refused_reports import RefusedReport
from orderpilot.domain.times import SHANGHAI
from orderpilot.services import retention
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

log = structlog.get_logger("orderpilot.refused_reports")
SWEEP_TIMER = "refused_reports.sweep"
SWEEP_BATCH = 5000  # rows forgotten per transaction; a full batch re-arms the sweep


class RefusedReports(Protocol):
    def keep(self, report: RefusedReport) -> bool: ...
    def prune(self, before: datetime, limit: int = 1000) -> int: ...


def keep_refusal(uow_factory: UowFactory, clock: Clock, error: OrderpilotError, *,
                 order_id: str, event_type: str, source: str, source_event_id: str | None,
                 data: dict[str, Any]) -> None:
    """Keep ``error`` if it refused the report (see ``reason_of``); never raises: a refusal
    that could not be kept is logged, and the caller still answers the refusal."""
    reason = refusals.reason_of(error)
    if reason is None:
        return
    kind = lifecycle.EVENT_TYPES.get(event_type)
    system = lifecycle.system_of(source, kind) if kind is not None else source
    try:
        with uow_factory() as uow:
            now = clock()
            order = uow.orders.get(order_id) if reason != "unknown_order" else None
            uow.refused_reports.keep(RefusedReport(
                now, source[:64], system[:16], order_id[:200], event_type[:64],
                source_event_id[:200] if source_event_id else None,
                order.status if order is not None else None, reason,
                error.message[:refusals.DETAIL_CHARS],
                error.message_zh[:refusals.DETAIL_CHARS], refusals.capped(data)))
            # Bounded growth: the first refusal of a business day wakes that day's sweep.
            uow.timers.schedule(f"refused_reports:sweep:{now.astimezone(SHANGHAI).date()}",
                                SWEEP_TIMER, now, {}, now)
    except Exception:  # keeping is a record for people; the refusal is answered regardless
        log.exception("refusal_not_kept", order_id=order_id, source=source, reason=reason)


def sweeper(keep_days: int) -> Callable[[JsonObject, UnitOfWork, Clock], None]:
    """The timer handler forgetting refusals last seen more than ``keep_days`` ago
    (``ORDERPILOT_REFUSED_REPORTS_KEEP_DAYS``, bound in ``bootstrap.py``)."""
    return retention.sweeper(SWEEP_TIMER, keep_days, SWEEP_BATCH,
                             lambda uow, before, batch: uow.refused_reports.prune(before, batch))
