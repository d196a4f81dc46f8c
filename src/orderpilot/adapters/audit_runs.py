"""Stored audit runs (table ``audit_runs``, migration 0017): services/walkthrough.py
``AuditRuns``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from orderpilot.adapters.db import Database
from orderpilot.adapters.tables_audits import audit_runs as a
from orderpilot.services.walkthrough import AuditRun


def _run(r: Any) -> AuditRun:
    return AuditRun(r.id, r.kind, int(r.seed), r.sample_size, r.orders, r.since, r.until,
                    dict(r.summary), dict(r.result), r.run_by, r.run_at, dict(r.paths or {}))


class SqlAuditRuns:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, run: AuditRun) -> None:
        with self.db.write() as conn:
            conn.execute(a.insert(), {
                "id": run.id, "kind": run.kind, "seed": run.seed,
                "sample_size": run.sample_size, "orders": run.orders, "since": run.since,
                "until": run.until, "summary": run.summary, "result": run.result,
                "paths": run.paths, "run_by": run.run_by, "run_at": run.run_at})

    def get(self, run_id: str) -> AuditRun | None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(a).where(a.c.id == run_id)).first()
        return None if row is None else _run(row)

    def recent(self, kind: str, limit: int) -> list[AuditRun]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(a).where(a.c.kind == kind)
                                .order_by(a.c.run_at.desc(), a.c.id).limit(limit)).all()
        return [_run(r) for r in rows]
