"""Scheduled pulls of stock from the warehouses' WMS, and the periodic inventory sweeper.

Timer handlers run inside the dispatcher's transaction and must not call the network, so a pull
goes in two steps:

1. the ``inventory.pull`` timer (one per source and fire time) writes a *due pull* row and
   schedules the source's next timer, in one transaction;
2. the :class:`InventoryPuller` (a thread beside the dispatchers) claims due pulls with a
   lease, calls the WMS outside any transaction, then applies the levels, records the sync run
   and closes the due pull in one transaction. A pull that fails is recorded as a failed run;
   a transient failure is tried again with backoff while the next scheduled pull is further
   off. Pulls of one source that piled up (the puller was down) collapse into the latest.

The ``inventory.sweep`` timer runs :func:`inventory.sweep_in` every few minutes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

import structlog

from orderpilot.domain import sync_schedule as schedules
from orderpilot.domain.errors import ConnectorError, NotFound, OrderpilotError, TransientError
from orderpilot.domain.events import new_id
from orderpilot.domain.inventory import CODE, Source
from orderpilot.domain.records import JsonObject, text, text_or_none, whole
from orderpilot.services.inventory import allocation as inventory
from orderpilot.services.inventory.sync import MAX_LEVELS, LevelReport, apply_levels
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

if TYPE_CHECKING:
    pass

log = structlog.get_logger("orderpilot.inventory")
PULL_TIMER = "inventory.pull"
SWEEP_TIMER = "inventory.sweep"
SWEEP_EVERY = timedelta(minutes=5)
WMS = "wms"
MAX_ATTEMPTS = 4
FIRST_BACKOFF = timedelta(seconds=30)


class StockAnswer(Protocol):
    @property
    def response(self) -> object: ...


class StockFeed(Protocol):
    """What the puller needs of the connectors (``Connectors`` has it)."""

    def http_call(self, method: str, url: str | None = None, *, connector: str | None = None,
                  path: str = "", idempotency_key: str) -> StockAnswer: ...


# --- timers ---

def _pull_prefix(code: str) -> str:
    return f"inventory:pull:{code}:"


def _schedule_pull(uow: UnitOfWork, source: Source, fire_at: datetime, now: datetime) -> None:
    uow.inventory.pulls.schedule_timer(
        _pull_prefix(source.code) + fire_at.isoformat(), PULL_TIMER, fire_at,
        {"source": source.code, "schedule": source.sync_schedule,
         "fire_at": fire_at.isoformat()}, now)


def schedule_pulls(uow: UnitOfWork, source: Source, now: datetime) -> None:
    """Keep exactly one pending pull timer for the source's schedule (none when manual)."""
    prefix = _pull_prefix(source.code)
    pending = uow.inventory.pulls.pending_timers(prefix)
    if any(p.payload.get("schedule") == source.sync_schedule for p in pending):
        return
    if pending:
        uow.timers.cancel_prefix(prefix)
    fire_at = schedules.next_pull(source.sync_schedule, now)
    if fire_at is not None:
        _schedule_pull(uow, source, fire_at, now)


def ensure_sweeper(uow: UnitOfWork, now: datetime) -> None:
    if not uow.inventory.pulls.pending_timers("inventory:sweep:"):
        _schedule_sweep(uow, now + SWEEP_EVERY, now)


def _schedule_sweep(uow: UnitOfWork, fire_at: datetime, now: datetime) -> None:
    uow.inventory.pulls.schedule_timer(f"inventory:sweep:{fire_at.isoformat()}", SWEEP_TIMER,
                                       fire_at, {"fire_at": fire_at.isoformat()}, now)


def ensure_timers(uow_factory: UowFactory, clock: Clock) -> None:
    """Mend the timer chains (every source's pulls, the sweeper); harmless when intact."""
    with uow_factory() as uow:
        now = clock()
        for source in uow.inventory.sources():
            schedule_pulls(uow, source, now)
        ensure_sweeper(uow, now)


def request_pulls(uow_factory: UowFactory, clock: Clock, sources: Sequence[str]) -> None:
    """Make a pull of each source due now; the puller carries them out within a second."""
    with uow_factory() as uow:
        now = clock()
        for code in sources:
            uow.inventory.pulls.add(code, now, now, reason="manual")


def on_pull_timer(payload: JsonObject, uow: UnitOfWork, clock: Clock) -> None:
    now = clock()
    source = uow.inventory.source(text(payload, "source"))
    if source is None or source.sync_schedule != payload["schedule"]:
        return  # the schedule changed since; the change started its own chain
    fire_at = datetime.fromisoformat(text(payload, "fire_at"))
    uow.inventory.pulls.add(source.code, fire_at, now, reason="schedule")
    following = schedules.next_pull(source.sync_schedule, fire_at)
    if following is not None and following <= now:  # the hub was down: no catching up
        following = schedules.next_pull(source.sync_schedule, now)
    if following is not None:
        _schedule_pull(uow, source, following, now)


def on_sweep_timer(payload: JsonObject, uow: UnitOfWork, clock: Clock) -> None:
    now = clock()
    inventory.sweep_in(uow, now)
    following = datetime.fromisoformat(text(payload, "fire_at")) + SWEEP_EVERY
    _schedule_sweep(uow, following if following > now else now + SWEEP_EVERY, now)


# --- the WMS answer ---

def parse_stock(source: str, body: object) -> list[LevelReport]:
    """``{"warehouse", "as_of", "items": [{"sku", "on_hand", "expected_at"?}]}`` as level
    reports; anything else is refused with the place it went wrong."""
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise _BadAnswer("the answer is not an object with an items list", "items")
    if body.get("warehouse") not in (None, source):
        raise _BadAnswer(f"asked for {source}, got {body.get('warehouse')!r}", "warehouse")
    try:
        as_of = datetime.fromisoformat(body["as_of"]) if body.get("as_of") else None
    except (TypeError, ValueError):
        raise _BadAnswer(f"as_of {body.get('as_of')!r} is not an ISO time", "as_of") from None
    if as_of is not None and as_of.tzinfo is None:
        raise _BadAnswer("as_of needs a time-zone offset", "as_of")
    if len(body["items"]) > MAX_LEVELS:
        raise _BadAnswer(f"more than {MAX_LEVELS} items", "items")
    levels = []
    for i, item in enumerate(body["items"]):
        where = f"items[{i}]"
        if not isinstance(item, dict) or not CODE.match(str(item.get("sku", ""))):
            raise _BadAnswer("sku is missing or not a SKU code", f"{where}.sku")
        on_hand = item.get("on_hand")
        if isinstance(on_hand, bool) or not isinstance(on_hand, int) or on_hand < 0:
            raise _BadAnswer(f"on_hand {on_hand!r} is not a whole number from 0",
                             f"{where}.on_hand")
        expected: date | None = None
        if item.get("expected_at"):
            try:
                expected = date.fromisoformat(str(item["expected_at"]))
            except ValueError:
                raise _BadAnswer(f"expected_at {item['expected_at']!r} is not a date",
                                 f"{where}.expected_at") from None
        levels.append(LevelReport(source, str(item["sku"]), on_hand, expected, as_of))
    return levels


class _BadAnswer(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(f"the WMS answer is not usable at {field}: {message}")


class _LeaseLost(Exception):
    """Another puller took this pull over (our lease ran out): undo what we applied."""


# --- the puller ---

@dataclass(frozen=True)
class PullerSettings:
    batch_size: int = 10
    lease: timedelta = timedelta(seconds=120)
    idle_poll_seconds: float = 1.0


@dataclass(frozen=True)
class DuePull:
    id: str
    source: str
    attempts: int  # failed attempts so far


@dataclass(frozen=True)
class PullOutcome:
    pull_id: str
    source: str
    status: str  # applied | stale | failed | retry | skipped | lost
    changes: int = 0
    run_id: str | None = None
    error: str | None = None

    def shown(self) -> dict[str, object]:
        return {"pull_id": self.pull_id, "source": self.source, "status": self.status,
                "changes": self.changes, "run_id": self.run_id, "error": self.error}


class InventoryPuller:
    def __init__(self, uow_factory: UowFactory, feed: StockFeed, clock: Clock,
                 worker_id: str, settings: PullerSettings | None = None) -> None:
        self.uow_factory, self.feed, self.clock = uow_factory, feed, clock
        self.worker_id = worker_id
        self.settings = settings or PullerSettings()

    def run_forever(self, stop: threading.Event) -> None:
        try:
            ensure_timers(self.uow_factory, self.clock)
        except Exception:
            log.exception("inventory_timers_not_ensured")
        while not stop.is_set():
            try:
                done = len(self.run_once())
            except Exception:
                log.exception("inventory_puller_cycle_failed", worker=self.worker_id)
                done = 0
            if done == 0:
                stop.wait(self.settings.idle_poll_seconds)

    def run_once(self) -> list[PullOutcome]:
        now = self.clock()
        with self.uow_factory() as uow:
            if not uow.inventory.pulls.any_due(now):
                return []
        with self.uow_factory() as uow:
            claimed = [DuePull(p.id, p.source, p.attempts) for p in uow.inventory.pulls.claim(
                self.worker_id, self.settings.batch_size, self.settings.lease, now)]
        latest = {p.source: p for p in claimed}  # claimed in due order: the last one wins
        outcomes = []
        for pull in claimed:
            if latest[pull.source] is not pull:
                with self.uow_factory() as uow:
                    uow.inventory.pulls.finish(pull.id, self.worker_id, "skipped", self.clock(),
                                               error=f"superseded by pull {latest[pull.source].id}")
                outcomes.append(PullOutcome(pull.id, pull.source, "skipped"))
                continue
            outcomes.append(self._execute_safely(pull))
        return outcomes

    def pull_now(self, sources: Sequence[str] | None = None) -> list[PullOutcome]:
        """Pull these sources (all when None) right away, in this thread: the CLI's pull."""
        with self.uow_factory() as uow:
            now = self.clock()
            known = [s.code for s in uow.inventory.sources()]
            codes = list(sources) if sources else known
            for code in codes:
                if code not in known:
                    raise NotFound(f"no source {code!r}; known: {', '.join(known) or 'none'}",
                                   field="source",
                                   zh=f"没有库存来源 {code!r}；已有：{'、'.join(known) or '无'}")
            pulls = [(uow.inventory.pulls.add(code, now, now, reason="manual",
                                              claimed_by=self.worker_id,
                                              lease=self.settings.lease), code)
                     for code in codes]
        return [self._execute_safely(DuePull(pull_id, code, 0)) for pull_id, code in pulls]

    def _execute_safely(self, pull: DuePull) -> PullOutcome:
        try:
            return self.execute(pull)
        except Exception:  # a bug must not stop the others; the lease lets it run again
            log.exception("inventory_pull_crashed", pull_id=pull.id, source=pull.source)
            return PullOutcome(pull.id, pull.source, "lost", error="crashed; see the log")

    def execute(self, pull: DuePull) -> PullOutcome:
        started = self.clock()
        try:
            answer = self.feed.http_call(
                "GET", connector=WMS, path=f"api/stock?warehouse={quote(pull.source)}",
                idempotency_key=f"inventory-pull:{pull.id}:{pull.attempts}")
            levels = parse_stock(pull.source, answer.response)
        except ConnectorError as error:
            return self._failed(pull, started, error.message, isinstance(error, TransientError))
        except _BadAnswer as error:
            return self._failed(pull, started, str(error), False)
        if not levels:
            return self._failed(pull, started, "the WMS reported no items", False,
                                status="empty")

        def close(uow: UnitOfWork, run_id: str) -> None:
            if not uow.inventory.pulls.finish(pull.id, self.worker_id, "done", self.clock(),
                                              run_id=run_id):
                raise _LeaseLost

        try:
            result = apply_levels(f"pull:{pull.id}", levels, self.uow_factory, self.clock,
                                  method="pull", source=pull.source, then=close)
        except _LeaseLost:
            return PullOutcome(pull.id, pull.source, "lost",
                               error="another puller took this pull over")
        except OrderpilotError as error:
            return self._failed(pull, started, f"{error.message} ({error.field})", False)
        if result["duplicate"]:  # applied before by a puller whose lease then ran out
            with self.uow_factory() as uow:
                uow.inventory.pulls.finish(pull.id, self.worker_id, "done", self.clock(),
                                           run_id=text(result, "run_id"))
        return PullOutcome(pull.id, pull.source, text(result, "status"),
                           whole(result, "changes"), text_or_none(result, "run_id"))

    def _failed(self, pull: DuePull, started: datetime, message: str, transient: bool, *,
                status: str = "failed") -> PullOutcome:
        log.warning("inventory_pull_failed", source=pull.source, pull_id=pull.id, error=message)
        with self.uow_factory() as uow:
            now = self.clock()
            run_id = new_id()
            uow.inventory.record_run({
                "id": run_id, "source_event_id": None, "method": "pull",
                "source": pull.source, "request_hash": None, "status": status,
                "started_at": started, "finished_at": now, "changes": 0,
                "errors": [message], "outcome": {"pull_id": pull.id,
                                                 "attempt": pull.attempts + 1}})
            source = uow.inventory.source(pull.source)
            scheduled = schedules.next_pull(source.sync_schedule, now) if source else None
            retry_at = now + FIRST_BACKOFF * 4 ** pull.attempts
            if transient and pull.attempts + 1 < MAX_ATTEMPTS and \
                    (scheduled is None or retry_at < scheduled):
                uow.inventory.pulls.retry_later(pull.id, self.worker_id, retry_at, message)
                return PullOutcome(pull.id, pull.source, "retry", run_id=run_id, error=message)
            uow.inventory.pulls.finish(pull.id, self.worker_id, "failed", now, run_id=run_id,
                                       error=message)
        return PullOutcome(pull.id, pull.source, status, run_id=run_id, error=message)
