"""Due pulls of stock sources, claimed with a lease, and the timers that keep them coming.

A pull row is claimed like an outbox row (``claimed_by``/``claimed_until``): a puller that dies
mid-call leaves a lease that runs out, and the next puller carries the pull out again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import insert_ignore
from orderpilot.domain.events import new_id
from orderpilot.domain.inventory_records import PendingTimer, Pull, PullRecord
from orderpilot.domain.records import JsonObject

pl, tm = t.inventory_pulls, t.timers
DUE = "due"


def _pull(r: Any) -> Pull:
    return Pull(r.id, r.source, r.due_at, r.reason, r.attempts)


def _like(prefix: str) -> Any:
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return tm.c.key.like(pattern, escape="\\")


class PullRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, source: str, due_at: datetime, now: datetime, *, reason: str,
            attempts: int = 0, claimed_by: str | None = None,
            lease: timedelta | None = None) -> str:
        pull_id = new_id()
        self.conn.execute(pl.insert().values(
            id=pull_id, source=source, due_at=due_at, status=DUE, reason=reason,
            attempts=attempts, claimed_by=claimed_by,
            claimed_until=now + lease if claimed_by and lease else None, created_at=now))
        return pull_id

    def any_due(self, now: datetime) -> bool:
        return self.conn.execute(sa.select(pl.c.id).where(
            pl.c.status == DUE, pl.c.due_at <= now,
            sa.or_(pl.c.claimed_until.is_(None), pl.c.claimed_until < now)).limit(1)).first() \
            is not None

    def claim(self, worker: str, limit: int, lease: timedelta, now: datetime) -> list[Pull]:
        due = (sa.select(pl.c.id)
               .where(pl.c.status == DUE, pl.c.due_at <= now,
                      sa.or_(pl.c.claimed_until.is_(None), pl.c.claimed_until < now))
               .order_by(pl.c.due_at, pl.c.id).limit(limit)
               .with_for_update(skip_locked=True))
        ids = [r[0] for r in self.conn.execute(
            pl.update().where(pl.c.id.in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_until=now + lease).returning(pl.c.id))]
        if not ids:
            return []
        rows = self.conn.execute(sa.select(pl).where(pl.c.id.in_(ids))
                                 .order_by(pl.c.due_at, pl.c.id))
        return [_pull(r) for r in rows]

    def finish(self, pull_id: str, worker: str, status: str, now: datetime, *,
               run_id: str | None = None, error: str | None = None) -> bool:
        """Close a claimed pull; False when the lease was lost to another puller."""
        return bool(self.conn.execute(
            pl.update().where(pl.c.id == pull_id, pl.c.claimed_by == worker,
                              pl.c.status == DUE)
            .values(status=status, run_id=run_id, last_error=error and error[:4000],
                    finished_at=now,
                    attempts=pl.c.attempts + 1, claimed_by=None,
                    claimed_until=None)).rowcount)

    def retry_later(self, pull_id: str, worker: str, due_at: datetime, error: str) -> None:
        self.conn.execute(
            pl.update().where(pl.c.id == pull_id, pl.c.claimed_by == worker, pl.c.status == DUE)
            .values(due_at=due_at, reason="retry", last_error=error[:4000],
                    attempts=pl.c.attempts + 1, claimed_by=None, claimed_until=None))

    def recent(self, *, source: str | None = None, limit: int = 50) -> list[PullRecord]:
        query = sa.select(pl)
        if source:
            query = query.where(pl.c.source == source)
        return [PullRecord(*r) for r in self.conn.execute(
            query.order_by(pl.c.due_at.desc(), pl.c.id).limit(limit))]

    # --- the timers that write due pulls and run the sweeper ---

    def pending_timers(self, prefix: str) -> list[PendingTimer]:
        return [PendingTimer(*r) for r in self.conn.execute(
            sa.select(tm.c.key, tm.c.fire_at, tm.c.payload).where(
                _like(prefix), tm.c.status == "pending"))]

    def schedule_timer(self, key: str, kind: str, fire_at: datetime, payload: JsonObject,
                       now: datetime) -> None:
        """Schedule, or bring back a cancelled timer of the same key (a schedule changed and
        changed back): the key is unique, so a plain insert would be silently ignored."""
        if not insert_ignore(self.conn, tm, {
                "id": new_id(), "key": key, "kind": kind, "order_id": None, "fire_at": fire_at,
                "payload": payload, "status": "pending", "attempts": 0, "created_at": now}):
            self.conn.execute(tm.update().where(tm.c.key == key, tm.c.status == "cancelled")
                              .values(status="pending", payload=payload, attempts=0,
                                      claimed_by=None, claimed_until=None, last_error=None))
