"""Stored reconciliation runs and discrepancies (tables_reconciliation.py), on the database
itself: the service layer sees ``services.reconciliation.RunStore``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.db import Database
from orderpilot.domain.reconciliation import (
    Discrepancy,
    Result,
    RunSummary,
    StoredDiscrepancy,
    finding_dict,
)

runs, items = t.reconciliation_runs, t.reconciliation_discrepancies


def _summary(r: Any) -> RunSummary:
    return RunSummary(r.id, r.since, r.until, dict(r.sources), list(r.files), list(r.findings),
                      {str(k): int(v) for k, v in dict(r.counts).items()}, r.orders,
                      r.discrepant_orders, Decimal(r.per_mille), r.created_by, r.created_at)


def _item(r: Any) -> StoredDiscrepancy:
    return StoredDiscrepancy(
        r.run_id, r.n, Discrepancy(r.kind, r.order_id, r.order_ref, r.sku, r.expected, r.actual,
                                   r.source), r.status, r.action, r.changed_by, r.changed_at)


class RunRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, run_id: str, result: Result, by: str, now: datetime) -> RunSummary:
        with self.db.write() as conn:
            conn.execute(runs.insert().values(
                id=run_id, since=result.since, until=result.until, sources=result.sources,
                files=result.files, findings=[finding_dict(f) for f in result.findings],
                counts=result.counts(), orders=result.orders,
                discrepant_orders=result.discrepant_orders, per_mille=str(result.per_mille),
                created_by=by, created_at=now))
            rows = [{"run_id": run_id, "n": n, "kind": d.kind, "order_id": d.order_id,
                     "order_ref": d.order_ref[:200], "sku": d.sku[:400],
                     "expected": d.expected[:200], "actual": d.actual[:400],
                     "source": d.source[:200], "status": "open"}
                    for n, d in enumerate(result.discrepancies, start=1)]
            for start in range(0, len(rows), 1000):
                conn.execute(items.insert(), rows[start:start + 1000])
        found = self.run(run_id)
        assert found is not None
        return found

    def runs(self, limit: int) -> list[RunSummary]:
        with self.db.read() as conn:
            return [_summary(r) for r in conn.execute(
                sa.select(runs).order_by(runs.c.seq.desc()).limit(limit))]

    def run(self, run_id: str) -> RunSummary | None:
        with self.db.read() as conn:
            found = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
        return None if found is None else _summary(found)

    def discrepancies(self, run_id: str, kind: str | None = None, limit: int = 10_000
                      ) -> list[StoredDiscrepancy]:
        query = sa.select(items).where(items.c.run_id == run_id)
        if kind:
            query = query.where(items.c.kind == kind)
        with self.db.read() as conn:
            return [_item(r) for r in conn.execute(query.order_by(items.c.n).limit(limit))]

    def discrepancy(self, run_id: str, n: int) -> StoredDiscrepancy | None:
        with self.db.read() as conn:
            found = conn.execute(sa.select(items).where(items.c.run_id == run_id,
                                                        items.c.n == n)).first()
        return None if found is None else _item(found)

    def change(self, run_id: str, n: int, status: str, action: str, by: str,
               now: datetime) -> bool:
        """Open -> STATUS, once: False when it was no longer open."""
        with self.db.write() as conn:
            return bool(conn.execute(items.update().where(
                items.c.run_id == run_id, items.c.n == n, items.c.status == "open").values(
                status=status, action=action[:400], changed_by=by[:200], changed_at=now)
            ).rowcount)
