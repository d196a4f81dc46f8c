"""The exception workbench's rows (domain/exceptions.py) in the caller's transaction. The read
side (queue, groups, paging) is adapters/views/exceptions.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.domain.exceptions import (
    ACTIVE,
    CHANNEL_JOB,
    CommentRecord,
    ExceptionRecord,
    HistoryRecord,
)
from orderpilot.services.exceptions.sweep import FailingSource

SHORT = 300  # characters of an error kept in an exception's detail


def _last_line(error: str | None) -> str:
    """A traceback's last line says what failed (``RuntimeError: CRM is down``)."""
    lines = (error or "").strip().splitlines()
    return lines[-1][:SHORT] if lines else ""


def exception_from_row(row: Any) -> ExceptionRecord:
    return ExceptionRecord(*(row._mapping[c.name] for c in t.exceptions.columns))


class ExceptionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, record: ExceptionRecord) -> bool:
        if self.by_subject(record.kind, record.subject_ref) is not None:
            return False
        # Two writers racing on one subject: the unique key refuses the second, whose unit of
        # work is retried and then finds the row.
        self.conn.execute(t.exceptions.insert().values(**record._asdict()))
        return True

    def get(self, exception_id: str, *, for_update: bool = False) -> ExceptionRecord | None:
        query = sa.select(t.exceptions).where(t.exceptions.c.id == exception_id)
        if for_update:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return None if row is None else exception_from_row(row)

    def by_subject(self, kind: str, subject_ref: str) -> ExceptionRecord | None:
        e = t.exceptions
        row = self.conn.execute(sa.select(e).where(e.c.kind == kind,
                                                   e.c.subject_ref == subject_ref)).first()
        return None if row is None else exception_from_row(row)

    def get_many(self, ids: Sequence[str]) -> list[ExceptionRecord]:
        if not ids:
            return []
        rows = self.conn.execute(sa.select(t.exceptions).where(t.exceptions.c.id.in_(ids))
                                 .order_by(t.exceptions.c.opened_at, t.exceptions.c.id))
        return [exception_from_row(r) for r in rows]

    def update(self, exception_id: str, **values: Any) -> None:
        self.conn.execute(t.exceptions.update().where(t.exceptions.c.id == exception_id)
                          .values(**values))

    def comment(self, comment: CommentRecord) -> int:
        values = comment._asdict()
        values.pop("seq")
        result = self.conn.execute(t.exception_comments.insert().values(**values)
                                   .returning(t.exception_comments.c.seq))
        return int(result.scalar_one())

    def log(self, entry: HistoryRecord) -> None:
        values = entry._asdict()
        values.pop("seq")
        self.conn.execute(t.exception_history.insert().values(**values))

    def comments(self, exception_id: str) -> list[CommentRecord]:
        c = t.exception_comments
        return [CommentRecord(*r) for r in self.conn.execute(
            sa.select(c).where(c.c.exception_id == exception_id).order_by(c.c.seq))]

    def history(self, exception_id: str) -> list[HistoryRecord]:
        h = t.exception_history
        return [HistoryRecord(*r) for r in self.conn.execute(
            sa.select(h).where(h.c.exception_id == exception_id).order_by(h.c.seq))]

    def rule_run_statuses(self, event_id: str) -> list[str]:
        r = t.rule_runs
        return [row.status for row in self.conn.execute(
            sa.select(r.c.status).where(r.c.event_id == event_id, r.c.trigger_kind == "event"))]

    def active_of_kinds(self, kinds: Sequence[str]) -> list[ExceptionRecord]:
        e = t.exceptions
        rows = self.conn.execute(sa.select(e).where(e.c.kind.in_(kinds),
                                                    e.c.status.in_(ACTIVE)))
        return [exception_from_row(r) for r in rows]

    def active_of_order(self, order_id: str) -> list[ExceptionRecord]:
        e = t.exceptions
        rows = self.conn.execute(sa.select(e).where(e.c.order_id == order_id,
                                                    e.c.status.in_(ACTIVE)))
        return [exception_from_row(r) for r in rows]

    def failing_sources(self) -> list[FailingSource]:
        """Dead letters, quarantined payloads still held, outbound orders, channel jobs and
        ERP bookings that gave up."""
        ob, ev, q, cq = t.outbox, t.events, t.quarantine, t.channel_quarantine
        wms, erp = t.wms_outbound, t.erp_bookings
        found = [FailingSource("dead_letter", r.event_id, r.order_id, r.recorded_at,
                               {"event_type": r.type, "error": _last_line(r.last_error)})
                 for r in self.conn.execute(
                     sa.select(ob.c.event_id, ob.c.last_error, ev.c.order_id, ev.c.type,
                               ev.c.recorded_at).join(ev, ev.c.id == ob.c.event_id)
                     .where(ob.c.status == "dead"))]
        found += [FailingSource("quarantined_payload", f"api:{r.seq}", None, r.received_at,
                                {"source": r.source, "endpoint": r.endpoint,
                                 "error": r.reason[:SHORT]})
                  for r in self.conn.execute(sa.select(q.c.seq, q.c.source, q.c.endpoint,
                                                       q.c.reason, q.c.received_at))]
        found += [FailingSource("quarantined_payload", f"channel:{r.seq}", None, r.received_at,
                                {"source": r.platform, "account": r.account,
                                 "external_id": r.external_id, "error": r.reason[:SHORT]})
                  for r in self.conn.execute(
                      sa.select(cq.c.seq, cq.c.platform, cq.c.account, cq.c.external_id,
                                cq.c.reason, cq.c.received_at).where(cq.c.status == "held"))]
        found += [FailingSource("wms_outbound_failed", f"wms:{r.order_id}", r.order_id,
                                r.due_at, {"error": (r.last_error or "")[:SHORT]})
                  for r in self.conn.execute(
                      sa.select(wms.c.order_id, wms.c.due_at, wms.c.last_error)
                      .where(wms.c.status == "failed"))]
        jobs, orders = t.channel_jobs, t.channel_orders
        found += [FailingSource("channel_job_failed", f"{CHANNEL_JOB}{r.seq}", r.order_id,
                                r.done_at or r.created_at,
                                {"source": r.account, "external_id": r.external_id,
                                 "origin": r.origin, "error": (r.last_error or "")[:SHORT]})
                  for r in self.conn.execute(
                      sa.select(jobs.c.seq, jobs.c.account, jobs.c.external_id, jobs.c.origin,
                                jobs.c.last_error, jobs.c.done_at, jobs.c.created_at,
                                orders.c.order_id)
                      .outerjoin(orders, sa.and_(orders.c.account == jobs.c.account,
                                                 orders.c.external_id == jobs.c.external_id))
                      .where(jobs.c.status == "dead"))]
        found += [FailingSource("erp_booking_failed", f"erp:{r.order_id}", r.order_id,
                                r.updated_at, {"error": (r.last_error or "")[:SHORT]})
                  for r in self.conn.execute(
                      sa.select(erp.c.order_id, erp.c.updated_at, erp.c.last_error)
                      .where(erp.c.status == "stopped"))]
        return found

    def holds_without_exception(self) -> list[FailingSource]:
        h, e = t.holds, t.exceptions
        rows = self.conn.execute(
            sa.select(h.c.id, h.c.order_id, h.c.reason, h.c.note, h.c.placed_by, h.c.placed_at)
            .outerjoin(e, e.c.subject_ref == h.c.id)
            .where(h.c.released_at.is_(None), e.c.id.is_(None)))
        return [FailingSource(r.reason, r.id, r.order_id, r.placed_at,
                              {"hold_reason": r.reason, "note": r.note,
                               "placed_by": r.placed_by}) for r in rows]
