"""What the service layer needs from storage, as a protocol (the adapters implement it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, TypeVar

from orderpilot.domain.errors import ConcurrentUpdate

T = TypeVar("T")
Clock = Callable[[], datetime]


class UnitOfWork(Protocol):
    orders: Any
    events: Any
    outbox: Any
    inbox: Any
    timers: Any
    stats: Any
    decision_tables: Any
    rules: Any
    runs: Any
    tickets: Any
    customers: Any
    attributes: Any
    sms_templates: Any
    inventory: Any

    def __enter__(self) -> UnitOfWork: ...
    def savepoint(self) -> Any: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...


UowFactory = Callable[[], UnitOfWork]


def retrying(action: Callable[[], T], attempts: int = 6) -> T:
    """Run a whole command again when a concurrent writer got there first."""
    for attempt in range(attempts):
        try:
            return action()
        except ConcurrentUpdate:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
