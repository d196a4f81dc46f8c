"""A buyer with its own engine, for the oversell tests' threads and processes.

Kept apart from the test module, with few imports, so a buyer process (forked from a server
that preloaded this module) starts in milliseconds rather than importing the whole hub.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from orderpilot.adapters.db import Database
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.services.inventory import allocation as inventory

BARRIER_SECONDS = 120  # a buyer that never arrives breaks the barrier instead of hanging


class Buyer:
    """One buyer with its own engine and a connection opened before the start."""

    def __init__(self, url: str) -> None:
        self.db = Database(url, pool_size=1)
        with self.db.read() as conn:  # connect now, so the start is the buy, not the login
            conn.execute(sa.text("SELECT 1"))

    def buy(self, order_id: str) -> str:
        return inventory.allocate_order(order_id, lambda: SqlUnitOfWork(self.db),
                                        lambda: datetime.now(UTC)).outcome

    def close(self) -> None:
        self.db.dispose()


def buy_at_the_barrier(url: str, order_id: str, start: Any, outcomes: Any) -> None:
    """A buyer process: connect, wait for all the others, buy once, report the outcome."""
    try:
        buyer = Buyer(url)
        try:
            start.wait(BARRIER_SECONDS)
            outcomes.put(buyer.buy(order_id))
        finally:
            buyer.close()
    except Exception as error:  # noqa: BLE001 - the parent asserts on every outcome
        start.abort()
        outcomes.put(f"error: {error!r}")
