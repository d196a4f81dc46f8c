"""Paid orders booked in the ERP as sale orders, exactly once, and its receivables read back.

1. ``payment.succeeded`` queues the order for booking in the dispatcher's transaction
   (:func:`queue_booking`; the bill number is the platform order number).
2. :class:`ErpBookingWorker` (a thread beside the dispatchers) claims a batch with a lease and
   calls the ERP outside any transaction. Before the batch goes out it commits ``sent_at``; a
   booking claimed again with ``sent_at`` set (a crash, a time-out, an answer that did not name
   the bill) is first looked up by its bill number, and recorded as booked when the ERP has
   it: a crash between the call and the record never makes a second bill.
3. Per bill: booked -> ``erp.booked`` on the order (source ``kingdee``, source_event_id = the
   bill number, so recording it twice changes nothing); a transient failure -> tried again
   with backoff; a permanent one (a material Kingdee does not know, a lookup the mapping
   lacks) -> stopped with the reason, shown to staff (``GET /api/v1/erp/bookings``), until
   someone queues it again. A partial batch records each bill on its own.
4. On a timer inside the same worker, the receivables changed since a durable watermark are
   read; each one whose sale order is one of our bookings becomes ``erp.receivable_opened``
   or ``erp.receivable_closed`` on the order (view-only events, idempotent by bill and state).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from orderpilot.domain.commands import ReportEvent
from orderpilot.domain.erp import BOOKED, CLOSED, FAILED, BillResult, Receivable
from orderpilot.domain.errors import ConnectorError, OrderpilotError, TransientError
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.order import Order
from orderpilot.services import ordering
from orderpilot.services.back_office.store import Booking
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

log = structlog.get_logger("orderpilot.erp")
SOURCE = "kingdee"
MAPPING_KEY = "erp.mapping"
WATERMARK_KEY = "erp.receivables_since"


class Erp(Protocol):
    """What the worker needs of the ERP (integrations/kingdee/erp.py has it)."""

    name: str

    def book(self, orders: Sequence[Order],
             mapping: dict[str, Any] | None) -> list[BillResult]: ...
    def find(self, bill_nos: Sequence[str]) -> dict[str, str]: ...
    def receivables(self, since: datetime) -> list[Receivable]: ...


def queue_booking(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """``payment.succeeded``: queue the order's sale order (once: the order id is the key)."""
    order = uow.orders.get(event.order_id) if event.order_id else None
    if order is None:
        return
    now = clock()
    taken = uow.back_office.bill_taken_by(order.external_id)
    if taken is None or taken == order.id:
        uow.back_office.queue(order.id, order.external_id, now)
        return
    # Another channel's order has the same number: Kingdee keeps bill numbers unique, so this
    # one waits for staff under a marked number instead of being mistaken for the other.
    uow.back_office.queue(order.id, f"{order.external_id}#{order.id[:8]}", now,
                          stopped=f"bill number {order.external_id} is already used by "
                                  f"order {taken}")


@dataclass(frozen=True)
class BookingSettings:
    batch_size: int = 50
    lease: timedelta = timedelta(seconds=120)
    idle_poll_seconds: float = 1.0
    first_backoff: timedelta = timedelta(seconds=30)
    max_attempts: int = 8
    receivables_every: timedelta = timedelta(minutes=5)
    receivables_lookback: timedelta = timedelta(days=7)  # the first read, with no watermark
    receivables_overlap: timedelta = timedelta(minutes=2)  # late commits in the ERP


@dataclass
class Round:
    """What one run_once did (tests and logs read it)."""

    booked: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # booked by a look-up, not a send
    retried: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    receivable_events: int = 0

    def __len__(self) -> int:
        return len(self.booked) + len(self.found) + len(self.retried) + len(self.stopped)


class ErpBookingWorker:
    def __init__(self, uow_factory: UowFactory, erp: Erp, clock: Clock, worker_id: str,
                 settings: BookingSettings | None = None, *,
                 stop_at: Callable[[str], None] = lambda point: None) -> None:
        self.uow_factory, self.erp, self.clock = uow_factory, erp, clock
        self.worker_id = worker_id
        self.settings = settings or BookingSettings()
        self.stop_at = stop_at  # the crash tests' hook
        self._next_receivables: datetime | None = None

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                done = len(self.run_once())
            except Exception:
                log.exception("erp_booking_cycle_failed", worker=self.worker_id)
                done = 0
            if done == 0:
                stop.wait(self.settings.idle_poll_seconds)

    def run_once(self) -> Round:
        result = Round()
        now = self.clock()
        if self._next_receivables is None or now >= self._next_receivables:
            self._next_receivables = now + self.settings.receivables_every
            try:
                result.receivable_events = self.poll_receivables()
            except (ConnectorError, OrderpilotError) as error:
                log.warning("erp_receivables_failed", error=error.message)
        # The claim commits at once (what is not sent waits out its lease); the reads after it
        # need no transaction of their own.
        with self.uow_factory().autocommit() as uow:
            if not uow.back_office.any_due(now):
                return result
            claimed = uow.back_office.claim(self.worker_id, self.settings.batch_size,
                                            self.settings.lease, now)
            mapping = uow.back_office.setting(MAPPING_KEY)
            orders = {b.order_id: uow.orders.get(b.order_id) for b in claimed}
        for booking in claimed:
            if orders[booking.order_id] is None:
                self._stop(booking, "the order is gone", result)
        claimed = [b for b in claimed if orders[b.order_id] is not None]
        claimed = self._look_up_first(claimed, result)
        if claimed:
            self._send(claimed, {k: v for k, v in orders.items() if v is not None},
                       mapping, result)
        return result

    # --- before a resend: is it there already? ---

    def _look_up_first(self, claimed: list[Booking], result: Round) -> list[Booking]:
        maybe_sent = [b for b in claimed if b.sent_at is not None]
        if not maybe_sent:
            return claimed
        try:
            found = self.erp.find([b.bill_no for b in maybe_sent])
        except ConnectorError as error:
            for booking in claimed:  # nothing is sent while the look-up cannot answer
                self._retry(booking, f"looking the bill up failed: {error.message}", result)
            return []
        for booking in maybe_sent:
            if booking.bill_no in found:
                self._record_booked(booking, found[booking.bill_no], result, looked_up=True)
        return [b for b in claimed if b.bill_no not in found]

    # --- the send ---

    def _send(self, claimed: list[Booking], orders: dict[str, Order],
              mapping: dict[str, Any] | None, result: Round) -> None:
        with self.uow_factory().autocommit() as uow:  # one statement, before the call
            uow.back_office.mark_sending([b.order_id for b in claimed], self.worker_id,
                                         self.clock())
        self.stop_at("erp.before_call")
        try:
            answers = self.erp.book([orders[b.order_id] for b in claimed], mapping)
        except (ConnectorError, OrderpilotError) as error:  # unknown: looked up next time
            for booking in claimed:
                self._retry(booking, error.message, result)
            return
        self.stop_at("erp.after_call")
        by_bill = {a.bill_no: a for a in answers}
        for booking in claimed:
            answer = by_bill.get(booking.bill_no)
            if answer is None:
                self._retry(booking, "the ERP's answer does not name this bill", result)
            elif answer.outcome == BOOKED:
                self._record_booked(booking, answer.erp_id, result)
            elif answer.outcome == FAILED and answer.duplicate:
                self._duplicate(booking, answer, result)
            elif answer.outcome == FAILED and not answer.transient:
                self._stop(booking, answer.error or "refused", result)
            else:  # a transient failure, or unknown: looked up before the next send
                self._retry(booking, answer.error or "unknown outcome", result)

    def _duplicate(self, booking: Booking, answer: BillResult, result: Round) -> None:
        """The ERP says the number is taken: ours (an earlier send got through) or not."""
        try:
            found = self.erp.find([booking.bill_no])
        except ConnectorError as error:
            self._retry(booking, f"{answer.error}; the look-up failed: {error.message}", result)
            return
        if booking.bill_no in found:
            self._record_booked(booking, found[booking.bill_no], result, looked_up=True)
        else:
            self._stop(booking, answer.error or "the bill number is taken", result)

    # --- records ---

    def _record_booked(self, booking: Booking, erp_id: str | None, result: Round, *,
                       looked_up: bool = False) -> None:
        note = None
        try:
            ordering.report_event(ReportEvent(
                booking.order_id, "erp.booked", SOURCE, self.clock(),
                source_event_id=booking.bill_no,
                data={"bill_no": booking.bill_no, "erp_id": erp_id, "form": "SAL_SaleOrder",
                      "found_by_look_up": looked_up}), self.uow_factory, self.clock)
        except TransientError:
            raise
        except OrderpilotError as error:  # e.g. cancelled meanwhile: the bill stays booked
            note = f"booked, but the order refused erp.booked: {error.message}"
            log.warning("erp_booked_not_recorded", order_id=booking.order_id,
                        error=error.message)
        with self.uow_factory().autocommit() as uow:  # one statement
            uow.back_office.booked(booking.order_id, self.worker_id, erp_id, self.clock(),
                                   note)
        (result.found if looked_up else result.booked).append(booking.bill_no)

    def _retry(self, booking: Booking, error: str, result: Round) -> None:
        if booking.attempts + 1 >= self.settings.max_attempts:
            self._stop(booking, f"gave up after {booking.attempts + 1} attempts: {error}",
                       result)
            return
        with self.uow_factory() as uow:
            now = self.clock()
            uow.back_office.retry_later(
                booking.order_id, self.worker_id,
                now + self.settings.first_backoff * 2 ** booking.attempts, error, now)
        result.retried.append(booking.bill_no)

    def _stop(self, booking: Booking, error: str, result: Round) -> None:
        log.warning("erp_booking_stopped", bill_no=booking.bill_no, error=error)
        with self.uow_factory() as uow:
            uow.back_office.stop(booking.order_id, self.worker_id, error, self.clock())
        result.stopped.append(booking.bill_no)

    # --- receivables ---

    def poll_receivables(self) -> int:
        """Receivables changed since the watermark -> events; returns how many were new."""
        with self.uow_factory() as uow:
            mark = uow.back_office.setting(WATERMARK_KEY) or {}
        now = self.clock()
        since_text = mark.get("since")
        since = datetime.fromisoformat(since_text) if isinstance(since_text, str) \
            else now - self.settings.receivables_lookback
        receivables = self.erp.receivables(since - self.settings.receivables_overlap)
        recorded = 0
        newest = since
        for receivable in receivables:
            newest = max(newest, receivable.changed_at)
            with self.uow_factory() as uow:
                order_id = uow.back_office.order_of_bill(receivable.order_no) \
                    if receivable.order_no else None
            if order_id is None:
                continue  # not a sale order the hub booked
            recorded += self._receivable_event(order_id, receivable)
        with self.uow_factory() as uow:
            uow.back_office.put_setting(WATERMARK_KEY, {"since": newest.isoformat()},
                                        self.clock(), self.worker_id)
        return recorded

    def _receivable_event(self, order_id: str, receivable: Receivable) -> int:
        kind = "closed" if receivable.state == CLOSED else "opened"
        try:
            reported = ordering.report_event(ReportEvent(
                order_id, f"erp.receivable_{kind}", SOURCE, receivable.changed_at,
                source_event_id=f"{receivable.bill_no}:{kind}",
                data={"bill_no": receivable.bill_no, "order_no": receivable.order_no,
                      "amount": str(receivable.amount), "written_off": receivable.written_off,
                      "erp_id": receivable.erp_id, "status": kind}),
                self.uow_factory, self.clock)
        except OrderpilotError as error:
            log.warning("erp_receivable_not_recorded", order_id=order_id,
                        bill_no=receivable.bill_no, error=error.message)
            return 0
        return 0 if reported.outcome == "duplicate" else 1


__all__ = ["MAPPING_KEY", "SOURCE", "WATERMARK_KEY", "BookingSettings", "Erp",
           "ErpBookingWorker", "Round", "queue_booking"]
