"""The sweep: exceptions whose source raises no event — a dead letter, a quarantined payload
(API or channel), a WMS outbound order or an ERP booking that gave up — are opened from their
source tables every SWEEP_EVERY, and resolved (``source_gone``) once the source no longer fails
(redriven, replayed, sent, booked). Keyed by (kind, subject ref): running it twice changes
nothing; a resolved exception is never reopened by it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from orderpilot.domain.exceptions import REASONS, classify_hold
from orderpilot.domain.records import JsonObject, text
from orderpilot.services.exceptions.feed import HUB, OPENED, open_exception, resolve_in
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

SWEEP_TIMER = "exception.sweep"
SWEEP_EVERY = timedelta(minutes=5)
SWEPT_KINDS = ("dead_letter", "quarantined_payload", "failed_push")


class FailingSource(NamedTuple):
    """One failing source row, as the sweep reads it (adapters/exceptions.py)."""

    reason: str  # a code of domain/exceptions.py REASONS (a hold's own reason for holds)
    subject_ref: str
    order_id: str | None
    since: datetime
    detail: dict[str, Any]


def sweep_in(uow: UnitOfWork, now: datetime) -> tuple[int, int]:
    """Open what fails, resolve what no longer does; (opened, resolved). Active holds with no
    exception (placed before migration 0024, or whose event is not delivered yet) are opened
    too, as their handler would."""
    held = sum(1 for h in uow.exceptions.holds_without_exception() if open_exception(
        uow, classify_hold(h.reason), h.subject_ref, h.order_id, h.since, now, h.detail)
        is not None)
    failing = [s for s in uow.exceptions.failing_sources()
               # an undeliverable exception.opened would open another exception: no loop
               if not (s.reason == "dead_letter" and s.detail.get("event_type") == OPENED)]
    opened = sum(1 for s in failing if open_exception(
        uow, REASONS[s.reason], s.subject_ref, s.order_id, s.since, now, s.detail) is not None)
    live = {(REASONS[s.reason].kind, s.subject_ref) for s in failing}
    resolved = 0
    for record in uow.exceptions.active_of_kinds(SWEPT_KINDS):
        if (record.kind, record.subject_ref) not in live:
            resolved += resolve_in(uow, record, "source_gone", HUB, now)
    return opened + held, resolved


def _next_slot(after: datetime) -> datetime:
    """The next SWEEP_EVERY boundary: every process computes the same key, so two starts of
    the chain are one chain."""
    step = int(SWEEP_EVERY.total_seconds())
    seconds = int(after.timestamp()) // step * step + step
    return datetime.fromtimestamp(seconds, UTC)


def _schedule(uow: UnitOfWork, fire_at: datetime, now: datetime) -> None:
    uow.timers.schedule(f"exceptions:sweep:{fire_at.isoformat()}", SWEEP_TIMER, fire_at,
                        {"fire_at": fire_at.isoformat()}, now)


def on_sweep_timer(payload: JsonObject, uow: UnitOfWork, clock: Clock) -> None:
    now = clock()
    sweep_in(uow, now)
    following = datetime.fromisoformat(text(payload, "fire_at")) + SWEEP_EVERY
    _schedule(uow, following if following > now else _next_slot(now), now)


def ensure_sweeper(uow_factory: UowFactory, clock: Clock) -> None:
    """Start (or mend) the sweep's timer chain; harmless when it runs."""
    with uow_factory() as uow:
        now = clock()
        _schedule(uow, _next_slot(now), now)
