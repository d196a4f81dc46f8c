"""The walkthrough audit (S12a), orchestrated: sample orders, follow each through its nodes,
ask every connected system for its current view (live where a look-up is configured, else its
last reports), compare, store the run and write its files.

The ports below are what this needs of the outside; ``bootstrap.py`` (``Hub.walkthrough``)
wires the adapters: the history from the database (adapters/walkthrough.py), live look-ups
through the integrations (adapters/walkthrough_live.py), the stored runs
(adapters/audit_runs.py) and the HTML/JSON/Excel files (adapters/audit_files.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import structlog

from orderpilot.domain import walkthrough
from orderpilot.domain.errors import NotFound, OrderpilotError
from orderpilot.domain.walkthrough import HubOrder, NodeReport, Params, SystemView
from orderpilot.domain.walkthrough_reports import (
    Report,
    missing_reports,
    node_reports,
    report_views,
)

log = structlog.get_logger("orderpilot.walkthrough")
KIND = "walkthrough"


class History(Protocol):
    """The hub's own record of orders and every report on them."""

    def order_ids(self, since: datetime | None, until: datetime | None) -> list[str]: ...
    def order(self, order_id: str) -> HubOrder | None: ...
    def reports(self, order_id: str) -> list[Report]: ...
    def stored_views(self, order: HubOrder) -> list[SystemView]: ...


class LiveLookup(Protocol):
    """One connected system asked for its current view of an order. ``system`` is the view
    it replaces (``erp``, ``erp_receivable``, ``storefront``, ``carrier``...); None: this
    look-up cannot say for that order (its shop has no account, no waybill...). PASSED: the
    lifecycle nodes the hub recorded for the order."""

    system: str

    def look_up(self, order: HubOrder, passed: frozenset[str]) -> SystemView | None: ...


@dataclass(frozen=True)
class AuditRun:
    id: str
    kind: str
    seed: int
    sample_size: int
    orders: int
    since: datetime | None
    until: datetime | None
    summary: dict[str, Any]
    result: dict[str, Any]
    run_by: str
    run_at: datetime
    paths: dict[str, str] = field(default_factory=dict)


class AuditRuns(Protocol):
    def add(self, run: AuditRun) -> None: ...
    def get(self, run_id: str) -> AuditRun | None: ...
    def recent(self, kind: str, limit: int) -> list[AuditRun]: ...


class AuditFiles(Protocol):
    def write(self, run: AuditRun, directory: Path) -> dict[str, str]: ...


@dataclass
class Walkthrough:
    history: History
    runs: AuditRuns
    files: AuditFiles
    clock: Callable[[], datetime]
    lookups: Sequence[LiveLookup] = ()
    lag_target_seconds: float = walkthrough.DEFAULT_LAG_TARGET_SECONDS
    files_root: Path | None = None  # <data_dir>/audits: the default place of a run's files

    def run(self, params: Params, run_by: str, out_dir: Path | None, *,
            pii: bool) -> AuditRun:
        """Walk the sample, store the run, write its files into OUT_DIR (default:
        ``<files_root>/<time>-<run>/``; masked unless PII: the runner may read personal
        data)."""
        ids = walkthrough.sample_ids(self.history.order_ids(params.since, params.until),
                                     params.sample, params.seed)
        notes: list[dict[str, str]] = []
        read: list[tuple[HubOrder, list[NodeReport], list[SystemView]]] = []
        for order_id in ids:
            order = self.history.order(order_id)
            if order is None:  # deleted between listing and reading: said, not skipped
                notes.append({"order_id": order_id, "en": "the order is gone",
                              "zh": "订单已不存在"})
                continue
            reports = self.history.reports(order_id)
            nodes = node_reports(reports)
            passed = frozenset(n.node for n in nodes)
            views = {v.system: v for v in report_views(reports)}
            views.update({v.system: v for v in self.history.stored_views(order)})
            for lookup in self.lookups:
                try:
                    live = lookup.look_up(order, passed)
                except OrderpilotError as error:
                    notes.append({"order_id": order_id, "system": lookup.system,
                                  "en": f"live look-up failed, its last reports used: "
                                        f"{error.message}",
                                  "zh": f"实时查询失败，改用最近的上报：{error.message_zh}"})
                    log.warning("walkthrough_lookup_failed", system=lookup.system,
                                order_id=order_id, error=error.message)
                    continue
                if live is not None:
                    views[live.system] = live
            read.append((order, nodes, list(views.values())))
        # The systems this company has: those that reported on the sampled orders or are
        # asked live. Only they can have missed a report (no ERP connected: nothing is due).
        connected = {n.system for _, nodes, _ in read for n in nodes} | {
            v.system for _, _, views in read for v in views}
        walks = [walkthrough.walk(order, nodes, views, self.lag_target_seconds,
                                  missing_reports(order, nodes, views, connected))
                 for order, nodes, views in read]
        result = walkthrough.document(walks, self.lag_target_seconds)
        result["notes"] = notes
        result["live_systems"] = sorted({lk.system for lk in self.lookups})
        result["params"] = {"sample": params.sample, "seed": params.seed,
                            "since": params.since.isoformat() if params.since else None,
                            "until": params.until.isoformat() if params.until else None}
        now = self.clock()
        run = AuditRun(str(uuid.uuid4()), KIND, params.seed, params.sample, len(walks),
                       params.since, params.until, result["summary"], result, run_by, now)
        shown = run if pii else masked(run)
        if out_dir is None and self.files_root is not None:
            out_dir = self.files_root / f"{now:%Y%m%dT%H%M%SZ}-{run.id[:8]}"
        paths = self.files.write(shown, out_dir) if out_dir is not None else {}
        run = AuditRun(**{**run.__dict__, "paths": paths})
        self.runs.add(run)
        log.debug("walkthrough_done", run_id=run.id, orders=len(walks),
                 consistent=result["summary"]["consistent"])
        return run

    def get(self, run_id: str, *, pii: bool) -> AuditRun:
        run = self.runs.get(run_id)
        if run is None or run.kind != KIND:
            raise NotFound(f"no walkthrough {run_id}", field="run_id",
                           zh=f"没有编号为 {run_id} 的穿行测试")
        return run if pii else masked(run)

    def recent(self, limit: int = 50) -> list[AuditRun]:
        return self.runs.recent(KIND, limit)


def masked(run: AuditRun) -> AuditRun:
    return AuditRun(**{**run.__dict__, "result": walkthrough.masked(run.result)})


def as_dict(run: AuditRun, *, with_result: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": run.id, "kind": run.kind, "seed": run.seed, "sample": run.sample_size,
        "orders": run.orders, "since": run.since.isoformat() if run.since else None,
        "until": run.until.isoformat() if run.until else None, "summary": run.summary,
        "run_by": run.run_by, "run_at": run.run_at.isoformat(), "paths": run.paths}
    if with_result:
        out["result"] = run.result
    return out


__all__ = ["KIND", "AuditFiles", "AuditRun", "AuditRuns", "History", "LiveLookup",
           "Walkthrough", "as_dict", "masked"]
