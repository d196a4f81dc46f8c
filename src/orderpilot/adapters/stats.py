"""Counters that handlers keep up to date (read by the console dashboard)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import insert_ignore

_S = t.channel_daily_stats
_COUNT_ORDER = _S.update() \
    .where(_S.c.day == sa.bindparam("d"), _S.c.channel == sa.bindparam("ch")) \
    .values(orders=_S.c.orders + 1, gmv_cents=_S.c.gmv_cents + sa.bindparam("gmv"))


class StatsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def count_order(self, day: str, channel: str, gmv_cents: int) -> None:
        if insert_ignore(self.conn, t.channel_daily_stats,
                         {"day": day, "channel": channel, "orders": 1, "gmv_cents": gmv_cents}):
            return
        self.conn.execute(_COUNT_ORDER, {"d": day, "ch": channel, "gmv": gmv_cents})

    def channel_days(self, since_day: str) -> list[tuple[str, str, int, int]]:
        s = t.channel_daily_stats
        rows = self.conn.execute(sa.select(s.c.day, s.c.channel, s.c.orders, s.c.gmv_cents)
                                 .where(s.c.day >= since_day).order_by(s.c.day, s.c.channel))
        return [(r.day, r.channel, r.orders, r.gmv_cents) for r in rows]
