"""The exception queue as the API and the console show it: one page with the filter applied,
the groups, one exception with its comments and history (shared by both entrypoints)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from orderpilot.adapters.views import exceptions as queue_views
from orderpilot.bootstrap import Hub
from orderpilot.domain.exception_filters import ExceptionFilter
from orderpilot.domain.exceptions import CommentRecord, HistoryRecord
from orderpilot.services.exceptions import work


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def shown(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: iso(value) if isinstance(value, datetime) else value
            for key, value in item.items()}


def page(hub: Hub, f: ExceptionFilter, me: str, cursor: str | None,
         limit: int) -> dict[str, Any]:
    now = hub.clock()
    with hub.db.read() as conn:
        items, next_cursor = queue_views.queue(conn, f, now, me=me, cursor=cursor, limit=limit)
        total = queue_views.count(conn, f, now, me=me)
    return {"items": [shown(i) for i in items], "next_cursor": next_cursor, "total": total,
            "filter": f.as_query()}


def groups(hub: Hub) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        return [shown(g) for g in queue_views.groups(conn, hub.clock())]


def comment_shown(c: CommentRecord) -> dict[str, Any]:
    return {"seq": c.seq, "at": iso(c.at), "author": c.author, "text": c.text}


def history_shown(h: HistoryRecord) -> dict[str, Any]:
    return {"seq": h.seq, "at": iso(h.at), "who": h.who, "change": h.change,
            "before": h.before, "after": h.after}


def one(hub: Hub, exception_id: str) -> dict[str, Any]:
    found = work.detail(hub.uow, exception_id)
    now = hub.clock()
    record = found.exception
    return {**shown(record._asdict()), "overdue": record.overdue(now),
            "comments": [comment_shown(c) for c in found.comments],
            "history": [history_shown(h) for h in found.history]}
