"""Bounded growth: timer handlers that forget rows older than a number of days, in rounds.

A round forgets at most ``batch`` rows in the timer's transaction; a full round arms the next
one at once (its key carries the round's number, so a chain of rounds never collides with
itself), and a short round ends the chain until something arms it again (refused reports:
the day's first refusal; webhook deliveries: the day's first delivery).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from orderpilot.domain.records import JsonObject
from orderpilot.services.unit_of_work import Clock, UnitOfWork

Prune = Callable[[UnitOfWork, datetime, int], int]  # (uow, forget before, at most) -> forgotten


def sweeper(timer: str, keep_days: int, batch: int,
            prune: Prune) -> Callable[[JsonObject, UnitOfWork, Clock], None]:
    """The handler of TIMER: forget what PRUNE finds older than KEEP_DAYS, BATCH a round."""
    def sweep(payload: JsonObject, uow: UnitOfWork, clock: Clock) -> None:
        now = clock()
        if prune(uow, now - timedelta(days=keep_days), batch) == batch:  # more left: go on
            rounds = int(str(payload.get("round", 0))) + 1
            uow.timers.schedule(f"{timer}:{now.isoformat()}:{rounds}", timer, now,
                                {"round": rounds}, now)
    return sweep
