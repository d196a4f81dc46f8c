"""The exception workbench's rows (domain/exceptions.py) in the caller's transaction. The read
side (queue, groups, paging) is adapters/views/exceptions.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.domain.exceptions import CommentRecord, ExceptionRecord, HistoryRecord


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
