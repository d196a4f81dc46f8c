"""Events delivered in chunks (several events, one transaction: PostgreSQL's
``ORDERPILOT_DISPATCH_COMMIT_CHUNK``) stay exactly once and blame no handler for a lost lock
race; and the channel-day counters, counted per dispatcher thread, read as one row a channel
and day. Both databases."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from orderpilot.adapters import stats
from orderpilot.adapters import tables as t
from orderpilot.adapters.stats import StatsRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.events import OrderEvent

EVENTS = 6


def test_a_lost_lock_race_in_a_chunk_sends_it_again_one_by_one_without_a_failure(
        hub: Hub) -> None:
    """A handler whose write loses a unique-key race (what a concurrent worker or a deadlock
    does) inside a chunk: the chunk is rolled back whole, its events go again one a
    transaction, and nothing counts as a failed handler. Without the guard in
    Dispatcher._run_handlers, or without SqlUnitOfWork.savepoint() telling the race apart,
    it counts as the handler's failure, with backoff."""
    calls: dict[str, int] = {}
    effects: list[str] = []

    def racy(event: OrderEvent, uow: object, clock: object) -> None:
        calls[event.id] = calls.get(event.id, 0) + 1
        # Event 2 loses its race twice: in the chunk, and at the first try alone. Run a
        # second time in the chunk (the handler-by-handler retry), it would be blamed.
        if event.payload["n"] == 2 and calls[event.id] <= 2:
            conn = uow.conn  # type: ignore[attr-defined]
            row = {"handler": "test.taken", "message_id": event.id, "handled_at": hub.clock()}
            conn.execute(t.inbox.insert(), row)
            conn.execute(t.inbox.insert(), row)  # the same key again: IntegrityError
        effects.append(event.id)

    hub.registry.on("test.racy", "test.racy", racy)
    with hub.uow() as uow:
        uow.events.append([OrderEvent(f"order-{n}", "test.racy", "test", hub.clock(),
                                      hub.clock(), {"n": n}) for n in range(EVENTS)])
    dispatcher = hub.dispatcher("chunks")
    dispatcher.settings.one_transaction_per_batch = False
    dispatcher.settings.commit_chunk = EVENTS
    while dispatcher.run_once():
        pass
    assert dispatcher.stats.failed == 0 and dispatcher.stats.dead == 0
    assert dispatcher.stats.delivered == EVENTS
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar() == 0
        # every handler's effect committed exactly once (the inbox mark of each event)
        marks = conn.execute(sa.select(sa.func.count()).select_from(t.inbox)
                             .where(t.inbox.c.handler == "test.racy")).scalar()
    assert marks == EVENTS
    # the rolled-back chunk ran the handlers before event 2, the one-by-one pass all of them
    assert len(effects) == EVENTS + 2


def test_the_counters_of_several_dispatcher_threads_read_as_one_row(hub: Hub) -> None:
    def count(n: int) -> None:
        with hub.uow() as uow:
            uow.stats.count_order("2026-12-05", "shopee", 100 * (n + 1))

    threads = [threading.Thread(target=count, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
        thread.join()  # one after the other: SQLite has one writer, the shards differ anyway
    with hub.db.read() as conn:
        shards = conn.execute(sa.select(sa.func.count()).select_from(t.channel_daily_stats)
                              ).scalar()
        days = StatsRepository(conn).channel_days("2026-12-01")
    assert shards == 4  # one row per thread
    assert days == [("2026-12-05", "shopee", 4, 1000)]


# PostgreSQL only: SQLite has one writer, so two transactions never hold rows at once there.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_chunks_whose_threads_share_a_shard_wait_for_each_other_instead_of_deadlocking(
        hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two dispatcher threads on the same shard (two workers' random starts can fall on
    it), each delivering a chunk that counts two channels, in opposite orders. Counted as the
    events came, each took one channel's row and waited for the other's: a deadlock, the chunk
    rolled back and its events went again one by one (the strict two-worker test saw it in one
    run in five). Deferred, the counts are added in (day, channel) order just before the
    commit, so one transaction waits for the other and both commit."""
    monkeypatch.setattr(stats, "this_threads_shard", lambda: 3)
    with hub.uow() as uow:  # the rows exist already, as they do for all but a day's first
        for channel in ("lazada", "shopee"):
            uow.stats.count_order("2026-12-05", channel, 1)
    both_counted_one = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def chunk(first: str, second: str) -> None:
        try:
            with hub.uow() as uow:
                uow.stats.defer_counts()
                uow.stats.count_order("2026-12-05", first, 100)
                both_counted_one.wait()
                uow.stats.count_order("2026-12-05", second, 100)
                uow.stats.settle_counts()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=chunk, args=pair)
               for pair in (("shopee", "lazada"), ("lazada", "shopee"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with hub.db.read() as conn:
        days = StatsRepository(conn).channel_days("2026-12-01")
    assert days == [("2026-12-05", "lazada", 3, 201), ("2026-12-05", "shopee", 3, 201)]
