"""Running a reconciliation, keeping it, and putting its discrepancies right.

A run compares the sides for a period (the comparison is injected: duckdb over the snapshot,
adapters/analytics/reconcile.py), stores the run and every discrepancy, then applies the safe
fixes an administrator enabled per class. Today one class has a safe fix: ``missing_in_erp``
re-pushes the order to the ERP by queueing its booking again (services/back_office/booking.py
books it exactly once, looking the bill up before any resend).

Resolving a discrepancy (``fix`` or ``accept``) is an audited action: the discrepancy keeps who,
when and what; the order gets a ``reconciliation.fixed`` / ``reconciliation.accepted`` event
(source ``hub``, source_event_id ``reconciliation:<run>:<n>``, so it is recorded once). It is
idempotent: a discrepancy no longer open is answered as it stands, nothing is done again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol
from uuid import uuid4

from orderpilot.domain.commands import ReportEvent
from orderpilot.domain.errors import Conflict, InvalidInput, NotFound
from orderpilot.domain.reconciliation import (
    KINDS,
    SIDES,
    Result,
    RunSummary,
    StoredDiscrepancy,
    period,
)
from orderpilot.services import audit_trail, ordering
from orderpilot.services.unit_of_work import Clock, UowFactory

AUTO_FIX_KEY = "reconciliation.auto_fix"  # kept with the ERP settings: {"classes": [...]}
ACTIONS = ("fix", "accept")
# What was done, as a code people read in their language (console/i18n, docs):
DONE = ("erp_booking_queued", "erp_booking_requeued", "fixed_by_hand", "accepted")
AUTO = "auto:"  # changed_by of an automatic fix: auto:<who ran the reconciliation>
Files = Mapping[str, tuple[Path, str]]  # side -> (path, the name people gave the file)
Compare = Callable[[date, date, Files], Result]


class RunStore(Protocol):
    def save(self, run_id: str, result: Result, by: str, now: datetime) -> RunSummary: ...
    def runs(self, limit: int) -> list[RunSummary]: ...
    def run(self, run_id: str) -> RunSummary | None: ...
    def discrepancies(self, run_id: str, kind: str | None = None,
                      limit: int = 10_000) -> list[StoredDiscrepancy]: ...
    def discrepancy(self, run_id: str, n: int) -> StoredDiscrepancy | None: ...
    def change(self, run_id: str, n: int, status: str, action: str, by: str,
               now: datetime) -> bool: ...


@dataclass
class Reconciliations:
    uow_factory: UowFactory
    clock: Clock
    store: RunStore
    compare: Compare
    new_id: Callable[[], str] = field(default=lambda: str(uuid4()))

    def run(self, since: object, until: object, files: Files, by: str) -> RunSummary:
        first, last = period(since, until)
        for side in files:
            if side not in SIDES:
                raise InvalidInput(f"unknown side {side!r}: storefront, erp or wms",
                                   field="files",
                                   zh=f"未知的数据方 {side!r}：应为 storefront、erp 或 wms")
        result = self.compare(first, last, files)
        summary = self.store.save(self.new_id(), result, by, self.clock())
        enabled = set(self.auto_fix_classes())
        if enabled:
            for item in self.store.discrepancies(summary.id):
                if item.item.kind in enabled:
                    try:
                        self.resolve(summary.id, item.n, "fix", f"{AUTO}{by}")
                    except (Conflict, NotFound):
                        continue  # left open for a person, with the reason on the button
        return summary

    def get(self, run_id: str) -> RunSummary:
        found = self.store.run(run_id)
        if found is None:
            raise NotFound(f"no reconciliation run {run_id}", field="run_id",
                           zh=f"对账记录 {run_id} 不存在")
        return found

    def items(self, run_id: str, kind: str | None = None) -> list[StoredDiscrepancy]:
        if kind is not None and kind not in KINDS:
            raise InvalidInput(f"unknown class {kind!r}", field="class",
                               zh=f"未知的差异类别 {kind!r}")
        self.get(run_id)
        return self.store.discrepancies(run_id, kind)

    # --- auto-fix, per class ---

    def auto_fix_classes(self) -> list[str]:
        with self.uow_factory() as uow:
            stored = uow.back_office.setting(AUTO_FIX_KEY) or {}
        classes = stored.get("classes")
        return [c for c in classes if c in KINDS] if isinstance(classes, list) else []

    def set_auto_fix(self, classes: Sequence[object], by: str) -> list[str]:
        chosen: list[str] = []
        for code in classes:
            kind = KINDS.get(str(code))
            if kind is None or not kind.auto_fix:
                safe = ", ".join(k.code for k in KINDS.values() if k.auto_fix)
                raise InvalidInput(f"{code!r} has no safe automatic fix (only: {safe})",
                                   field="classes",
                                   zh=f"{code!r} 没有安全的自动修复（只有：{safe}）")
            if kind.code not in chosen:
                chosen.append(kind.code)
        with self.uow_factory() as uow:
            before = uow.back_office.setting(AUTO_FIX_KEY) or {}
            uow.back_office.put_setting(AUTO_FIX_KEY, {"classes": list(chosen)}, self.clock(), by)
            audit_trail.record(uow, self.clock, "reconciliation.auto_fix",
                               subject_type="reconciliation_setting", subject_id=AUTO_FIX_KEY,
                               before={"classes": before.get("classes", [])},
                               after={"classes": list(chosen)})
        return chosen

    # --- one discrepancy ---

    def resolve(self, run_id: str, n: int, action: str, by: str) -> StoredDiscrepancy:
        if action not in ACTIONS:
            raise InvalidInput(f"action must be fix or accept, not {action!r}", field="action",
                               zh=f"action 应为 fix 或 accept，而不是 {action!r}")
        item = self.store.discrepancy(run_id, n)
        if item is None:
            raise NotFound(f"run {run_id} has no discrepancy {n}", field="n",
                           zh=f"对账记录 {run_id} 没有第 {n} 项差异")
        if item.status != "open":
            return item
        if action == "accept":
            done, status = "accepted", "accepted"
        elif KINDS[item.item.kind].auto_fix and item.item.order_id:
            done, status = self._push_to_erp_again(item.item.order_id), "fixed"
        else:
            done, status = "fixed_by_hand", "fixed"
        if item.item.order_id:
            ordering.report_event(ReportEvent(
                item.item.order_id, f"reconciliation.{status}", "hub", self.clock(),
                source_event_id=f"reconciliation:{run_id}:{n}",
                data={"run_id": run_id, "n": n, "class": item.item.kind, "action": done,
                      "by": by}), self.uow_factory, self.clock)
        self.store.change(run_id, n, status, done, by, self.clock())
        with self.uow_factory() as uow:  # the run store writes in a transaction of its own
            audit_trail.record(uow, self.clock, f"reconciliation.{action}",
                               subject_type="discrepancy", subject_id=f"{run_id}:{n}",
                               order_id=item.item.order_id or None,
                               before={"status": "open"},
                               after={"status": status, "action": done},
                               detail={"class": item.item.kind})
        changed = self.store.discrepancy(run_id, n)
        assert changed is not None
        return changed

    def _push_to_erp_again(self, order_id: str) -> str:
        with self.uow_factory() as uow:
            order = uow.orders.get(order_id)
            if order is None:
                raise NotFound(f"no order with id {order_id}", field="order_id",
                               zh=f"订单 {order_id} 不存在")
            now = self.clock()
            if uow.back_office.requeue(order.id, now):
                return "erp_booking_requeued"  # it had stopped
            taken = uow.back_office.bill_taken_by(order.external_id)
            if taken is None:
                uow.back_office.queue(order.id, order.external_id, now)
                return "erp_booking_queued"
        if taken == order_id:
            raise Conflict("the order's ERP booking is already queued or booked: see "
                           "GET /api/v1/erp/bookings, or accept the discrepancy",
                           field="n", zh="该订单的 ERP 入账已在排队或已入账：请查看 ERP 入账列表，"
                                         "或接受此差异")
        raise Conflict(f"bill number {order.external_id} is used by order {taken}",
                       field="n", zh=f"单据编号 {order.external_id} 已被订单 {taken} 使用")
