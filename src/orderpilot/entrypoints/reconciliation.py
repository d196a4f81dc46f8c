"""Reconciliation wired for the entrypoints (API, console, CLI): the service with the duckdb
comparison over the hub's snapshot and the run store, and a run as JSON."""

from __future__ import annotations

from datetime import date
from typing import Any

from orderpilot.adapters.analytics.reconcile import reconcile
from orderpilot.adapters.analytics.reconcile_files import read_file
from orderpilot.adapters.reconciliation_runs import RunRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.errors import InvalidInput, UnreadableSheet
from orderpilot.domain.reconciliation import (
    INDUSTRY_PER_MILLE,
    KINDS,
    TARGET_PER_MILLE,
    Result,
    RunSummary,
    StoredDiscrepancy,
)
from orderpilot.services.reconciliation import Files, Reconciliations


def reconciliations(hub: Hub) -> Reconciliations:
    def compare(since: date, until: date, files: Files) -> Result:
        rows = {}
        for side, (path, name) in files.items():
            try:
                rows[side] = read_file(side, path, name)
            except UnreadableSheet as error:  # named by side, so the form shows it there
                raise InvalidInput(error.message, field=side, code="unreadable_file",
                                   params=error.params, zh=error.message_zh) from error
        snapshot = hub.analytics()
        with snapshot.cursor() as cur:
            return reconcile(cur, since, until, rows)

    return Reconciliations(hub.uow, hub.clock, RunRepository(hub.db), compare)


def summary_json(run: RunSummary) -> dict[str, Any]:
    return {"id": run.id, "since": run.since.isoformat(), "until": run.until.isoformat(),
            "sources": run.sources, "orders": run.orders,
            "discrepant_orders": run.discrepant_orders, "per_mille": str(run.per_mille),
            "target_per_mille": str(TARGET_PER_MILLE),
            "industry_per_mille": str(INDUSTRY_PER_MILLE), "counts": run.counts,
            "files": run.files, "findings": run.findings, "created_by": run.created_by,
            "created_at": run.created_at.isoformat()}


def item_json(item: StoredDiscrepancy) -> dict[str, Any]:
    d, kind = item.item, KINDS[item.item.kind]
    return {"n": item.n, "class": d.kind, "name_zh": kind.zh, "name_en": kind.en,
            "order_id": d.order_id, "order_ref": d.order_ref, "sku": d.sku,
            "expected": d.expected, "actual": d.actual, "source": d.source,
            "fix_zh": kind.fix_zh, "fix_en": kind.fix_en, "auto_fix": kind.auto_fix,
            "status": item.status, "action": item.action, "changed_by": item.changed_by,
            "changed_at": item.changed_at.isoformat() if item.changed_at else None}


def run_json(run: RunSummary, items: list[StoredDiscrepancy]) -> dict[str, Any]:
    return {**summary_json(run), "items": [item_json(i) for i in items]}
