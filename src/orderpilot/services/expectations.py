"""Expectations, live: a durable timer per (expectation, order, A event); B cancels it or,
once breached, closes the breach with its lateness; a timer that fires without B records the
breach, an ``expectation.breached`` event (a rule trigger) and, for severity ``hold``, a hold.

The handlers run in the dispatcher's unit of work with their inbox mark, and a timer fires in
one transaction with its completion, so redelivery or a kill -9 records a breach once (the
breach is unique per expectation and A event as well).

Publishing, listing and disabling are here too; the retroactive count over all history is
computed by the caller's ``Evaluate`` (the analytics snapshot lives in the adapters).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from orderpilot.domain.errors import NotFound
from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.expectation_records import Breach, StoredExpectation
from orderpilot.domain.expectations import BREACHED, TEMPLATES, Expectation, OrderFacts, parse
from orderpilot.domain.money import from_cents, to_cents
from orderpilot.domain.order import Order
from orderpilot.domain.records import JsonObject, text
from orderpilot.services import audit_trail
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

DUE_TIMER = "expectation.due"
Evaluate = Callable[[Expectation], int]  # the retroactive breach count over all history


class ExpectationStore(Protocol):
    def watching(self, event_type: str) -> list[Expectation]: ...
    def get(self, code: str) -> StoredExpectation | None: ...
    def listing(self) -> list[StoredExpectation]: ...
    def put(self, expectation: Expectation, by: str, now: datetime) -> int: ...
    def evaluated(self, code: str, count: int, now: datetime) -> None: ...
    def add_breach(self, breach: Breach) -> bool: ...
    def open_breaches(self, code: str, order_id: str, until: datetime) -> list[Breach]: ...
    def resolve(self, breach_id: str, resolved_at: datetime, late_by_seconds: int) -> None: ...
    def close_open(self, code: str) -> int: ...
    def breaches(self, code: str | None, status: str | None, limit: int) -> list[Breach]: ...
    def open_counts(self) -> dict[str, tuple[int, dict[str, int]]]: ...
    def first_after(self, order_id: str, event_type: str, since: datetime,
                    source: str | None) -> datetime | None: ...
    def after_event_ids(self, order_id: str, event_type: str, until: datetime) -> list[str]: ...
    def open_receivable_cents(self, order_id: str) -> int: ...


def facts(order: Order) -> OrderFacts:
    return OrderFacts(order.channel, order.shop_id, order.currency, order.total,
                      tuple(line.sku for line in order.lines), tuple(order.tags))


def watch(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """Every event: start the clock of the expectations it is A of, stop those it is B of."""
    if event.order_id is None or event.type == BREACHED:
        return
    watched = uow.expectations.watching(event.type)
    if not watched:
        return
    now = clock()
    order = uow.orders.get(event.order_id)
    if order is None:
        return
    for x in watched:
        if x.after == event.type and x.condition.holds(facts(order)):
            due = event.occurred_at + timedelta(minutes=x.within_minutes)
            # Already past (history reported late): the dispatcher fires it on its next pass.
            uow.timers.schedule(x.timer_key(order.id, event.id), DUE_TIMER, due,
                                {"code": x.code, "order_id": order.id,
                                 "after_event_id": event.id,
                                 "after_at": event.occurred_at.isoformat(),
                                 "due_at": due.isoformat()}, now, order_id=order.id)
        if x.expect == event.type and x.source_matches(event.source, event.system):
            _arrived(x, event, order.id, uow)


def _arrived(x: Expectation, event: OrderEvent, order_id: str, uow: UnitOfWork) -> None:
    """B came: the clocks of every earlier A stop; breaches already recorded close late."""
    for after_id in uow.expectations.after_event_ids(order_id, x.after, event.occurred_at):
        uow.timers.cancel(x.timer_key(order_id, after_id))
    for breach in uow.expectations.open_breaches(x.code, order_id, event.occurred_at):
        late = int((event.occurred_at - breach.due_at).total_seconds())
        uow.expectations.resolve(breach.id, event.occurred_at, late)


def on_due(payload: JsonObject, uow: UnitOfWork, clock: Clock) -> None:
    """The time is up: B came in time (nothing), came late (a resolved breach) or not at all."""
    stored = uow.expectations.get(text(payload, "code"))
    if stored is None or not stored.expectation.enabled:
        return
    x = stored.expectation
    order_id, after_id = text(payload, "order_id"), text(payload, "after_event_id")
    after_at = datetime.fromisoformat(text(payload, "after_at"))
    due_at = datetime.fromisoformat(text(payload, "due_at"))
    came = uow.expectations.first_after(order_id, x.expect, after_at, x.source)
    if came is not None and came <= due_at:
        return
    now = clock()
    order = uow.orders.get(order_id, for_update=True)
    if order is None:
        return
    risk = (uow.expectations.open_receivable_cents(order_id) if x.about_receivables
            else to_cents(order.total))
    late = None if came is None else int((came - due_at).total_seconds())
    breach = Breach(new_id(), x.code, order_id, after_id, after_at, due_at, came, late,
                    "open" if came is None else "resolved_late", risk, order.currency, now)
    if not uow.expectations.add_breach(breach) or came is not None:
        return
    order.record(BREACHED, "hub", now, now,
                 {"code": x.code, "name_zh": x.name_zh, "name_en": x.name_en,
                  "after": x.after, "expect": x.expect, "after_event_id": after_id,
                  "after_at": after_at.isoformat(), "due_at": due_at.isoformat(),
                  "severity": x.severity, "amount_at_risk_cents": risk},
                 causation_id=after_id)
    if x.severity == "hold" and x.hold_reason not in {h.reason for h in order.active_holds}:
        order.place_hold(x.hold_reason, f"{x.name_zh} / {x.name_en}", "expectation", "system",
                         now, causation_id=after_id)
    uow.orders.save(order, now)
    uow.events.append(order.events)


def publish(uow_factory: UowFactory, clock: Clock, code: str, body: object, by: str,
            evaluate: Evaluate) -> dict[str, Any]:
    """Create or replace; the retroactive count over all history is stored and returned."""
    expectation = parse(code, body)
    with uow_factory() as uow:
        version = uow.expectations.put(expectation, by, clock())
        audit_trail.record(uow, clock, "expectation.publish", subject_type="expectation",
                           subject_id=code, after={"version": version,
                                                   "enabled": expectation.enabled})
    count = evaluate(expectation)
    with uow_factory() as uow:
        uow.expectations.evaluated(code, count, clock())
        stored = _get(uow, code)
    return {**stored.shown(), "version": version}


def evaluate_now(uow_factory: UowFactory, clock: Clock, code: str,
                 evaluate: Evaluate) -> dict[str, Any]:
    with uow_factory() as uow:
        stored = _get(uow, code)
    count = evaluate(stored.expectation)
    with uow_factory() as uow:
        uow.expectations.evaluated(code, count, clock())
        return _get(uow, code).shown()


def disable(uow_factory: UowFactory, clock: Clock, code: str, by: str) -> dict[str, Any]:
    """Stop watching: pending clocks are cancelled and open breaches closed (kept as history)."""
    with uow_factory() as uow:
        stored = _get(uow, code)
        if stored.expectation.enabled:
            uow.expectations.put(replace(stored.expectation, enabled=False), by, clock())
            audit_trail.record(uow, clock, "expectation.disable", subject_type="expectation",
                               subject_id=code, before={"enabled": True},
                               after={"enabled": False})
        uow.timers.cancel_prefix(f"expectation:{code}:")
        closed = uow.expectations.close_open(code)
        return {**_get(uow, code).shown(), "breaches_closed": closed}


def get(uow_factory: UowFactory, code: str) -> StoredExpectation:
    with uow_factory() as uow:
        return _get(uow, code)


def overview(uow_factory: UowFactory) -> list[dict[str, Any]]:
    """Every expectation with its open breaches (live) and their amount at risk per currency."""
    with uow_factory() as uow:
        listed = uow.expectations.listing()
        counts = uow.expectations.open_counts()
    shown = []
    for stored in listed:
        open_count, amounts = counts.get(stored.expectation.code, (0, {}))
        shown.append({**stored.shown(), "open_breaches": open_count,
                      "open_amount_at_risk": {c: str(from_cents(v))
                                              for c, v in sorted(amounts.items())}})
    return shown


def breaches(uow_factory: UowFactory, code: str | None = None, status: str | None = None,
             limit: int = 100) -> list[Breach]:
    """Breaches the live clocks recorded, the latest due first."""
    with uow_factory() as uow:
        return uow.expectations.breaches(code, status, limit)


def templates() -> list[dict[str, Any]]:
    return [dict(t) for t in TEMPLATES]


def _get(uow: UnitOfWork, code: str) -> StoredExpectation:
    stored = uow.expectations.get(code)
    if stored is None:
        raise NotFound(f"no expectation {code!r}", field="code", zh=f"没有预期 {code!r}")
    return stored
