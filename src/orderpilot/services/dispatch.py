"""The dispatcher: delivers outbox events to handlers and fires due timers, at least once.

A claim takes a lease, so a worker that dies mid-batch only delays its events. Each handler
runs in its own transaction with its inbox mark; a failure retries the event later with
exponential backoff and, after ``max_attempts``, leaves it dead-lettered for a person to see.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from orderpilot.domain.errors import ConcurrentUpdate
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.records import Claim
from orderpilot.services.handlers import HandlerRegistry
from orderpilot.services.unit_of_work import Clock, SharedReads, UnitOfWork, UowFactory

log = structlog.get_logger("orderpilot.dispatch")


@dataclass
class DispatchSettings:
    batch_size: int = 100
    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 8
    base_backoff: timedelta = timedelta(seconds=2)
    max_backoff: timedelta = timedelta(minutes=30)
    idle_poll_seconds: float = 0.25
    # After a wake-up, wait this long so the events of concurrent commits go in one batch
    # (one transaction) instead of one transaction each.
    coalesce_seconds: float = 0.03
    timer_poll_seconds: float = 1.0
    one_transaction_per_batch: bool = False
    # PostgreSQL: claimed events delivered in one transaction each this many. A chunk where
    # anything fails (a handler, a lock race, a failed commit) is rolled back whole and its
    # events delivered again one a transaction, where a handler's failure is retried with
    # backoff. 1: every event alone.
    commit_chunk: int = 1


@dataclass
class DispatchStats:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    timers_fired: int = 0
    observers: list[Callable[[str, int], None]] = field(default_factory=list)
    lag_observers: list[Callable[[float], None]] = field(default_factory=list)

    def add(self, what: str, n: int = 1) -> None:
        setattr(self, what, getattr(self, what) + n)
        for observe in self.observers:
            observe(what, n)


def _defer_hot_rows(uow: UnitOfWork) -> None:
    """A bare delivery on PostgreSQL writes the rows every worker shares last, just before the
    commit, each set in key order: the channel-day counters, then stock. Every transaction
    then takes them in one order, so two of them wait for each other instead of deadlocking,
    and holds them only across the commit."""
    uow.stats.defer_counts()
    uow.inventory.defer_takes()


def _settle_hot_rows(uow: UnitOfWork) -> None:
    uow.stats.settle_counts()
    uow.inventory.settle_takes()


class Dispatcher:
    def __init__(self, uow_factory: UowFactory, registry: HandlerRegistry, clock: Clock,
                 worker_id: str, settings: DispatchSettings | None = None) -> None:
        self.uow_factory = uow_factory
        self.registry = registry
        self.clock = clock
        self.worker_id = worker_id
        self.settings = settings or DispatchSettings()
        self.stats = DispatchStats()
        self._wake = threading.Event()
        # The settings every event reads, kept while the settings version stands (SharedReads)
        self._shared = SharedReads()

    def wake(self) -> None:
        """Called after a commit that appended events, so delivery starts without polling."""
        self._wake.set()

    def backoff(self, attempts: int) -> timedelta:
        s = self.settings
        delay: timedelta = min(s.base_backoff * (2 ** attempts), s.max_backoff)
        return delay * random.uniform(0.8, 1.2)

    def run_once(self) -> int:
        """Deliver one batch of due events and fire due timers; returns how much was done.
        Where a claim takes only each order's earliest pending event (PostgreSQL), batches
        are delivered until none is left, so an order's later events go in this call too."""
        done = delivered = self._deliver_events()
        while delivered and not self.settings.one_transaction_per_batch:
            delivered = self._deliver_events()
            done += delivered
        return done + self._fire_timers()

    def run_forever(self, stop: threading.Event) -> None:
        next_timer_check = 0.0
        stranded = False
        while not stop.is_set():
            try:
                if stranded:  # see below
                    with self.uow_factory() as uow:
                        uow.outbox.release_claims(self.worker_id)
                    stranded = False
                done = self._deliver_events()
                if time.monotonic() >= next_timer_check:
                    done += self._fire_timers()
                    next_timer_check = time.monotonic() + self.settings.timer_poll_seconds
            except Exception:  # a lost database connection must not end the worker
                log.exception("dispatch_cycle_failed", worker=self.worker_id)
                done = 0
                # The batch it claimed is not being delivered by anyone now: once the database
                # answers again, give it back rather than leave it until the lease runs out.
                stranded = True
                stop.wait(1.0)
            if done == 0:
                if self._wake.wait(self.settings.idle_poll_seconds):
                    stop.wait(self.settings.coalesce_seconds)
                self._wake.clear()

    def _deliver_events(self) -> int:
        """Claim a batch and deliver it, each handler's effect committed with its inbox mark.

        With ``one_transaction_per_batch`` (SQLite: one writer, so no lock-order deadlocks)
        the claim and the whole batch commit together: one fsync for many events, and a crash
        before the commit leaves the batch to be claimed again. Its handlers first run with
        no savepoint; if any fails, the transaction is rolled back and the batch delivered
        again with each handler in its own savepoint, so only the failing one is retried.

        Otherwise (PostgreSQL, where workers run side by side) the claim commits first, then
        the batch is delivered in chunks of ``commit_chunk`` events, one transaction each,
        their handlers run without savepoints and their stock taken last, just before the
        commit. If anything of a chunk fails (a handler, a lost lock race, stock that moved),
        it is rolled back whole and its events delivered one a transaction; an event alone
        whose transaction fails is delivered again with each handler in its own savepoint."""
        s = self.settings
        outcomes: list[str] = []
        lags: list[float] = []  # reported after the commit, like the outcomes
        shared = self._shared  # the settings, read once a batch or kept (see SharedReads)
        if s.one_transaction_per_batch:
            claims = self._deliver_batch_bare(shared, outcomes, lags)
            if claims is None:  # rolled back whole: again, each handler in a savepoint
                with self.uow_factory() as uow:
                    claims = uow.outbox.claim(self.worker_id, s.batch_size, s.lease,
                                              self.clock())
                    if claims:
                        shared.new_batch(uow.settings_version.current())
                    uow.share_reads(shared)
                    self._deliver(uow, claims, outcomes, lags, isolate=True)
        else:  # the claim is one statement: it needs no transaction of its own
            with self.uow_factory().autocommit() as uow:
                claims = uow.outbox.claim(self.worker_id, s.batch_size, s.lease, self.clock())
                if claims:  # read after the claim: see SharedReads
                    shared.new_batch(uow.settings_version.current())
            chunk = max(s.commit_chunk, 1)
            for start in range(0, len(claims), chunk):
                self._deliver_chunk(claims[start:start + chunk], outcomes, lags, shared)
        for outcome in outcomes:
            self.stats.add(outcome)
        for lag in lags:
            for observe in self.stats.lag_observers:
                observe(lag)
        return len(claims)

    def _deliver_batch_bare(self, shared: SharedReads, outcomes: list[str],
                            lags: list[float]) -> list[Claim] | None:
        """SQLite: claim a batch and run every handler of it with no savepoint (two
        statements an event fewer), all in one transaction. None when anything failed: then
        nothing of it committed, the claim included, and the caller delivers the batch again
        with savepoints, where a handler's failure is retried on its own."""
        s = self.settings
        bare_outcomes: list[str] = []
        bare_lags: list[float] = []
        try:
            with self.uow_factory() as uow:
                claims = uow.outbox.claim(self.worker_id, s.batch_size, s.lease, self.clock())
                if claims:  # read after the claim: see SharedReads
                    shared.new_batch(uow.settings_version.current())
                uow.share_reads(shared)
                uow.stats.defer_counts()  # one statement a counter row, not one an order
                self._deliver(uow, claims, bare_outcomes, bare_lags, bare=True)
                uow.stats.settle_counts()
        except Exception:
            log.debug("dispatch_batch_retried_with_savepoints")
            return None
        outcomes += bare_outcomes
        lags += bare_lags
        return claims

    def _deliver_chunk(self, claims: list[Claim], outcomes: list[str],
                       lags: list[float], shared: SharedReads) -> None:
        if len(claims) > 1:
            chunk_outcomes: list[str] = []
            chunk_lags: list[float] = []
            try:  # the usual case: every handler of every event succeeds, no savepoint needed
                with self.uow_factory() as uow:
                    uow.share_reads(shared)
                    _defer_hot_rows(uow)  # counters, then stock, locked last in key order
                    self._deliver(uow, claims, chunk_outcomes, chunk_lags, bare=True)
                    _settle_hot_rows(uow)
                outcomes += chunk_outcomes
                lags += chunk_lags
                return
            except Exception as error:  # nothing of the chunk committed: one event a transaction
                # what the database said, if it was the database (a deadlock names its row)
                cause = error.__cause__ or error
                log.info("dispatch_chunk_retried_singly", events=len(claims),
                         error=f"{type(cause).__name__}: {cause}"[:1000])
        for claim in claims:
            bare_outcomes: list[str] = []
            bare_lags: list[float] = []
            try:  # the usual case: every handler succeeds, and no savepoint is needed
                with self.uow_factory() as uow:
                    uow.share_reads(shared)
                    # Stock rows are locked last, just before the commit (defer_takes):
                    # workers side by side queue on a best-seller's row for the commit only.
                    _defer_hot_rows(uow)
                    self._deliver(uow, [claim], bare_outcomes, bare_lags, bare=True)
                    _settle_hot_rows(uow)
                outcomes += bare_outcomes
                lags += bare_lags
                continue
            except Exception:  # nothing of it committed: again, each handler in a savepoint
                log.debug("dispatch_bare_retried", event_id=claim.item_id)
            try:
                with self.uow_factory() as uow:
                    uow.share_reads(shared)
                    self._deliver(uow, [claim], outcomes, lags, isolate=True)
            except ConcurrentUpdate as error:  # a deadlock victim: try again soon
                with self.uow_factory() as uow:
                    uow.outbox.fail(claim.seq, self.worker_id, str(error),
                                    self.clock() + self.settings.base_backoff)
                outcomes.append("failed")

    def _deliver(self, uow: UnitOfWork, claims: list[Claim], outcomes: list[str],
                 lags: list[float], *, bare: bool = False, isolate: bool = False) -> None:
        """Run the claims' handlers and mark them done (or failed) in UOW. ``bare``: the
        handlers run without savepoints (two round trips an event fewer), so any error
        escapes and the caller rolls the whole transaction back. ``isolate``: the bare run
        failed, so each handler goes straight into its own savepoint."""
        s = self.settings
        now = self.clock()
        events = uow.events.get_many([c.item_id for c in claims])
        done = []
        for claim in claims:
            event = events.get(claim.item_id)
            if bare and event is not None:
                self._run_bare(uow, event)
                error = None
            else:
                error = None if event is None else self._run_handlers(
                    uow, event, alone=len(claims) == 1, isolate=isolate)
            if error is None:
                done.append(claim.seq)
                outcomes.append("delivered")
                if event is not None:
                    lags.append((now - event.recorded_at).total_seconds())
                continue
            dead = claim.attempts + 1 >= s.max_attempts
            retry_at = None if dead else now + self.backoff(claim.attempts)
            uow.outbox.fail(claim.seq, self.worker_id, error, retry_at)
            outcomes.append("dead" if dead else "failed")
            log.warning("handler_failed", event_id=claim.item_id, dead=dead,
                        attempts=claim.attempts + 1, error=error.splitlines()[-1])
        uow.outbox.complete_many(done, self.worker_id)

    def _run_bare(self, uow: UnitOfWork, event: OrderEvent) -> None:
        for name, handler in self.registry.for_event(event.type):
            if name in self.registry.self_deduplicating \
                    or uow.inbox.first_time(name, event.id, self.clock()):
                handler(event, uow, self.clock)

    def _run_handlers(self, uow: UnitOfWork, event: OrderEvent, *,
                      alone: bool = True, isolate: bool = False) -> str | None:
        """Run the event's handlers; the error text when one failed. In a chunk of several
        events (not ALONE), a lost lock race aborts the whole chunk instead: it is not the
        handler's fault, and the events go again one a transaction. ``isolate``: skip the
        attempt with every handler under one savepoint (it failed already)."""
        handlers = self.registry.for_event(event.type)
        try:  # the usual case: every handler succeeds, under one savepoint
            if not isolate:
                with uow.savepoint():
                    self._run_bare(uow, event)
                return None
        except ConcurrentUpdate:
            if not alone:
                raise
        except Exception:  # run them again one by one, so only the failing one is retried
            pass
        errors = []
        for name, handler in handlers:
            try:
                with uow.savepoint():
                    if name in self.registry.self_deduplicating \
                            or uow.inbox.first_time(name, event.id, self.clock()):
                        handler(event, uow, self.clock)
            except Exception:
                errors.append(f"{name}: {traceback.format_exc(limit=5)}")
        return "\n".join(errors) or None

    def _fire_timers(self) -> int:
        s = self.settings
        outcomes: list[str] = []
        with self.uow_factory() as uow:
            now = self.clock()
            claims = uow.timers.claim(self.worker_id, s.batch_size, s.lease, now)
            for claim in claims:
                try:
                    with uow.savepoint():
                        timer = uow.timers.get(claim.item_id)
                        if timer is None:
                            raise LookupError(f"timer {claim.item_id} is gone")
                        handler = self.registry.by_timer.get(timer.kind)
                        if handler is None:
                            raise LookupError(f"no handler for timer kind {timer.kind!r}")
                        if uow.inbox.first_time(f"timer:{timer.kind}", timer.id, now):
                            handler(dict(timer.payload), uow, self.clock)
                        uow.timers.complete(timer.id, self.worker_id, now)
                    outcomes.append("timers_fired")
                except Exception:
                    error = traceback.format_exc(limit=5)
                    dead = claim.attempts + 1 >= s.max_attempts
                    retry_at = None if dead else now + self.backoff(claim.attempts)
                    uow.timers.fail(claim.item_id, self.worker_id, error, retry_at)
                    outcomes.append("dead" if dead else "failed")
                    log.warning("timer_failed", timer_id=claim.item_id, dead=dead)
        for outcome in outcomes:
            self.stats.add(outcome)
        return len(claims)
