"""Two dispatchers side by side never handle one order's events at once or out of order.

On PostgreSQL the dispatchers claim with FOR UPDATE SKIP LOCKED, and a claim takes only an
order's earliest pending outbox row; on SQLite the claimer is the only writer. Without that
rule (drop ``only=`` in Outbox.claim) this test sees an order's events overlap.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.domain.events import OrderEvent

ORDERS = 3
STEPS = 12


@dataclass
class Handled:
    order_id: str
    step: int
    started: float
    ended: float


def outbox_left(hub: Hub) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one())


def test_two_dispatchers_keep_each_orders_events_in_order(hub: Hub) -> None:
    """Up to three rounds: each must keep every order's events in order, and on PostgreSQL
    at least one must have both dispatchers delivering (one of them can take a whole round
    alone when the machine is busy, which proves nothing about running side by side)."""
    for round_no in range(3):
        both_took_part = _one_round(hub, round_no)
        if both_took_part or hub.db.is_sqlite:
            return
    raise AssertionError("in three rounds one dispatcher always took every event")


def _one_round(hub: Hub, round_no: int) -> bool:
    handled: list[Handled] = []
    lock = threading.Lock()

    def slow_step(event: OrderEvent, uow: Any, _clock: Any) -> None:
        started = time.monotonic()
        time.sleep(0.01)  # long enough for the other dispatcher to take the order's next event
        with lock:
            handled.append(Handled(event.order_id or "", int(event.payload["step"]), started,
                                   time.monotonic()))

    hub.registry.on(f"test.step{round_no}", "test.slow_step", slow_step)
    orders = [f"order-{round_no}-{n}" for n in range(ORDERS)]
    for step in range(STEPS):  # interleaved: o0 s0, o1 s0, o2 s0, o0 s1, ...
        for order in orders:
            with hub.uow() as uow:
                uow.events.append([OrderEvent(order, f"test.step{round_no}", "test",
                                              hub.clock(), hub.clock(), {"step": step})])
    dispatchers = [hub.dispatcher(f"side-{round_no}-{i}") for i in range(2)]
    for dispatcher in dispatchers:
        dispatcher.settings.batch_size = 4
        dispatcher.settings.commit_chunk = 2
        dispatcher.settings.idle_poll_seconds = 0.01  # the idle one looks again at once
    stop = threading.Event()
    threads = [threading.Thread(target=d.run_forever, args=(stop,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while outbox_left(hub) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for d in dispatchers:
            d.wake()
        for thread in threads:
            thread.join(timeout=10)
    assert outbox_left(hub) == 0
    assert len(handled) == ORDERS * STEPS
    for order in orders:
        mine = sorted((h for h in handled if h.order_id == order), key=lambda h: h.started)
        assert [h.step for h in mine] == list(range(STEPS)), "handled out of order"
        for before, after in zip(mine, mine[1:], strict=False):
            assert after.started >= before.ended, \
                f"{order}: steps {before.step} and {after.step} ran at once"
    return all(d.stats.delivered for d in dispatchers)
