"""Searching the audit trail (domain/audit.py), newest first, a page at a time; the API, the
console page 操作审计 and the Excel export read it here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.views.orders import iso
from orderpilot.domain.masking import mask_document

MAX_LIMIT = 500


@dataclass(frozen=True)
class AuditSearch:
    """What to look for; every field optional. ``cursor`` is the seq of the last entry of the
    previous page (entries come newest first)."""

    actor: str = ""
    action: str = ""
    order_id: str = ""
    subject_type: str = ""
    via: str = ""
    since: datetime | None = None
    until: datetime | None = None
    q: str = ""
    cursor: int | None = None
    limit: int = 50


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(search: AuditSearch) -> list[Any]:
    a = t.audit_log
    where: list[Any] = []
    for column, value in ((a.c.actor, search.actor), (a.c.action, search.action),
                          (a.c.order_id, search.order_id),
                          (a.c.subject_type, search.subject_type), (a.c.via, search.via)):
        if value:
            where.append(column == value)
    if search.since is not None:
        where.append(a.c.at >= search.since)
    if search.until is not None:
        where.append(a.c.at < search.until)
    if search.q:
        pattern = _like(search.q)
        where.append(sa.or_(*(c.like(pattern, escape="\\") for c in (
            a.c.actor, a.c.action, a.c.subject_id, a.c.order_id))))
    if search.cursor is not None:
        where.append(a.c.seq < search.cursor)
    return where


def entry_of(row: Any, masked: bool) -> dict[str, Any]:
    before, after, detail = row.before, row.after, row.detail
    if masked:
        before, after, detail = (mask_document(v) if v is not None else None
                                 for v in (before, after, detail))
    return {"seq": int(row.seq), "at": iso(row.at), "actor": row.actor,
            "actor_id": row.actor_id, "role": row.role, "actor_kind": row.actor_kind,
            "via": row.via, "action": row.action, "subject_type": row.subject_type,
            "subject_id": row.subject_id, "order_id": row.order_id, "before": before,
            "after": after, "detail": detail}


def search(conn: Connection, search: AuditSearch, *, masked: bool) -> dict[str, Any]:
    """``{"items": [...], "next_cursor": seq or None}``; before/after masked for readers
    without pii.read when MASKED."""
    a = t.audit_log
    limit = max(1, search.limit)  # the API caps a page at MAX_LIMIT; an export takes more
    rows = list(conn.execute(sa.select(a).where(*_where(search))
                             .order_by(a.c.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [entry_of(r, masked) for r in rows],
            "next_cursor": int(rows[-1].seq) if more and rows else None}


def choices(conn: Connection) -> dict[str, list[str]]:
    """The actions and subject types the trail holds, for the console's filters."""
    a = t.audit_log
    return {"actions": [r[0] for r in conn.execute(
                sa.select(a.c.action).distinct().order_by(a.c.action))],
            "subject_types": [r[0] for r in conn.execute(
                sa.select(a.c.subject_type).distinct().order_by(a.c.subject_type))]}
