"""Group commit for the orders the API takes: the orders that arrive while one batch is being
written go into the next batch's one transaction (one durable commit for all of them), and
each request is answered only once its batch is committed.

Why: on SQLite a durable commit (``synchronous=FULL``) and ``BEGIN IMMEDIATE`` cost more CPU
than the order's own rows, and the API's thread-pool hop costs as much again; one writer thread
fed by the API's event loop saves both (docs/performance.md, "Orders taken in groups").
Nothing about durability changes: no request hears "placed" before its order is committed, so
a crash loses only orders that were never acknowledged.

Every order of a batch gets the answer it would have had alone: an order refused (a reused
Idempotency-Key, a changed order) is refused without touching the others, and the same order
twice in one batch is one order and one duplicate. When a write fails inside the batch (a
unique-key race with another process, the database going away), the batch's transaction is
rolled back and each of its orders is placed again on its own (``place_order``, with its
retries), so one order's failure is never another's."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from orderpilot.domain.commands import PlaceOrder
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.intake import build_order
from orderpilot.domain.order import Order
from orderpilot.services.ordering import (
    Placed,
    add_placed,
    place_order,
    request_fingerprint,
    seen_before,
)
from orderpilot.services.unit_of_work import Clock, UowFactory

Outcome = Placed | Exception
Answer = Callable[[Outcome], object]
MAX_BATCH = 100  # orders in one transaction: enough for a flash sale's bursts on 2 cores


class IntakeClosed(OrderpilotError):
    """The process is shutting down and takes no more orders (the API answers 503)."""

    code = "shutting_down"
    title_zh = "服务正在停止"


@dataclass(frozen=True)
class _Ready:
    index: int
    cmd: PlaceOrder
    fingerprint: str
    order: Order


def place_orders(cmds: Sequence[PlaceOrder], uow_factory: UowFactory, clock: Clock, *,
                 unavailable: Callable[[Exception], bool] = lambda error: False
                 ) -> list[Outcome]:
    """Each command's outcome as ``place_order`` would give it (the Placed, or the error it
    would raise), all the new orders committed in one transaction. When the batch fails
    because the database cannot answer (UNAVAILABLE says so), every order of it hears that
    error at once (the API's 503) instead of each trying again alone, one after the other,
    each waiting for a connection that does not come."""
    outcomes: list[Outcome | None] = [None] * len(cmds)
    ready: list[_Ready] = []
    for i, cmd in enumerate(cmds):
        try:  # validated before the write lock is taken, as place_order does
            ready.append(_Ready(i, cmd, request_fingerprint(cmd), build_order(cmd, clock())))
        except Exception as error:
            outcomes[i] = error
    if ready:
        try:
            _in_one_transaction(ready, outcomes, uow_factory, clock)
        except Exception as error:
            for r in ready:  # rolled back: each on its own, with place_order's retries
                outcomes[r.index] = error if unavailable(error) else \
                    _alone(r.cmd, uow_factory, clock)
    return [o if o is not None else AssertionError("no outcome") for o in outcomes]


def _in_one_transaction(ready: list[_Ready], outcomes: list[Outcome | None],
                        uow_factory: UowFactory, clock: Clock) -> None:
    with uow_factory() as uow:
        for r in ready:
            try:
                seen = seen_before(uow, r.cmd, r.order, r.fingerprint)
            except OrderpilotError as refusal:  # seen_before only reads: nothing to undo
                outcomes[r.index] = refusal
                continue
            outcomes[r.index] = seen or add_placed(uow, r.cmd, r.order, r.fingerprint,
                                                   clock())


def _alone(cmd: PlaceOrder, uow_factory: UowFactory, clock: Clock) -> Outcome:
    try:
        return place_order(cmd, uow_factory, clock)
    except Exception as error:
        return error


class OrderIntake:
    """One thread that places the orders handed to it (``submit``), whatever is waiting when
    it finishes a batch going into the next one, up to MAX_BATCH. Started by the first order;
    ``close`` places what is waiting and stops it."""

    def __init__(self, uow_factory: UowFactory, clock: Clock, *, max_batch: int = MAX_BATCH,
                 observe: Callable[[int], None] = lambda size: None,
                 unavailable: Callable[[Exception], bool] = lambda error: False) -> None:
        """OBSERVE is told the size of every batch written (a metric); UNAVAILABLE tells the
        database's "cannot answer now" errors (see place_orders)."""
        self.uow_factory, self.clock, self.max_batch = uow_factory, clock, max_batch
        self.observe, self.unavailable = observe, unavailable
        self._waiting: queue.SimpleQueue[tuple[PlaceOrder, Answer] | None] = \
            queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, cmd: PlaceOrder, answer: Answer) -> None:
        """Place CMD in the next batch; ANSWER is called, on the intake's thread, with the
        outcome once the batch is committed (or has failed). Raises IntakeClosed after
        ``close``."""
        with self._lock:
            if self._closed:
                raise IntakeClosed("the hub is shutting down and takes no new orders; try "
                                   "again shortly", code="shutting_down",
                                   zh="服务正在停止，暂不接收新订单，请稍后重试")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="order-intake",
                                                daemon=True)
                self._thread.start()
            self._waiting.put((cmd, answer))

    def close(self, timeout: float = 10.0) -> None:
        """Take no more orders, place the ones already handed over, stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._waiting.put(None)
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._waiting.get()
            batch = [] if first is None else [first]
            stopping = first is None
            while len(batch) < self.max_batch:
                try:
                    item = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                else:
                    batch.append(item)
            if batch:
                self._write(batch)

    def _write(self, batch: list[tuple[PlaceOrder, Answer]]) -> None:
        try:
            outcomes = place_orders([cmd for cmd, _ in batch], self.uow_factory, self.clock,
                                    unavailable=self.unavailable)
        except Exception as error:  # place_orders answers for every order; this is a bug
            outcomes = [error] * len(batch)
        self.observe(len(batch))
        for (_, answer), outcome in zip(batch, outcomes, strict=True):
            try:
                answer(outcome)
            except Exception:  # noqa: S112 - one waiter's broken answer never stops the rest
                continue
