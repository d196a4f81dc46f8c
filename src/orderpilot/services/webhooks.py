"""Outbound webhooks (docs/webhooks.md): subscriptions, the handler that queues deliveries and
the sender that POSTs them.

The ``webhooks.enqueue`` handler runs for every event inside the event's transaction and queues
one delivery per matching active subscription (unique per subscription and event, so a
redelivered event queues nothing twice). The :class:`WebhookSender` claims due deliveries with
a lease, POSTs each outside any transaction with a short timeout, and records the attempt:
delivered on a 2xx, otherwise due again after an exponential backoff, dead-lettered after
``MAX_ATTEMPTS``. A crash between the POST and the record sends it again when the lease ends:
at least once, so receivers dedupe on the ``X-Orderpilot-Delivery`` header.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from orderpilot.domain import webhooks as rules
from orderpilot.domain.errors import Conflict, HostNotAllowed, InvalidInput, NotFound
from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.records import JsonObject
from orderpilot.domain.times import SHANGHAI
from orderpilot.services import retention
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

log = structlog.get_logger("orderpilot.webhooks")
SWEEP_TIMER = "webhooks.sweep"
SWEEP_BATCH = 2000  # deliveries forgotten per transaction; a full batch re-arms the sweep
KEEP_DAYS = 30  # default of ORDERPILOT_WEBHOOK_DELIVERIES_KEEP_DAYS


class WebhookStore(Protocol):
    def add_subscription(self, row: dict[str, Any]) -> None: ...
    def subscriptions(self) -> list[dict[str, Any]]: ...
    def subscription(self, subscription_id: str) -> dict[str, Any] | None: ...
    def active(self) -> list[tuple[str, list[str]]]: ...
    def set_status(self, subscription_id: str, status: str) -> bool: ...
    def enqueue(self, row: dict[str, Any]) -> bool: ...
    def claim(self, worker: str, now: datetime, lease: timedelta,
              limit: int) -> list[dict[str, Any]]: ...
    def record(self, delivery_id: str, worker: str, now: datetime, *, status: str,
               retry_at: datetime | None, attempt: dict[str, Any]) -> bool: ...
    def replay(self, delivery_id: str, now: datetime) -> str | None: ...
    def deliveries(self, subscription_id: str, *, status: str | None = None,
                   before_seq: int | None = None, limit: int = 50) -> list[dict[str, Any]]: ...
    def delivery(self, delivery_id: str) -> dict[str, Any] | None: ...
    def attempts(self, delivery_ids: list[str]) -> dict[str, list[dict[str, Any]]]: ...
    def counts(self) -> dict[str, int]: ...
    def prune_delivered(self, before: datetime, limit: int) -> int: ...


@dataclass(frozen=True)
class Answer:
    status: int
    text: str


class Poster(Protocol):
    """POSTs a body to a URL (adapters/webhook_http.py: the allow-listed, guarded client).
    Raises on a refused URL (``HostNotAllowed``), a timeout or a broken connection."""

    def post(self, url: str, headers: Mapping[str, str], body: bytes,
             timeout_s: float) -> Answer: ...


# -- subscriptions -------------------------------------------------------------------------


def subscribe(uow: UnitOfWork, clock: Clock, check_url: Callable[[str], str | None], *,
              url: str, events: Sequence[str], secret: str | None, description: str = "",
              by: str = "") -> tuple[dict[str, Any], str | None]:
    """A new active subscription; returns it and the secret when the hub chose it (shown
    once). CHECK_URL: the connector allow-list's refusal of URL, or None."""
    refusal = check_url(url)
    if refusal:
        raise InvalidInput(f"url is not on the outbound allow-list: {refusal}", field="url",
                           zh=f"url 不在外呼白名单内：{refusal}")
    chosen = rules.check_events(events)
    generated = None
    if secret is None:
        secret = generated = "whsec_" + secrets.token_urlsafe(32)
    rules.check_secret(secret)
    subscription_id = new_id()
    row = {"id": subscription_id, "url": url, "events": chosen, "secret": secret,
           "description": description, "status": "active", "created_at": clock(),
           "created_by": by}
    uow.webhooks.add_subscription(row)
    shown = uow.webhooks.subscription(subscription_id)
    assert shown is not None
    return shown, generated


def get_subscription(uow: UnitOfWork, subscription_id: str) -> dict[str, Any]:
    found = uow.webhooks.subscription(subscription_id)
    if found is None:
        raise NotFound(f"no webhook subscription {subscription_id!r}", field="webhook_id",
                       zh=f"没有 webhook 订阅 {subscription_id!r}")
    return found


def set_enabled(uow: UnitOfWork, subscription_id: str, enabled: bool) -> dict[str, Any]:
    get_subscription(uow, subscription_id)
    uow.webhooks.set_status(subscription_id, "active" if enabled else "disabled")
    return get_subscription(uow, subscription_id)


def missing_delivery(delivery_id: str) -> NotFound:
    return NotFound(f"no webhook delivery {delivery_id!r}", field="delivery_id",
                    zh=f"没有 webhook 投递 {delivery_id!r}")


def replay(uow: UnitOfWork, delivery_id: str, clock: Clock) -> dict[str, Any]:
    """Send a dead-lettered (or delivered) delivery again, from its first attempt."""
    before = uow.webhooks.replay(delivery_id, clock())
    if before is None:
        raise missing_delivery(delivery_id)
    if before == "pending":
        raise Conflict("the delivery is still pending: it is sent (or retried) on its own",
                       code="delivery_pending", zh="该投递仍在等待发送，会自动发送或重试")
    found = uow.webhooks.delivery(delivery_id)
    assert found is not None
    return found


# -- the handler ---------------------------------------------------------------------------


def body_of(delivery_id: str, event: OrderEvent) -> str:
    """The delivery's JSON body, fixed when queued: retries and replays send the same bytes."""
    return json.dumps({
        "id": delivery_id, "type": event.type,
        "event": {"id": event.id, "type": event.type, "order_id": event.order_id,
                  "source": event.source, "system": event.system,
                  "occurred_at": event.occurred_at.isoformat(),
                  "recorded_at": event.recorded_at.isoformat(), "payload": event.payload}},
        ensure_ascii=False, separators=(",", ":"), default=str)


def enqueue_deliveries(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """One delivery per active subscription that wants EVENT (an insert-if-absent per
    subscription and event: safe to run twice)."""
    wanted = [sid for sid, events in uow.webhooks.active() if rules.wants(events, event.type)]
    now = clock()
    for subscription_id in wanted:
        delivery_id = new_id()
        uow.webhooks.enqueue({
            "id": delivery_id, "subscription_id": subscription_id, "event_id": event.id,
            "event_type": event.type, "order_key": event.order_id or "", "status": "pending",
            "attempts": 0, "replays": 0, "due_at": now, "created_at": now,
            "body": body_of(delivery_id, event)})


# -- the sender ----------------------------------------------------------------------------


def sweeper(keep_days: int,
            batch: int = SWEEP_BATCH) -> Callable[[JsonObject, UnitOfWork, Clock], None]:
    """The timer handler forgetting deliveries delivered more than ``keep_days`` ago, with
    their attempts (``ORDERPILOT_WEBHOOK_DELIVERIES_KEEP_DAYS``, bound in ``bootstrap.py``),
    BATCH a round. The sender arms it once a day, at the first delivery it records that day."""
    return retention.sweeper(SWEEP_TIMER, keep_days, batch,
                             lambda uow, before, batch: uow.webhooks.prune_delivered(before,
                                                                                     batch))


@dataclass(frozen=True)
class SenderSettings:
    timeout_s: float = 5.0
    lease: timedelta = timedelta(seconds=60)  # longer than a send, shorter than a backoff
    batch_size: int = 20
    idle_poll_seconds: float = 1.0


def signed_headers(secret: str, delivery_id: str, event_type: str, body: bytes,
                   timestamp: int) -> dict[str, str]:
    return {"Content-Type": "application/json",
            rules.SIGNATURE_HEADER: rules.signature(secret, timestamp, body),
            rules.TIMESTAMP_HEADER: str(timestamp), rules.EVENT_HEADER: event_type,
            rules.DELIVERY_HEADER: delivery_id, "User-Agent": "orderpilot-webhooks"}


class WebhookSender:
    def __init__(self, uow_factory: UowFactory, poster: Poster, clock: Clock, worker_id: str,
                 settings: SenderSettings | None = None,
                 unix_time: Callable[[], float] = time.time) -> None:
        self.uow_factory, self.poster, self.clock = uow_factory, poster, clock
        self.worker_id, self.unix_time = worker_id, unix_time
        self.settings = settings or SenderSettings()
        self._wake = threading.Event()
        self._sweep_armed = ""  # the day this sender last armed the retention sweep

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                sent = self.run_once()
            except Exception:
                log.exception("webhook_cycle_failed")
                sent = 0
            if sent == 0:
                self._wake.wait(self.settings.idle_poll_seconds)
                self._wake.clear()

    def run_once(self) -> int:
        """Send every claimable delivery once; returns how many were tried."""
        with self.uow_factory().autocommit() as uow:  # one statement
            claimed = uow.webhooks.claim(self.worker_id, self.clock(), self.settings.lease,
                                         self.settings.batch_size)
        for delivery in claimed:
            self.send(delivery)
        return len(claimed)

    def send(self, delivery: dict[str, Any]) -> None:
        body = str(delivery["body"]).encode()
        headers = signed_headers(delivery["secret"], delivery["id"], delivery["event_type"],
                                 body, int(self.unix_time()))
        started = time.perf_counter()
        answer: Answer | None = None
        error: str | None = None
        permanent = False
        try:
            answer = self.poster.post(delivery["url"], headers, body, self.settings.timeout_s)
        except Exception as failure:  # a refusal, a timeout, a reset: the attempt failed
            error = f"{type(failure).__name__}: {failure}"[:1000]
            permanent = isinstance(failure, HostNotAllowed)  # the allow-list changed
        duration_ms = int((time.perf_counter() - started) * 1000)
        attempts = int(delivery["attempts"]) + 1
        ok = answer is not None and rules.succeeded(answer.status)
        wait = None if ok or permanent else rules.retry_after(attempts)
        now = self.clock()
        status = "delivered" if ok else ("pending" if wait is not None else "dead")
        if answer is not None and not ok:
            error = f"the receiver answered HTTP {answer.status}"
        day = now.astimezone(SHANGHAI).date().isoformat()
        with self.uow_factory() as uow:
            if ok and self._sweep_armed != day:  # bounded growth: one sweep a day
                uow.timers.schedule(f"webhooks:sweep:{day}", SWEEP_TIMER, now, {}, now)
            uow.webhooks.record(delivery["id"], self.worker_id, now, status=status,
                                retry_at=now + wait if wait is not None else None, attempt={
                                    "request_headers": headers,
                                    "response_status": answer.status if answer else None,
                                    "response_body": answer.text[:rules.STORED_RESPONSE_CHARS]
                                    if answer else None,
                                    "last_error": error, "duration_ms": duration_ms})
        if ok:
            self._sweep_armed = day
        if not ok:
            log.warning("webhook_delivery_failed", delivery_id=delivery["id"], error=error,
                        attempts=attempts, status=status)
