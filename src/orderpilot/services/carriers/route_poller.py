"""The route poller: asks a carrier for the routes of every waybill not yet delivered, every
N minutes, so a lost push is caught up (recording is idempotent by ``source_event_id``, so
nodes a push brought already change nothing).

Claiming marks the waybills as polled in one short transaction; the carrier is called outside
any transaction, a batch of waybills per call (SF takes 10); each node is then recorded in its
own transaction (services/carriers/tracking.py). A failed call is logged and the batch waits
for its next turn.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import structlog

from orderpilot.domain.shipments import CarrierEvent
from orderpilot.services.carriers.tracking import Recorded, record_routes
from orderpilot.services.unit_of_work import Clock, UowFactory

log = structlog.get_logger("orderpilot.carriers")


class RouteSource(Protocol):
    """A carrier's route query (integrations/sf_express/client.py ``SfExpress`` is one)."""

    def search_routes(self, waybills: Sequence[str]) -> list[CarrierEvent]: ...


# Where the events no order takes go: (events, reason); the composition root passes one
# that keeps them in quarantine.
Quarantine = Callable[[Sequence[CarrierEvent], str], None]


@dataclass(frozen=True)
class PollerSettings:
    every: timedelta = timedelta(minutes=30)
    batch_size: int = 10  # waybills per call
    calls_per_cycle: int = 20
    idle_poll_seconds: float = 30.0


class RoutePoller:
    def __init__(self, carrier: str, source: RouteSource, uow_factory: UowFactory, clock: Clock,
                 quarantine: Quarantine, settings: PollerSettings | None = None) -> None:
        self.carrier, self.source = carrier, source
        self.uow_factory, self.clock, self.quarantine = uow_factory, clock, quarantine
        self.settings = settings or PollerSettings()

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                asked = self.run_once()
            except Exception:
                log.exception("route_poller_cycle_failed", carrier=self.carrier)
                asked = 0
            if asked == 0:
                stop.wait(self.settings.idle_poll_seconds)

    def run_once(self) -> int:
        """One cycle: up to ``calls_per_cycle`` batches. Returns how many waybills it asked."""
        asked = 0
        for _ in range(self.settings.calls_per_cycle):
            now = self.clock()
            with self.uow_factory() as uow:
                batch = uow.shipments.claim_due(self.carrier, now - self.settings.every, now,
                                                self.settings.batch_size)
            if not batch:
                break
            asked += len(batch)
            try:
                events = self.source.search_routes(batch)
            except Exception as error:  # the carrier is down or refused: next turn
                log.warning("route_query_failed", carrier=self.carrier, waybills=batch,
                            error=str(error))
                continue
            self.keep(record_routes(events, self.uow_factory, self.clock))
        return asked

    def keep(self, done: Recorded) -> None:
        if done.unknown:
            self.quarantine(done.unknown, "no order follows this waybill")
        for event, error in done.refused:
            self.quarantine([event], f"{error.code}: {error}")
