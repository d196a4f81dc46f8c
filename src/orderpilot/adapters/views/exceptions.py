"""The exception queue's read side: a page of exceptions (filters, keyset cursor, oldest first),
the total, and the groups by reason with open, overdue and decision-required counts (sorted
overdue first, then by count, so five overdue qualification checks are not buried under 170
rows of one SKU's stock shortage)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from orderpilot.adapters import tables as t
from orderpilot.adapters.exceptions import exception_from_row
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.exception_filters import ExceptionFilter
from orderpilot.domain.exceptions import ACTIVE

PAGE = 50
MAX_PAGE = 200


def _bad_cursor() -> InvalidInput:
    return InvalidInput("cursor is not one this API returned", field="cursor",
                        zh="cursor 不是本 API 返回的游标")


def encode_cursor(opened_at: datetime, exception_id: str) -> str:
    raw = f"{opened_at.isoformat()}|{exception_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(cursor: str) -> ColumnElement[bool]:
    e = t.exceptions
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, exception_id = raw.split("|", 1)
        at = datetime.fromisoformat(at_text)
    except (ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if at.tzinfo is None:
        raise _bad_cursor()
    return sa.or_(e.c.opened_at > at, sa.and_(e.c.opened_at == at, e.c.id > exception_id))


def _where(f: ExceptionFilter, now: datetime, me: str) -> list[ColumnElement[bool]]:
    e, o = t.exceptions, t.orders
    where: list[ColumnElement[bool]] = []
    if f.status == "active":
        where.append(e.c.status.in_(ACTIVE))
    elif f.status != "all":
        where.append(e.c.status == f.status)
    for column, value in ((e.c.kind, f.kind), (e.c.reason, f.reason),
                          (e.c.owner_role, f.owner), (e.c.assignee, f.assignee),
                          (e.c.order_id, f.order_id)):
        if value:
            where.append(column == value)
    if f.mine:
        where.append(e.c.assignee == me)
    if f.overdue:
        where.extend([e.c.status.in_(ACTIVE), e.c.due_at < now])
    if f.q:
        where.append(sa.or_(e.c.order_id == f.q, e.c.subject_ref == f.q,
                            e.c.order_id.in_(sa.select(o.c.id).where(o.c.external_id == f.q))))
    return where


def queue(conn: Connection, f: ExceptionFilter, now: datetime, *, me: str = "",
          cursor: str | None = None, limit: int = PAGE) -> tuple[list[dict[str, Any]],
                                                                 str | None]:
    """A page of exceptions, oldest first, with their order's number and channel."""
    e, o = t.exceptions, t.orders
    where = _where(f, now, me)
    if cursor:
        where.append(_after(cursor))
    rows = conn.execute(
        sa.select(e, o.c.external_id, o.c.channel, o.c.status.label("order_status"))
        .outerjoin(o, o.c.id == e.c.order_id).where(*where)
        .order_by(e.c.opened_at, e.c.id).limit(limit + 1)).all()
    page = [_item(row, now) for row in rows[:limit]]
    more = len(rows) > limit
    last = rows[limit - 1] if more else None
    return page, (encode_cursor(last.opened_at, last.id) if last is not None else None)


def _item(row: Any, now: datetime) -> dict[str, Any]:
    record = exception_from_row(row)
    item = record._asdict()
    item.update(external_id=row.external_id, channel=row.channel,
                order_status=row.order_status, overdue=record.overdue(now),
                age_seconds=int(((record.resolved_at or now) - record.opened_at)
                                .total_seconds()))
    return item


def count(conn: Connection, f: ExceptionFilter, now: datetime, *, me: str = "") -> int:
    e = t.exceptions
    return int(conn.execute(sa.select(sa.func.count()).select_from(e)
                            .where(*_where(f, now, me))).scalar_one())


def groups(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Active exceptions by (kind, reason): count, overdue, decision required; overdue first."""
    e = t.exceptions
    overdue = sa.func.sum(sa.case((e.c.due_at < now, 1), else_=0))
    deciding = sa.func.sum(sa.case((e.c.status == "decision_required", 1), else_=0))
    rows = conn.execute(
        sa.select(e.c.kind, e.c.reason, sa.func.count().label("n"), overdue.label("overdue"),
                  deciding.label("deciding"), sa.func.min(e.c.opened_at).label("oldest"))
        .where(e.c.status.in_(ACTIVE)).group_by(e.c.kind, e.c.reason))
    out = [{"kind": r.kind, "reason": r.reason, "count": int(r.n),
            "overdue": int(r.overdue or 0), "decision_required": int(r.deciding or 0),
            "oldest_opened_at": r.oldest} for r in rows]
    return sorted(out, key=lambda g: (-g["overdue"], -g["count"], g["reason"]))
