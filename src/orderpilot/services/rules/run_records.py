"""What a rule run leaves behind as it goes: each step's attempt, the error policy after a
failure (retry later, ignore, branch, or end the run), a strike against a failing rule, and the
run's end. The runner (runner.py) decides what to do; this records it, each in its own
transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from orderpilot.domain.rules.definition import Step
from orderpilot.services.rules import actions as acts
from orderpilot.services.rules import resend
from orderpilot.services.rules import strikes as rule_strikes
from orderpilot.services.rules.book import RuleBook
from orderpilot.services.rules.run_state import RunState
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

log = structlog.get_logger("orderpilot.rules")
MAX_BACKOFF = timedelta(hours=1)


class Failed(Exception):
    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class RunRecords:
    uow_factory: UowFactory
    book: RuleBook
    clock: Clock
    worker_id: str
    strike_limit: int

    def strike(self, state: RunState, error: str) -> None:
        """A step's expression failed or was refused: a strike against the rule, as a failed
        condition is (services/rules/strikes.py)."""
        with self.uow_factory() as uow:
            disabled = rule_strikes.strike(uow, state.run.rule_id, state.run.rule_version, error,
                                           self.clock(), limit=self.strike_limit,
                                           event_id=state.run.event_id, where="action")
        if disabled:
            self.book.invalidate()

    def attempt_row(self, state: RunState, step: Step, where: int, status: str,
                    request: dict[str, object], response: object, started: datetime,
                    key: str) -> dict[str, object]:
        return {"run_id": state.run.id, "step_no": where, "action": step.type,
                "attempt": state.attempts + 1, "status": status, "idempotency_key": key,
                "request": acts.jsonable(request), "response": acts.jsonable(response),
                "started_at": started}

    def attempt(self, uow: UnitOfWork, state: RunState, step: Step, where: int, status: str,
                request: dict[str, object], response: object, started: datetime,
                now: datetime, error: str | None = None, key: str | None = None) -> None:
        row = self.attempt_row(state, step, where, status, request, response, started,
                               key or f"{state.root_id}:{step.id}")
        row.update(finished_at=now, error=error,
                   latency_ms=(now - started).total_seconds() * 1000)
        uow.runs.add_attempt(row)

    def record(self, state: RunState, step: Step, where: int, status: str,
               request: dict[str, object], response: object, started: datetime, *,
               output: Mapping[str, object] | None) -> None:
        """The step's attempt and the run's progress past it, in one transaction."""
        with self.uow_factory() as uow:
            now = self.clock()
            self.attempt(uow, state, step, where, status, request, response, started, now)
            state.advance_in(uow, step, output, self.worker_id)

    def after_failure(self, state: RunState, step: Step, where: int, failure: Failed) -> bool:
        """Apply the step's error policy; True when the run goes on now."""
        policy = step.on_error
        now = self.clock()
        if failure.transient and state.attempts < policy.retries:
            delay = min(timedelta(seconds=policy.backoff_seconds) * (2 ** state.attempts),
                        MAX_BACKOFF)
            with self.uow_factory() as uow:
                uow.runs.update(state.run.id, self.worker_id,
                                **{**state.snapshot(), "attempts": state.attempts + 1},
                                next_attempt_at=now + delay, claimed_by=None,
                                claimed_until=None, last_error=str(failure)[:4000])
            log.info("rule_step_retry", run_id=state.run.id, step=step.id,
                     attempt=state.attempts + 1, error=str(failure))
            return False
        if policy.then == "ignore":
            output = {"error": str(failure)}
            with self.uow_factory() as uow:
                self.attempt(uow, state, step, where, "ignored", {}, output, now, now,
                             error=str(failure))
                state.advance_in(uow, step, output, self.worker_id)
            return True
        if policy.then == "branch" and not state.in_branch:
            with self.uow_factory() as uow:
                state.enter_branch(uow, step, str(failure), self.worker_id)
            return True
        # dead: it kept failing after the retries it was given; failed: refused outright
        exhausted = failure.transient and policy.retries > 0
        self.finish(state, "dead" if exhausted else "failed", error=str(failure))
        return False

    def ask_again_later(self, state: RunState, step: Step,
                        pending: resend.LookUpPending) -> None:
        """The step's outcome is unknown: come back after the delay to ask the provider
        again. The step's retries are not spent: this is waiting, not failing."""
        with self.uow_factory() as uow:
            uow.runs.update(state.run.id, self.worker_id, **state.snapshot(),
                            next_attempt_at=self.clock() + pending.delay, claimed_by=None,
                            claimed_until=None, last_error=str(pending)[:4000])
        log.warning("rule_step_outcome_unknown", run_id=state.run.id, step=step.id,
                    error=str(pending), again_in=pending.delay.total_seconds())

    def finish(self, state: RunState, status: str, error: str | None = None) -> None:
        with self.uow_factory() as uow:
            values: dict[str, object] = {**state.snapshot(), "status": status,
                                         "finished_at": self.clock(), "claimed_by": None,
                                         "claimed_until": None}
            if error is not None:
                values["last_error"] = error[:4000]
            uow.runs.update(state.run.id, self.worker_id, **values)
        if status != "succeeded":
            log.warning("rule_run_" + status, run_id=state.run.id, rule=state.rule_key,
                        error=error)
