"""Counters that handlers keep up to date (read by the console dashboard).

A channel's orders of a day are counted in up to ``SHARDS`` rows, one per dispatcher thread
(migration 0031): a hot single row would make every dispatcher of every worker wait for each
other's transactions, and deadlock when two took two channels' rows in opposite orders.
Readers add the shards up.

The dispatcher's bare deliveries defer the counts (:meth:`StatsRepository.defer_counts`): a
chunk of events adds to each of its rows once, in (day, channel) order, just before the
commit. Counted as the events came, two chunks of threads that share a shard (one in every
five or so runs of two workers with two threads, the processes' random starts falling within
one of each other) took the same rows in different orders and deadlocked: the chunk rolled back
and its events went again one a transaction.
"""

from __future__ import annotations

import itertools
import random
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import insert_ignore

_S = t.channel_daily_stats
_COUNT_ORDER = _S.update() \
    .where(_S.c.day == sa.bindparam("d"), _S.c.channel == sa.bindparam("ch"),
           _S.c.shard == sa.bindparam("sh")) \
    .values(orders=_S.c.orders + sa.bindparam("n"),
            gmv_cents=_S.c.gmv_cents + sa.bindparam("gmv"))
SHARDS = 16
# Threads of one process take consecutive shards; processes start at a random one.
_next_shard = itertools.count(random.randrange(SHARDS))
_thread = threading.local()


def this_threads_shard() -> int:
    shard = getattr(_thread, "shard", None)
    if shard is None:
        shard = _thread.shard = next(_next_shard) % SHARDS
    return int(shard)


class StatsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._deferred: dict[tuple[str, str], tuple[int, int]] | None = None

    def count_order(self, day: str, channel: str, gmv_cents: int) -> None:
        if self._deferred is None:
            self._add(day, channel, 1, gmv_cents)
            return
        orders, gmv = self._deferred.get((day, channel), (0, 0))
        self._deferred[(day, channel)] = (orders + 1, gmv + gmv_cents)

    def defer_counts(self) -> None:
        """From now on in this transaction, :meth:`count_order` only notes the count, and
        :meth:`settle_counts` adds them up, one statement a row, in lock order."""
        self._deferred = {}

    def settle_counts(self) -> None:
        deferred, self._deferred = self._deferred or {}, None
        for (day, channel), (orders, gmv_cents) in sorted(deferred.items()):
            self._add(day, channel, orders, gmv_cents)

    def _add(self, day: str, channel: str, orders: int, gmv_cents: int) -> None:
        shard = this_threads_shard()
        counted = {"d": day, "ch": channel, "sh": shard, "n": orders, "gmv": gmv_cents}
        # The day's row almost always exists: add to it first (one statement); the first
        # order of a day inserts it, and one that loses that race adds to the winner's.
        if self.conn.execute(_COUNT_ORDER, counted).rowcount:
            return
        if insert_ignore(self.conn, t.channel_daily_stats,
                         {"day": day, "channel": channel, "shard": shard, "orders": orders,
                          "gmv_cents": gmv_cents}):
            return
        self.conn.execute(_COUNT_ORDER, counted)

    def channel_days(self, since_day: str) -> list[tuple[str, str, int, int]]:
        s = t.channel_daily_stats
        rows = self.conn.execute(sa.select(s.c.day, s.c.channel,
                                           sa.func.sum(s.c.orders).label("orders"),
                                           sa.func.sum(s.c.gmv_cents).label("gmv_cents"))
                                 .where(s.c.day >= since_day)
                                 .group_by(s.c.day, s.c.channel)
                                 .order_by(s.c.day, s.c.channel))
        return [(r.day, r.channel, r.orders, r.gmv_cents) for r in rows]
