"""What an operator alerts on, read from the database every process shares: how long the
oldest due work has waited, dead letters, and sources whose last pull failed.

Read from the tables rather than counted in a process, so `serve`'s /metrics and /readyz tell
the truth when the events are delivered by separate `orderpilot worker` processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t


@dataclass(frozen=True)
class OperationsState:
    backlog_age_seconds: dict[str, float]  # outbox, timers: how long the oldest due one waits
    dead_letters: dict[str, int]  # event, timer
    pulls_failing: dict[str, int]  # channel, inventory: sources whose last pull failed


def outbox_age_seconds(conn: Connection, now: datetime) -> float:
    """How long the oldest event due for delivery has waited for it (0 with none due).

    An event waits from when it was recorded, or from when its retry came due after a failed
    attempt: an event in its backoff is not waiting for a worker. Delivered events leave the
    outbox and dead ones are counted apart, so one index look-up answers (ix_outbox_due)."""
    ob = t.outbox
    oldest = conn.execute(sa.select(sa.func.min(ob.c.available_at))
                          .where(ob.c.status == "pending")).scalar()
    return _age(oldest, now)


def _timers_age_seconds(conn: Connection, now: datetime) -> float:
    tm = t.timers
    oldest = conn.execute(sa.select(sa.func.min(tm.c.fire_at))
                          .where(tm.c.status == "pending")).scalar()
    return _age(oldest, now)


def _age(oldest: datetime | None, now: datetime) -> float:
    return 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())


def _dead_letters(conn: Connection) -> dict[str, int]:
    """Dead events, timers and webhook deliveries: each waits for a person."""
    return {kind: int(conn.execute(sa.select(sa.func.count()).select_from(table)
                                   .where(table.c.status == "dead")).scalar_one())
            for kind, table in (("event", t.outbox), ("timer", t.timers),
                                ("webhook", t.webhook_deliveries))}


def _channels_failing(conn: Connection) -> int:
    """Enabled channel accounts whose last catch-up pull ended in an error."""
    a = t.channel_accounts
    summaries = conn.execute(sa.select(a.c.last_pull).where(a.c.enabled.is_(True),
                                                            a.c.last_pull.is_not(None)))
    return sum(1 for (summary,) in summaries
               if isinstance(summary, dict) and summary.get("error"))


def _stock_sources_failing(conn: Connection) -> int:
    """Stock sources whose latest pull run failed."""
    runs = t.inventory_sync_runs
    latest = (sa.select(runs.c.source, sa.func.max(runs.c.started_at).label("at"))
              .where(runs.c.method == "pull").group_by(runs.c.source).subquery())
    return int(conn.execute(
        sa.select(sa.func.count(sa.distinct(runs.c.source)))
        .select_from(runs.join(latest, sa.and_(latest.c.source == runs.c.source,
                                               latest.c.at == runs.c.started_at)))
        .where(runs.c.method == "pull", runs.c.status == "failed")).scalar_one())


def operations_state(conn: Connection, now: datetime) -> OperationsState:
    return OperationsState(
        backlog_age_seconds={"outbox": outbox_age_seconds(conn, now),
                             "timers": _timers_age_seconds(conn, now)},
        dead_letters=_dead_letters(conn),
        pulls_failing={"channel": _channels_failing(conn),
                       "inventory": _stock_sources_failing(conn)})
