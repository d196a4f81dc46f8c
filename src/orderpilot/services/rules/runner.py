"""Carrying out rule runs, step by step, durably.

A run is claimed with a lease (like an outbox row). Each step is recorded as an attempt:

* internal steps (hold, tag, ticket...) commit their effect, the attempt and the run's
  progress in one transaction, guarded by the inbox under the step's idempotency key:
  exactly once, whatever crashes;
* external steps (SMS, HTTP, mail, robots) first commit an outside attempt under the step's
  idempotency key, then call out with that key, then commit the answer, the attempt and the
  run's progress together. A process killed during the call (or after the answer, before
  the commit) leaves the attempt ``calling``: once the lease runs out, the next claimer asks
  the provider whether the call with that key happened and resends (same key) only if not;
  see rule_resend.py for what each provider can answer.

Transient failures (timeouts, 5xx) retry with exponential backoff up to the step's
``retries``; permanent ones (4xx, refusals) go straight to the step's ``then`` policy:
fail the run, ignore and go on, or run the failure branch.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

import structlog

from orderpilot.domain.errors import (
    ConcurrentUpdate,
    ConnectorError,
    OrderpilotError,
    TransientError,
)
from orderpilot.domain.rules.definition import RuleDefinition, Step
from orderpilot.domain.rules.records import Run
from orderpilot.services.rules import actions as acts
from orderpilot.services.rules import resend
from orderpilot.services.rules import strikes as rule_strikes
from orderpilot.services.rules.actions.base import Effect, Read, RuleAction
from orderpilot.services.rules.book import RuleBook
from orderpilot.services.rules.run_records import Failed, RunRecords
from orderpilot.services.rules.run_state import RunState
from orderpilot.services.rules.triggers import published
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

log = structlog.get_logger("orderpilot.rules")
T = TypeVar("T")
REGISTER_CACHE_SECONDS = 10  # how long a register read for a call (an SMS template) is kept


@dataclass
class RunnerSettings:
    batch_size: int = 8
    lease: timedelta = timedelta(seconds=120)
    idle_poll_seconds: float = 0.5  # woken at once by local commits; polling finds others'
    hmac_secret: str | None = None
    resend: resend.ResendPolicy = field(default_factory=resend.ResendPolicy)
    # Told the name of each point an outside call passes ("outside_call.sending",
    # "outside_call.answered"); only the crash tests use it, to stop the process there.
    stop_at: Callable[[str], None] = lambda point: None
    strike_limit: int = rule_strikes.DEFAULT_LIMIT
    # Runs carried out at once by one runner's pool (run_forever): a slow provider holds
    # only the slots of its own calls, while the claimer goes on taking other runs.
    concurrency: int = 1


@dataclass
class RunnerStats:
    # Told (action, seconds from the triggering event) after each outside call.
    observers: list[Callable[[str, float], None]] = field(default_factory=list)


class ActionRunner:
    def __init__(self, uow_factory: UowFactory, book: RuleBook, outbound: acts.Outside,
                 clock: Clock, worker_id: str, settings: RunnerSettings | None = None,
                 any_due: Callable[[datetime], bool] | None = None,
                 reader: UowFactory | None = None, *, actions: acts.ActionTable) -> None:
        self.uow_factory = uow_factory
        self.actions = actions
        self.reader = reader or uow_factory  # a snapshot that takes no write lock
        self.book = book
        self.outbound = outbound
        self.clock = clock
        self.worker_id = worker_id
        self.settings = settings or RunnerSettings()
        self.stats = RunnerStats()
        self.records = RunRecords(uow_factory, book, clock, worker_id,
                                  self.settings.strike_limit)
        self._wake = threading.Event()
        # A cheap read first, so an idle runner takes no write lock (SQLite). None: claim
        # straight away (PostgreSQL, where a claim that finds nothing is one statement too).
        self._any_due = any_due
        self._keys: dict[str, str] = {}
        self._registers: dict[str, tuple[float, object]] = {}
        self._busy = 0  # runs on the pool's threads now (run_forever with concurrency > 1)
        self._slots_lock = threading.Lock()
        # The last claim was cut short by the pool's free slots, so runs may be waiting: a
        # slot that frees wakes the claimer. Otherwise it sleeps until a commit queues a run
        # (or the idle poll), instead of claiming again after every finished run.
        self._starved = False

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self, stop: threading.Event) -> None:
        pool = ThreadPoolExecutor(self.settings.concurrency,
                                  thread_name_prefix=f"{threading.current_thread().name}-call") \
            if self.settings.concurrency > 1 else None
        try:
            while not stop.is_set():
                try:
                    done = self.run_once(pool)
                except Exception:
                    log.exception("rule_runner_cycle_failed", worker=self.worker_id)
                    done = 0
                    stop.wait(1.0)
                if done == 0:
                    self._wake.wait(self.settings.idle_poll_seconds)
                    self._wake.clear()
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def run_once(self, pool: ThreadPoolExecutor | None = None) -> int:
        """Claim due runs and carry them out: here, one after the other, or with POOL on its
        threads (only as many claimed as it has free slots, so none waits out its lease)."""
        limit = self.settings.batch_size
        if pool is not None:
            with self._slots_lock:
                limit = min(limit, self.settings.concurrency - self._busy)
                self._starved = limit <= 0
            if limit <= 0:
                return 0  # woken when a slot frees
        now = self.clock()
        if self._any_due is not None and not self._any_due(now):
            return 0
        # The claim commits at once (a claim that is not carried out waits out its lease), then
        # the runs are loaded: no statement here needs another's transaction.
        with self.uow_factory().autocommit() as uow:
            claims = uow.runs.claim(self.worker_id, limit, self.settings.lease, now)
            runs = uow.runs.get_many([c.item_id for c in claims])
            loaded = [(run, self._definition(uow, run), self._rule_key(uow, run.rule_id))
                      for run in runs]
        if pool is not None and len(claims) >= limit:
            with self._slots_lock:
                self._starved = True
        for run, definition, key in loaded:
            if pool is None:
                self._execute_guarded(run, definition, key)
                continue
            with self._slots_lock:
                self._busy += 1
            pool.submit(self._execute_in_slot, run, definition, key)
        return len(claims)

    def _execute_in_slot(self, run: Run, definition: RuleDefinition, key: str) -> None:
        try:
            self._execute_guarded(run, definition, key)
        finally:
            with self._slots_lock:
                self._busy -= 1
                starved = self._starved
            if starved:
                self._wake.set()  # runs were left waiting for a slot: claim again

    def _execute_guarded(self, run: Run, definition: RuleDefinition, key: str) -> None:
        try:
            self.execute(run, definition, key)
        except Exception:  # a bug must not stop the others; the lease lets it retry
            log.exception("rule_run_crashed", run_id=run.id)

    def _definition(self, uow: UnitOfWork, run: Run) -> RuleDefinition:
        cached = self.book.cached_definition(run.rule_id, run.rule_version)
        if cached is not None:
            return cached
        version = published(uow, run.rule_id, run.rule_version)
        return self.book.definition(run.rule_id, run.rule_version, version.definition)

    def _rule_key(self, uow: UnitOfWork, rule_id: str) -> str:
        key = self._keys.get(rule_id)
        if key is None:
            rule = uow.rules.get(rule_id)
            if rule is None:  # rules are archived, never deleted
                raise LookupError(f"no rule {rule_id}")
            key = self._keys[rule_id] = rule.key
        return key

    def _cached(self, key: str, load: Callable[[UnitOfWork], T]) -> T:
        """A register read an action's call needs (an SMS template), kept a few seconds."""
        found = self._registers.get(key)
        if found is None or time.monotonic() - found[0] > REGISTER_CACHE_SECONDS:
            with self.uow_factory() as uow:
                found = (time.monotonic(), load(uow))
            self._registers[key] = found
        return cast(T, found[1])  # KEY names one register entry, so one type

    # -- one run ---------------------------------------------------------------------------

    def execute(self, run: Run, definition: RuleDefinition, rule_key: str) -> None:
        if run.claimed_by != self.worker_id or run.status != "pending":
            return
        state = RunState(run, rule_key, definition, self.book.engine, self.clock)
        while not state.finished:
            step, where = state.current()
            if step is None:
                self.records.finish(state, "succeeded")
                return
            before = state.snapshot()
            try:
                self._step(state, step, where)
            except resend.LookUpPending as pending:
                state.restore(before)
                self.records.ask_again_later(state, step, pending)
                return
            except Failed as failure:
                state.restore(before)  # the step's write did not commit
                if not self.records.after_failure(state, step, where, failure):
                    return

    def _step(self, state: RunState, step: Step, where: int) -> dict[str, Any] | None:
        context = state.context()
        started = self.clock()
        try:
            action = self.actions.get(step.type)
        except acts.UnknownAction as error:  # its integration was removed since
            raise Failed(f"no action {step.type!r} is installed", False) from error
        if step.when.children:
            try:
                go = self.book.engine.evaluate(step.when.expression, context) is True
            except Exception as error:
                self.records.strike(state, f"step {step.id} condition: {error}")
                raise Failed(f"the step's condition failed: {error}", False) from error
            if not go:  # stored with the run's next write; evaluating it again gives the same
                state.skip(step)
                return None
        try:
            params = acts.render(self.book.engine, step.params, context)
            key = str(acts.render(self.book.engine, step.idempotency_key, context)) \
                if step.idempotency_key else f"{state.root_id}:{step.id}"
        except Exception as error:
            self.records.strike(state, f"step {step.id} template: {error}")
            raise Failed(f"a template could not be filled: {error}", False) from error
        call = acts.StepCall(state.run.id, state.rule_key, state.run.order_id, params, key,
                             context)
        if action.read is not None:
            return self._read(state, step, where, call, started, action.read)
        if not action.type.pushes(params):
            assert action.effect is not None  # RuleAction checks: internal ones have one
            return self._internal(state, step, where, call, started, action.effect)
        return self._external(state, step, where, call, started, action)

    def _read(self, state: RunState, step: Step, where: int, call: acts.StepCall,
              started: datetime, read: Read) -> dict[str, Any]:
        if self.book.tables is None:
            raise Failed("decision tables are not available", False)
        try:
            response, output = read(self.book.tables, call)
        except OrderpilotError as error:  # e.g. a stored table refused by the expression limits
            self.records.strike(state, f"step {step.id} table: {error.message}")
            raise Failed(error.message, False) from error
        self.records.record(state, step, where, "ok", call.params, response, started,
                            output=output)
        return output

    def _internal(self, state: RunState, step: Step, where: int, call: acts.StepCall,
                  started: datetime, effect: Effect) -> dict[str, Any]:
        try:
            with self.uow_factory() as uow:
                now = self.clock()
                if uow.inbox.first_time("rule-step", call.key, now):
                    output = effect(uow, call, now)
                else:
                    output = {"already_done": True}
                self.records.attempt(uow, state, step, where, "ok", call.params, output,
                                     started, now, key=call.key)
                state.advance_in(uow, step, output, self.worker_id)
        except OrderpilotError as error:  # a concurrent write is worth another try
            raise Failed(error.message, isinstance(error, ConcurrentUpdate)) from error
        return output

    def _external(self, state: RunState, step: Step, where: int, call: acts.StepCall,
                  started: datetime, action: RuleAction) -> dict[str, Any]:
        """Record the attempt, call out with the step's idempotency key, then record the
        outcome with the run's progress. An earlier attempt with an unknown outcome is looked
        up at the provider first (resend.py)."""
        internal_output = self._hub_part(state, step, call, action.effect) \
            if action.type.internal and action.effect is not None else {}
        outside_call = action.call
        assert outside_call is not None  # RuleAction checks: one that calls out has a call
        try:
            if action.prepare is not None:
                call = call.with_params(action.prepare(self._cached, dict(call.params)))
            result = resend.known_outcome(
                self.uow_factory, self.reader, self.outbound, self.clock, self.settings.resend,
                action,
                call, where,
                lambda uow, status, request, response, latency, error: self.records.attempt(
                    uow, state, step, where, status, request, response, started, self.clock(),
                    error=error, key=call.key))
            if result is None:  # the attempt is committed as calling
                self.settings.stop_at("outside_call.sending")
                result = outside_call(self.outbound, call, internal_output,
                                      self.settings.hmac_secret)
                self.settings.stop_at("outside_call.answered")
        except ConnectorError as error:
            transient = isinstance(error, TransientError)
            with self.uow_factory() as uow:
                row = self.records.attempt_row(state, step, where,
                                               "retry" if transient else "failed",
                                               error.request or call.params,
                                               error.stored_response, started, call.key)
                row.update(latency_ms=error.latency_ms, error=error.message,
                           finished_at=self.clock())
                uow.runs.add_attempt(row)
                uow.runs.outside_outcome(call.key, resend.outcome_after(error), self.clock())
            raise Failed(error.message, transient) from error
        except acts.StepRefused as error:
            with self.uow_factory() as uow:
                self.records.attempt(uow, state, step, where, "failed", call.params, None,
                                     started, self.clock(), error=error.message, key=call.key)
            raise Failed(error.message, False) from error
        outputs = acts.step_outputs(action.type, step, result, action.outputs)
        output = {**internal_output, **outputs}
        with self.uow_factory() as uow:
            now = self.clock()
            row = self.records.attempt_row(state, step, where, "ok", result.request,
                                           result.stored_response, started, call.key)
            row.update(latency_ms=result.latency_ms, finished_at=now)
            uow.runs.add_attempt(row)
            if action.look_up is None:  # no row was written before the call (resend.py)
                uow.runs.calling_out(call.key, call.run_id, where, step.type, now)
            uow.runs.outside_outcome(call.key, "sent", now, answer=acts.jsonable(outputs))
            if action.after_call is not None:
                action.after_call(uow, call, output, now)
            state.advance_in(uow, step, output, self.worker_id)
        for observe in self.stats.observers:
            observe(step.type, (started - state.run.event_recorded_at).total_seconds()
                    if state.run.event_recorded_at else 0.0)
        return output

    def _hub_part(self, state: RunState, step: Step, call: acts.StepCall,
                  effect: Effect) -> dict[str, Any]:
        """The hub's own effect of a hybrid step (the ticket before its webhook), once."""
        saved = state.outputs.get(f"_{step.id}_hub")
        if isinstance(saved, dict):
            return dict(saved)
        try:
            with self.uow_factory() as uow:
                now = self.clock()
                if uow.inbox.first_time("rule-step", f"{call.key}:hub", now):
                    output = effect(uow, call, now)
                else:
                    output = {"already_done": True}
                state.outputs[f"_{step.id}_hub"] = output
                uow.runs.update(state.run.id, self.worker_id, **state.snapshot())
        except OrderpilotError as error:  # a concurrent write is worth another try
            raise Failed(error.message, isinstance(error, ConcurrentUpdate)) from error
        return output
