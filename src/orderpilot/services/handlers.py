"""Event handlers and timer handlers: plain functions registered in one table.

Each runs inside a unit of work together with its inbox mark, so its effect happens once even
though delivery is at least once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta, timezone

from orderpilot.domain.commands import ReleaseHold
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.records import JsonObject, text, text_or_none
from orderpilot.services import ordering
from orderpilot.services.inventory import allocation as inventory
from orderpilot.services.unit_of_work import Clock, UnitOfWork

EventHandler = Callable[[OrderEvent, UnitOfWork, Clock], None]
TimerHandler = Callable[[JsonObject, UnitOfWork, Clock], None]
SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


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


def default_registry() -> HandlerRegistry:
    registry = HandlerRegistry()
    registry.on("order.placed", "stats.channel_day", count_channel_day)
    registry.on_timer("hold.auto_release", auto_release_hold)
    inventory.register(registry)
    return registry

