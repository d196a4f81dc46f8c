"""Rule runs (one per rule and trigger) and the attempts of their steps."""

from __future__ import annotations

from builtins import list as List  # noqa: N812  (``list`` is a method name below)
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import _claim, insert_ignore
from orderpilot.adapters.pg_wake import RUNS, notify
from orderpilot.domain.records import Claim, JsonObject
from orderpilot.domain.rules.records import OutsideAttempt, Run, StepAttempt

_DUE = (sa.select(t.rule_runs.c.seq).where(t.rule_runs.c.status == "pending",
                                            t.rule_runs.c.next_attempt_at <= sa.bindparam("now"))
        .limit(1))
_RUN = sa.select(t.rule_runs).where(t.rule_runs.c.id == sa.bindparam("id"))
_RUNS = sa.select(t.rule_runs).where(
    t.rule_runs.c.id.in_(sa.bindparam("ids", expanding=True))).order_by(t.rule_runs.c.seq)


class RunRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, row: Mapping[str, object]) -> bool:
        """Record a run once per dedupe key; True when this call recorded it."""
        added = insert_ignore(self.conn, t.rule_runs, row)
        if added:  # the runners of other processes start on it at the commit
            notify(self.conn, RUNS)
        return added

    def any_due(self, now: datetime) -> bool:
        return self.conn.execute(_DUE, {"now": now}).first() is not None

    def claim(self, worker: str, limit: int, lease: timedelta, now: datetime) -> List[Claim]:
        return _claim(self.conn, t.rule_runs, t.rule_runs.c.next_attempt_at, worker, limit,
                      lease, now, id_column="id")

    def get(self, run_id: str) -> Run | None:
        row = self.conn.execute(_RUN, {"id": run_id}).first()
        return None if row is None else Run(*row)

    def get_many(self, run_ids: List[str]) -> List[Run]:
        if not run_ids:
            return []
        return [Run(*r) for r in self.conn.execute(_RUNS, {"ids": run_ids})]

    def update(self, run_id: str, worker: str | None, **values: Any) -> bool:
        """Change a run this worker holds (or any run, with worker None)."""
        query = t.rule_runs.update().where(t.rule_runs.c.id == run_id)
        if worker is not None:
            query = query.where(t.rule_runs.c.claimed_by == worker)
        return bool(self.conn.execute(query.values(**values)).rowcount == 1)

    def add_attempt(self, row: Mapping[str, object]) -> int:
        return int(self.conn.execute(t.rule_attempts.insert().returning(t.rule_attempts.c.seq),
                                     row).scalar_one())

    def attempts(self, run_id: str) -> List[StepAttempt]:
        return [StepAttempt(*r) for r in self.conn.execute(
            sa.select(t.rule_attempts).where(t.rule_attempts.c.run_id == run_id)
            .order_by(t.rule_attempts.c.seq))]

    # -- outside calls: recorded before they go out ------------------------------------------

    def outside_attempt(self, key: str) -> OutsideAttempt | None:
        table = t.outside_attempts
        row = self.conn.execute(sa.select(table).where(table.c.idempotency_key == key)).first()
        return None if row is None else OutsideAttempt(*row)

    def calling_out(self, key: str, run_id: str, step_no: int, action: str,
                    now: datetime) -> None:
        """Mark KEY as on the wire (first call, or a resend); the caller commits before
        calling, so a crash during the call leaves a ``calling`` row to look up."""
        table = t.outside_attempts
        changed = self.conn.execute(
            table.update().where(table.c.idempotency_key == key)
            .values(status="calling", calls=table.c.calls + 1, last_called_at=now,
                    run_id=run_id, step_no=step_no)).rowcount
        if changed == 0:
            self.conn.execute(table.insert().values(
                idempotency_key=key, run_id=run_id, step_no=step_no, action=action,
                status="calling", calls=1, look_ups=0, first_called_at=now,
                last_called_at=now))

    def outside_outcome(self, key: str, status: str, now: datetime, *,
                        answer: JsonObject | None = None,
                        looked_up: bool = False) -> None:
        """What became of KEY: sent, not_sent, unknown, or (looked up) still calling."""
        table = t.outside_attempts
        values: dict[str, Any] = {"status": status}
        if status in ("sent", "not_sent"):
            values["settled_at"] = now
        if answer is not None:
            values["answer"] = answer
        if looked_up:
            values["look_ups"] = table.c.look_ups + 1
        self.conn.execute(table.update().where(table.c.idempotency_key == key).values(**values))

    def list(self, *, rule_id: str | None = None, version: int | None = None,
             status: str | None = None, order_id: str | None = None,
             since: datetime | None = None, until: datetime | None = None,
             before_seq: int | None = None, limit: int = 50,
             rule_ids: Collection[str] | None = None,
             order_ids: Collection[str] | None = None) -> List[Run]:
        query = sa.select(t.rule_runs).order_by(t.rule_runs.c.seq.desc()).limit(limit)
        if rule_ids is not None:
            query = query.where(t.rule_runs.c.rule_id.in_(list(rule_ids)))
        if order_ids is not None:
            query = query.where(t.rule_runs.c.order_id.in_(list(order_ids)))
        for column, value in ((t.rule_runs.c.rule_id, rule_id),
                              (t.rule_runs.c.rule_version, version),
                              (t.rule_runs.c.status, status),
                              (t.rule_runs.c.order_id, order_id)):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(t.rule_runs.c.created_at >= since)
        if until is not None:
            query = query.where(t.rule_runs.c.created_at < until)
        if before_seq is not None:
            query = query.where(t.rule_runs.c.seq < before_seq)
        return [Run(*r) for r in self.conn.execute(query)]

    def counts(self, rule_id: str | None = None) -> dict[str, int]:
        query = sa.select(t.rule_runs.c.status, sa.func.count()).group_by(t.rule_runs.c.status)
        if rule_id is not None:
            query = query.where(t.rule_runs.c.rule_id == rule_id)
        return {status: int(n) for status, n in self.conn.execute(query)}
