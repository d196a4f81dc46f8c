"""Recording a person's action in the audit trail (domain/audit.py), in the transaction of the
change it made.

Who is acting is set once per request or command: the API's and the console's sign-in
dependencies fill the request's actor slot (``entrypoints/audit_context.py`` opens one per
request), the CLI opens ``acting_as``. Services then call ``record(uow, ...)``: with no person
acting (a worker, a rule, a system's report) it records nothing. A slot is a mutable holder, so
the actor set by a dependency running in one thread is seen by the endpoint running in another
(each gets a copy of the request's context, the same slot)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from orderpilot.domain.audit import Actor, AuditEntry
from orderpilot.services.unit_of_work import Clock


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> None: ...


@dataclass
class ActorSlot:
    actor: Actor | None = None
    recorded: int = 0  # entries recorded for this request or command
    system_report: bool = False  # the request carried a system's report: no backstop entry


_slot: ContextVar[ActorSlot | None] = ContextVar("orderpilot_actor_slot", default=None)


def open_slot() -> ActorSlot:
    """A fresh slot for this request (the API middleware calls it first thing)."""
    slot = ActorSlot()
    _slot.set(slot)
    return slot


def current_slot() -> ActorSlot | None:
    return _slot.get()


def set_actor(actor: Actor | None) -> None:
    """Name the person acting in this request (the sign-in dependencies call it)."""
    slot = _slot.get()
    if slot is None:
        slot = open_slot()
    slot.actor = actor


def current_actor() -> Actor | None:
    slot = _slot.get()
    return slot.actor if slot is not None else None


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[ActorSlot]:
    """Run a block as ACTOR (the CLI, the company simulator's staff, tests)."""
    slot = ActorSlot(actor)
    token = _slot.set(slot)
    try:
        yield slot
    finally:
        _slot.reset(token)


def system_report() -> None:
    """Say that this request carries what a system reported (a return a channel sent through
    the API, with its source's event id), not a person's decision: the API's backstop
    (entrypoints/audit_backstop.py) then adds no entry either."""
    slot = _slot.get()
    if slot is not None:
        slot.system_report = True


def record(uow: Any, clock: Clock, action: str, *, subject_type: str, subject_id: str = "",
           order_id: str | None = None, before: Mapping[str, Any] | None = None,
           after: Mapping[str, Any] | None = None,
           detail: Mapping[str, Any] | None = None, actor: Actor | None = None) -> bool:
    """Append one entry for the person acting (or ACTOR) in UOW's transaction; False when no
    person is acting."""
    who = actor or current_actor()
    if who is None:
        return False
    uow.audit_log.append(AuditEntry(
        None, clock(), who.name, who.id, who.role, who.kind, who.via, action, subject_type,
        subject_id, order_id, dict(before) if before is not None else None,
        dict(after) if after is not None else None,
        dict(detail) if detail is not None else None))
    slot = _slot.get()
    if slot is not None:
        slot.recorded += 1
    return True
