"""Check before resend: an outside call whose outcome is unknown is looked up, not repeated.

Before a step calls out, the hub commits an outside attempt under the step's key (the key the
provider receives: Aliyun OutId, Tencent SessionContext, Idempotency-Key header, SMTP
Message-ID). The call's answer is committed with the run's progress. So when a run comes back
to a step and finds its attempt still ``calling`` (the process died during the call, or after
the answer but before the commit) or ``unknown`` (the call timed out), nobody knows whether the
provider acted. Then:

* the provider is asked, by that key (the action's ``look_up``);
* found: the step is done, with what the look-up found as its output; nothing is resent;
* not found: resent with the *same* key; for a provider whose records lag (delivery reports),
  "not found" is trusted only once the last call is ``grace`` old, until then it asks again;
* the look-up itself failed: it is asked again later with backoff; never resent blindly;
* no look-up exists for the action (HTTP, e-mail, robots): resent with the same key, and the
  receiver's own de-duplication is all that protects it (each such action's module says
  what protects it: ``RuleAction.unchecked_resend``).

An attempt already ``sent`` (a replayed run, or a key shared on purpose) is not called again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog

from orderpilot.domain.errors import ConnectorError, TransientError
from orderpilot.domain.outside_calls import CallResult
from orderpilot.services.rules import actions as acts
from orderpilot.services.rules.actions.base import RuleAction
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

log = structlog.get_logger("orderpilot.rules")
MAX_WAIT = timedelta(hours=1)
# Records the look-up as a rule attempt: (uow, status, request, response, latency, error).
# (uow, status, request, response, latency in ms, error)
RecordAttempt = Callable[[UnitOfWork, str, dict[str, object], object, float, str | None], None]


class LookUpPending(Exception):
    """The outcome is still unknown: ask the provider again after ``delay``."""

    def __init__(self, message: str, delay: timedelta) -> None:
        super().__init__(message)
        self.delay = delay


@dataclass
class ResendPolicy:
    grace: timedelta = timedelta(seconds=120)  # "not found" is trusted after this much quiet
    backoff: timedelta = timedelta(seconds=5)  # first wait after a failed look-up; doubles


def outcome_after(error: ConnectorError) -> str:
    """An answer with a status (4xx, 5xx, a provider error code) says the call was not acted
    on, and so does a refusal before sending (no such connector, URL not allowed); a transient
    failure without an answer (time-out, dropped connection) leaves the outcome unknown."""
    if isinstance(error, TransientError) and error.status_code is None:
        return "unknown"
    return "not_sent"


def known_outcome(uow_factory: UowFactory, reader: UowFactory, outbound: acts.Outside,
                  clock: Clock, policy: ResendPolicy, action: RuleAction, call: acts.StepCall,
                  where: int, record: RecordAttempt) -> acts.Answer | None:
    """What happened to an earlier call with ``call.key``: a CallResult when it happened (do
    not call again); None when calling (again) is safe, with the attempt already committed as
    ``calling`` where the provider can be asked later; raises LookUpPending otherwise.

    The usual case, a first call, reads the attempt and marks it calling in one transaction,
    so checking costs no write of its own on the hot path. An action whose provider cannot be
    asked (no ``look_up``) is resent with the same key whatever an earlier attempt left, so
    marking it calling would buy nothing: it is only read, from a snapshot, and the runner
    records it with the answer."""
    if action.look_up is None:
        with reader() as uow:
            attempt = uow.runs.outside_attempt(call.key)
        if attempt is not None and attempt.status == "sent":
            return CallResult({"idempotency_key": call.key}, None, None, 0.0,
                              {**(attempt.answer or {}), "already_done": True})
        if attempt is not None and attempt.status in ("calling", "unknown"):
            log.warning("rule_step_resent_unchecked", action=action.id, key=call.key,
                        why=action.unchecked_resend)
        return None
    with uow_factory() as uow:
        attempt = uow.runs.outside_attempt(call.key)
        if attempt is None or attempt.status == "not_sent":
            uow.runs.calling_out(call.key, call.run_id, where, action.id, clock())
            return None
    if attempt.status == "sent":
        return CallResult({"idempotency_key": call.key}, None, None, 0.0,
                          {**(attempt.answer or {}), "already_done": True})
    try:
        found = action.look_up(outbound, call, attempt.first_called_at)
    except ConnectorError as error:
        delay = min(policy.backoff * (2 ** attempt.look_ups), MAX_WAIT)
        with uow_factory() as uow:
            record(uow, "lookup_failed", error.request, error.response, error.latency_ms,
                   error.message)
            uow.runs.outside_outcome(call.key, attempt.status, clock(), looked_up=True)
        raise LookUpPending(f"the outcome of the earlier call is unknown and asking the "
                            f"provider failed ({error.message}); asking again, not resending",
                            delay) from error
    now = clock()
    with uow_factory() as uow:
        record(uow, "found" if found.found else "not_found", found.request, found.response,
               found.latency_ms, None)
        uow.runs.outside_outcome(call.key, "sent" if found.found else attempt.status, now,
                                 answer=acts.jsonable(found.output) if found.found else None,
                                 looked_up=True)
    if found.found:
        return CallResult(found.request, found.response, None, found.latency_ms,
                          {**found.output, "confirmed_by_look_up": True})
    quiet = now - attempt.last_called_at
    if quiet < policy.grace:
        raise LookUpPending("the provider has no record of the earlier call yet; its records "
                            "may lag, so it is asked again before any resend",
                            policy.grace - quiet)
    calling_out(uow_factory, clock, call, where, action.id)
    return None


def calling_out(uow_factory: UowFactory, clock: Clock, call: acts.StepCall, where: int,
                action: str) -> None:
    """Committed before the call goes out."""
    with uow_factory() as uow:
        uow.runs.calling_out(call.key, call.run_id, where, action, clock())
