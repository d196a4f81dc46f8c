"""Event handlers and timer handlers: plain functions, every one listed in one table here.

Each runs inside a unit of work together with its inbox mark, so its effect happens once even
though delivery is at least once.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orderpilot.domain.commands import ReleaseHold
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.exceptions import PLAYBOOK_TIMER
from orderpilot.domain.records import JsonObject, text, text_or_none
from orderpilot.domain.refused_reports import KEEP_DAYS as REFUSALS_KEPT_DAYS
from orderpilot.domain.times import SHANGHAI
from orderpilot.services import (
    event_relay,
    expectations,
    ordering,
    refused_reports,
    webhooks,
    wms_checks,
    wms_outbound,
)
from orderpilot.services.back_office import booking as erp_booking
from orderpilot.services.carriers import tracking
from orderpilot.services.exceptions import feed as exception_feed
from orderpilot.services.exceptions import sweep as exception_sweep
from orderpilot.services.inventory import allocation as inventory
from orderpilot.services.inventory import promotions, stock_arrivals
from orderpilot.services.inventory import pull as inventory_pull
from orderpilot.services.inventory import retry as stock_retry
from orderpilot.services.unit_of_work import Clock, UnitOfWork

if TYPE_CHECKING:
    from orderpilot.services.rules.triggers import RuleTriggers

EventHandler = Callable[[OrderEvent, UnitOfWork, Clock], None]
TimerHandler = Callable[[JsonObject, UnitOfWork, Clock], None]


@dataclass
class HandlerRegistry:
    by_event: dict[str, list[tuple[str, EventHandler]]] = field(
        default_factory=lambda: defaultdict(list))
    by_timer: dict[str, TimerHandler] = field(default_factory=dict)
    # Handlers that deduplicate their own effects (by unique keys): no inbox row per event.
    self_deduplicating: set[str] = field(default_factory=set)

    def on(self, event_type: str, name: str, handler: EventHandler, *,
           idempotent: bool = False) -> None:
        """Register ``handler`` under a stable ``name`` (the inbox key); '*' means every event.
        ``idempotent`` handlers skip the inbox: running one twice must change nothing."""
        self.by_event[event_type].append((name, handler))
        if idempotent:
            self.self_deduplicating.add(name)

    def on_timer(self, kind: str, handler: TimerHandler) -> None:
        self.by_timer[kind] = handler

    def add(self, table: Iterable[Handler]) -> HandlerRegistry:
        for row in table:
            if isinstance(row, On):
                self.on(row.event, row.name, row.handler, idempotent=row.idempotent)
            else:
                self.on_timer(row.kind, row.handler)
        return self

    def for_event(self, event_type: str) -> list[tuple[str, EventHandler]]:
        return [*self.by_event.get(event_type, []), *self.by_event.get("*", [])]


def count_channel_day(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """Orders and GMV per channel per business day (Asia/Shanghai), for the dashboard."""
    day = event.occurred_at.astimezone(SHANGHAI).date().isoformat()
    uow.stats.count_order(day, event.payload["channel"], int(event.payload["total_cents"]))


def auto_release_hold(payload: JsonObject, uow: UnitOfWork, clock: Clock) -> None:
    ordering.release_hold_in(uow, ReleaseHold(text(payload, "order_id"), text(payload, "hold_id"),
                                              released_by="timer",
                                              note="released automatically",
                                              causation_id=text_or_none(payload,
                                                                        "placed_event_id")),
                             clock)


@dataclass(frozen=True)
class On:
    """An event handler: ``name`` is its stable inbox key, '*' as the event means every event.
    An ``idempotent`` handler skips the inbox: running it twice must change nothing."""

    event: str
    name: str
    handler: EventHandler
    idempotent: bool = False


@dataclass(frozen=True)
class OnTimer:
    kind: str
    handler: TimerHandler


Handler = On | OnTimer


def built_in() -> tuple[Handler, ...]:
    """Every built-in handler that needs nothing but a unit of work, in the order they run for
    one event. (The rule triggers need the rule book: see :func:`rule_handlers`.)"""
    return (
        On("order.placed", "stats.channel_day", count_channel_day),
        OnTimer("hold.auto_release", auto_release_hold),
        # Allocation is a no-op for an order that holds stock, and a claim is unique per order
        # and promotion: both may run twice, so they need no inbox row per event.
        On("order.placed", "inventory.allocate_placed", inventory.allocate_when_placed,
           idempotent=True),
        On("order.placed", "promotions.claim", promotions.claim_when_placed, idempotent=True),
        On("payment.succeeded", "inventory.allocate_paid", inventory.allocate_when_paid,
           idempotent=True),
        # The order's sale order is queued for the ERP once (the order id is the key).
        On("payment.succeeded", "erp.queue_booking", erp_booking.queue_booking,
           idempotent=True),
        On("order.cancelled", "inventory.release", inventory.release_when_cancelled),
        On("wms.released", "inventory.confirm", inventory.confirm_when_released),
        On("shipment.shipped", "inventory.consume", inventory.consume_when_shipped),
        # Following a waybill is an insert-if-absent: safe to run twice.
        On("shipment.shipped", "shipments.follow", tracking.follow_when_shipped,
           idempotent=True),
        # Queuing an outbound order is an insert-if-absent per order: safe to run twice.
        On("inventory.allocated", "wms.outbound_due", wms_outbound.due_when_allocated,
           idempotent=True),
        On("payment.succeeded", "wms.outbound_due_paid",
           wms_outbound.due_when_paid_without_stock, idempotent=True),
        # The carrier shipped it: check the WMS told us of its outbound (services/
        # wms_checks.py), an insert-if-absent per order: safe to run twice.
        On("shipment.shipped", "wms.check_due", wms_checks.check_when_shipped,
           idempotent=True),
        OnTimer(inventory.EXPIRY_TIMER, inventory.on_reservation_timer),
        OnTimer(inventory_pull.PULL_TIMER, inventory_pull.on_pull_timer),
        OnTimer(inventory_pull.SWEEP_TIMER, inventory_pull.on_sweep_timer),
        # Stock arrived: retry the orders held out of stock for it (services/inventory/retry.py).
        OnTimer(stock_arrivals.RETRY_TIMER, stock_retry.on_stock_arrived),
        # Refused reports are forgotten after N days (bootstrap binds the setting).
        OnTimer(refused_reports.SWEEP_TIMER, refused_reports.sweeper(REFUSALS_KEPT_DAYS)),
        # Delivered webhooks are forgotten after N days, with their attempts (same binding).
        OnTimer(webhooks.SWEEP_TIMER, webhooks.sweeper(webhooks.KEEP_DAYS)),
        # Expectations: start and stop their clocks (docs/expectations.md). Scheduling is an
        # insert-if-absent per key, cancelling and closing change only open rows: safe to run
        # twice. A due clock records the breach, its event and hold in the timer's transaction.
        On("*", "expectations.watch", expectations.watch, idempotent=True),
        OnTimer(expectations.DUE_TIMER, expectations.on_due),
        # The exception workbench (docs/exceptions.md): opening and resolving are keyed by
        # (kind, hold id), so a redelivered event changes nothing; the playbook timer only
        # moves an exception that is still open.
        On("hold.placed", "exceptions.open_for_hold", exception_feed.on_hold_placed,
           idempotent=True),
        On("hold.released", "exceptions.resolve_for_hold", exception_feed.on_hold_released,
           idempotent=True),
        On("order.cancelled", "exceptions.resolve_for_cancelled",
           exception_feed.on_order_cancelled, idempotent=True),
        OnTimer(PLAYBOOK_TIMER, exception_feed.on_playbook_timer),
        OnTimer(exception_sweep.SWEEP_TIMER, exception_sweep.on_sweep_timer),
        # Outbound webhooks (docs/webhooks.md): one delivery per subscription and event, an
        # insert-if-absent on that pair: safe to run twice.
        On("*", "webhooks.enqueue", webhooks.enqueue_deliveries, idempotent=True),
    )


def rule_handlers(triggers: RuleTriggers) -> tuple[Handler, ...]:
    """The rule engine's way in: every event may match rules; timeouts and schedules fire."""
    return (On("*", "rules.match", triggers.on_event, idempotent=True),
            OnTimer("rule.timeout", triggers.on_timeout),
            OnTimer("rule.schedule", triggers.on_schedule))


def relay_handlers(subject_prefix: str) -> tuple[Handler, ...]:
    """The NATS JetStream relay's way in (docs/webhooks.md), added by bootstrap only when
    ``ORDERPILOT_NATS_RELAY_URL`` is set: every event queued once (insert-if-absent per id)."""
    return (On("*", "relay.nats", event_relay.queue_for(subject_prefix), idempotent=True),)


def default_registry() -> HandlerRegistry:
    """The built-in handlers, before plugins and the rule triggers join them."""
    return HandlerRegistry().add(built_in())


def complete(registry: HandlerRegistry, triggers: RuleTriggers,
             plugins: Sequence[str] = ()) -> HandlerRegistry:
    """Add the plugin modules' handlers and then the rule triggers to ``registry``.

    A plugin module (``ORDERPILOT_HANDLER_PLUGINS``) exposes ``HANDLERS`` (a sequence of
    :class:`On` / :class:`OnTimer`) or a ``register(registry)`` function."""
    for module_path in plugins:
        module = importlib.import_module(module_path)
        table = getattr(module, "HANDLERS", None)
        if table is not None:
            registry.add(table)
        else:
            module.register(registry)
    return registry.add(rule_handlers(triggers))
