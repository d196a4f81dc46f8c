"""The optional relay of the event stream to NATS JetStream (docs/webhooks.md), for companies
that already run one. Off unless ``ORDERPILOT_NATS_RELAY_URL`` is set.

The ``relay.nats`` handler queues each event in the event's own transaction (an insert-if-absent
per event id: safe to run twice); the :class:`EventRelay` publishes the queue in order, outside
any transaction, each message with ``Nats-Msg-Id`` = the event id, and deletes what JetStream
acknowledged. A crash between the ack and the delete publishes again: JetStream drops the
duplicate inside its duplicate window (https://docs.nats.io/using-nats/developer/develop_jetstream/model_deep_dive#message-deduplication).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from orderpilot.domain.events import OrderEvent
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory
from orderpilot.services.webhooks import body_of

log = structlog.get_logger("orderpilot.nats_relay")


class RelayStore(Protocol):
    def add(self, event_id: str, subject: str, body: str) -> bool: ...
    def claim(self, now: datetime, lease: timedelta, limit: int) -> list[dict[str, Any]]: ...
    def published(self, seqs: list[int]) -> None: ...
    def failed(self, seqs: list[int], error: str) -> None: ...
    def waiting(self) -> int: ...


class Publisher(Protocol):
    """Publishes to JetStream and waits for its acks (adapters/nats_jetstream.py)."""

    def publish(self, messages: Sequence[tuple[str, bytes, str]]) -> int:
        """(subject, body, message id) in order; how many were acknowledged, from the first."""
        ...


def queue_for(prefix: str) -> Any:
    """The ``relay.nats`` handler: subject ``<prefix>.<event type>``."""
    def queue_event(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
        uow.nats_relay.add(event.id, f"{prefix}.{event.type}", body_of(event.id, event))
    return queue_event


@dataclass(frozen=True)
class RelaySettings:
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 200
    idle_poll_seconds: float = 1.0


class EventRelay:
    def __init__(self, uow_factory: UowFactory, publisher: Publisher, clock: Clock,
                 settings: RelaySettings | None = None) -> None:
        self.uow_factory, self.publisher, self.clock = uow_factory, publisher, clock
        self.settings = settings or RelaySettings()

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                done = self.run_once()
            except Exception:
                log.exception("nats_relay_cycle_failed")
                done = 0
            if done == 0:
                stop.wait(self.settings.idle_poll_seconds)

    def run_once(self) -> int:
        """Publish one batch; returns how many JetStream acknowledged."""
        with self.uow_factory().autocommit() as uow:  # one statement
            batch = uow.nats_relay.claim(self.clock(), self.settings.lease,
                                         self.settings.batch_size)
        if not batch:
            return 0
        error = ""
        try:
            acked = self.publisher.publish([(row["subject"], str(row["body"]).encode(),
                                             row["event_id"]) for row in batch])
        except Exception as failure:  # NATS down, no stream, a timeout: try again later
            acked, error = 0, f"{type(failure).__name__}: {failure}"
        seqs = [row["seq"] for row in batch]
        with self.uow_factory() as uow:
            uow.nats_relay.published(seqs[:acked])
            uow.nats_relay.failed(seqs[acked:], error or "not acknowledged")
        if acked < len(batch):
            log.warning("nats_relay_failed", error=error, acked=acked, batch=len(batch))
        return acked
