"""Outbound orders (出库单) pushed to the WMS once an order may leave the warehouse.

An order becomes due when it reaches ``allocated`` (``inventory.allocated`` moved it), or when
it is paid and the hub keeps no stock sources (so nothing will allocate it). The handlers only
queue it (an insert-if-absent, in the event's transaction); the :class:`OutboundPusher` sends
it outside any transaction, ``POST <wms>/api/outbound-orders`` with ``Idempotency-Key`` = the
order id, so a push sent twice (a crash after the call, before the mark) is one outbound order
at the WMS. The WMS later reports ``wms.released`` through the events API. A cancelled order's
push is withdrawn, never sent; one waiting for its platform to confirm a cancellation
(services/cancellation.py) waits.

Our WMS contract (integrations/wms/simulator.py implements it): body ``{"order_id",
"channel", "shop_id", "external_id", "currency", "ship_to": {...}, "recipient": {"name",
"phone"}, "lines": [{"line_no", "sku", "quantity", "name"}], "allocations": [...]}``; answer
``{"outbound_id", "order_id", "status": "accepted"}``.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from orderpilot.domain.cancellation import CANCEL_HOLD
from orderpilot.domain.errors import ConnectorError, TransientError
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.order import Order
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

log = structlog.get_logger("orderpilot.wms")
WMS = "wms"
PATH = "api/outbound-orders"
CANCEL_WAIT = timedelta(minutes=1)  # an order being cancelled at its platform is not pushed


class OutboundQueue(Protocol):
    def make_due(self, order_id: str, now: datetime) -> bool: ...
    def claim(self, now: datetime, lease: timedelta, limit: int) -> list[tuple[str, int]]: ...
    def sent(self, order_id: str, now: datetime, answer: Any) -> None: ...
    def failed(self, order_id: str, error: str, retry_at: datetime | None) -> None: ...
    def requeue(self, order_id: str, now: datetime) -> bool: ...
    def withdraw(self, order_id: str, now: datetime, *, leased: bool = False) -> str: ...
    def defer(self, order_id: str, until: datetime) -> None: ...
    def status(self, order_id: str) -> dict[str, Any] | None: ...
    def check_due(self, order_id: str, at: datetime) -> bool: ...
    def claim_checks(self, now: datetime, lease: timedelta,
                     limit: int) -> list[tuple[str, int]]: ...
    def check_done(self, order_id: str, now: datetime, outcome: str, recovered: int) -> None: ...
    def check_again(self, order_id: str, at: datetime, error: str) -> None: ...
    def check_counts(self) -> dict[str, int]: ...


class Answer(Protocol):
    @property
    def response(self) -> object: ...


class WmsFeed(Protocol):
    """What the pusher needs of the connectors (``Connectors`` has it)."""

    def http_call(self, method: str, url: str | None = None, *, connector: str | None = None,
                  path: str = "", json_body: Any = None, idempotency_key: str) -> Answer: ...


def due_when_allocated(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    if event.order_id is not None and event.payload.get("outcome") == "moved":
        uow.wms_outbound.make_due(event.order_id, clock())


def due_when_paid_without_stock(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """Paid, and the hub allocates nothing (no stock sources): the WMS gets it now."""
    if event.order_id is not None and event.payload.get("outcome") == "moved" \
            and not uow.inventory.sources():
        uow.wms_outbound.make_due(event.order_id, clock())


def outbound_order(order: Order, allocations: list[dict[str, Any]]) -> dict[str, Any]:
    a = order.shipping_address
    return {"order_id": order.id, "channel": order.channel, "shop_id": order.shop_id,
            "external_id": order.external_id, "currency": order.currency,
            "ship_to": {"country": a.country, "province": a.province, "city": a.city,
                        "district": a.district, "line1": a.line1,
                        "postal_code": a.postal_code},
            "recipient": {"name": order.customer.name, "phone": order.customer.phone},
            "lines": [{"line_no": i, "sku": ln.sku, "quantity": ln.quantity, "name": ln.name}
                      for i, ln in enumerate(order.lines, 1)],
            "allocations": allocations}


@dataclass(frozen=True)
class PusherSettings:
    lease: timedelta = timedelta(minutes=2)
    batch_size: int = 20
    max_attempts: int = 8
    first_backoff: timedelta = timedelta(seconds=30)
    idle_poll_seconds: float = 2.0
    # Outbound orders of a claimed batch sent at once. One at a time, a WMS answering in
    # 100 ms capped a process at 10 a second, and a flash sale's backlog took a quarter of an
    # hour to leave (docs/surge.md). Each order has its own row and lease, so sending
    # several at once changes nothing of what is sent or how often.
    concurrency: int = 8


class OutboundPusher:
    def __init__(self, uow_factory: UowFactory, feed: WmsFeed, clock: Clock,
                 settings: PusherSettings | None = None) -> None:
        self.uow_factory, self.feed, self.clock = uow_factory, feed, clock
        self.settings = settings or PusherSettings()
        self._pool: ThreadPoolExecutor | None = None  # made at the first batch of several

    def run_forever(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    done = self.run_once()
                except Exception:
                    log.exception("wms_outbound_cycle_failed")
                    done = 0
                if done == 0:
                    stop.wait(self.settings.idle_poll_seconds)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    def run_once(self) -> int:
        """Push every due outbound order of one claimed batch (several at once, up to
        ``concurrency``) and return when all are done; returns how many it tried."""
        with self.uow_factory().autocommit() as uow:  # one statement
            claimed = uow.wms_outbound.claim(self.clock(), self.settings.lease,
                                             self.settings.batch_size)
        if len(claimed) <= 1 or self.settings.concurrency <= 1:
            for order_id, attempts in claimed:
                self._push_alone(order_id, attempts)
            return len(claimed)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.settings.concurrency,
                                            thread_name_prefix="wms-outbound-push")
        list(self._pool.map(lambda claim: self._push_alone(*claim), claimed))
        return len(claimed)

    def _push_alone(self, order_id: str, attempts: int) -> None:
        """One push of a batch, one at a time or beside others alike: what goes wrong with it
        stays with it (its lease runs out and it is claimed again), the others go on."""
        try:
            self.push(order_id, attempts)
        except Exception:
            log.exception("wms_outbound_push_failed", order_id=order_id)

    def push(self, order_id: str, attempts: int) -> None:
        with self.uow_factory().autocommit() as uow:  # reads only
            order = uow.orders.get(order_id)
            allocations = [{"sku": a.sku, "source": a.source, "quantity": a.quantity,
                            "line_no": a.line_no}
                           for a in uow.inventory.allocations_of(order_id, active_only=True)]
        if order is None:
            self._failed(order_id, attempts, "the order is gone", retry=False)
            return
        if order.status == "cancelled" or any(h.reason == CANCEL_HOLD
                                              for h in order.active_holds):
            with self.uow_factory() as uow:  # cancelled: never sent; being cancelled: wait
                if order.status == "cancelled":
                    uow.wms_outbound.withdraw(order_id, self.clock(), leased=True)
                else:
                    uow.wms_outbound.defer(order_id, self.clock() + CANCEL_WAIT)
            return
        try:
            answer = self.feed.http_call("POST", connector=WMS, path=PATH,
                                         json_body=outbound_order(order, allocations),
                                         idempotency_key=f"wms-outbound:{order_id}")
        except ConnectorError as error:
            self._failed(order_id, attempts, error.message,
                         retry=isinstance(error, TransientError))
            return
        with self.uow_factory().autocommit() as uow:  # one statement
            uow.wms_outbound.sent(order_id, self.clock(), answer.response)

    def _failed(self, order_id: str, attempts: int, error: str, *, retry: bool) -> None:
        last = attempts + 1 >= self.settings.max_attempts
        retry_at = None if last or not retry else \
            self.clock() + self.settings.first_backoff * (2 ** attempts)
        log.warning("wms_outbound_failed", order_id=order_id, error=error, retry_at=retry_at)
        with self.uow_factory().autocommit() as uow:  # one statement
            uow.wms_outbound.failed(order_id, error, retry_at)
