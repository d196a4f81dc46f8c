"""Refused system reports on SQLAlchemy Core: kept (once per source event, counted), pruned,
listed and summed up per system (domain/refused_reports.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import insert_ignore
from orderpilot.domain.refused_reports import RefusedReport
from orderpilot.domain.times import SHANGHAI

rr = t.refused_reports
TOP_EVENT_TYPES = 3


class RefusedReportLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def keep(self, report: RefusedReport) -> bool:
        """Keep a refusal; True when it is new. The same (source, source_event_id) again only
        counts one more time and moves ``last_seen_at``."""
        row = {**asdict(report), "last_seen_at": report.received_at, "times": 1}
        if report.source_event_id is None:
            self.conn.execute(rr.insert().values(row))
            return True
        if insert_ignore(self.conn, rr, row):
            return True
        self.conn.execute(rr.update().where(rr.c.source == report.source,
                                            rr.c.source_event_id == report.source_event_id)
                          .values(times=rr.c.times + 1, last_seen_at=report.received_at))
        return False

    def prune(self, before: datetime, limit: int = 1000) -> int:
        """Forget refusals last seen before ``before`` (at most ``limit`` per call)."""
        old = (sa.select(rr.c.seq).where(rr.c.last_seen_at < before)
               .order_by(rr.c.seq).limit(limit))
        return int(self.conn.execute(rr.delete().where(
            rr.c.seq.in_(old.scalar_subquery()))).rowcount or 0)


def _shown(r: Any) -> dict[str, Any]:
    return {"id": int(r.seq), "received_at": r.received_at.isoformat(),
            "last_seen_at": r.last_seen_at.isoformat(), "times": int(r.times),
            "source": r.source, "system": r.system, "order_id": r.order_id,
            "event_type": r.event_type, "source_event_id": r.source_event_id,
            "from_status": r.from_status, "reason": r.reason, "detail": r.detail,
            "detail_zh": r.detail_zh,
            "payload": r.payload}


def listing(conn: Connection, *, system: str | None = None, source: str | None = None,
            reason: str | None = None, order_id: str | None = None,
            since: datetime | None = None, until: datetime | None = None,
            before_seq: int | None = None, limit: int = 50) -> tuple[list[dict[str, Any]],
                                                                     int | None]:
    """Newest first; the second value is the ``before_seq`` of the next page (None: last)."""
    query = sa.select(rr).order_by(rr.c.seq.desc()).limit(limit + 1)
    for column, value in ((rr.c.system, system), (rr.c.source, source),
                          (rr.c.reason, reason), (rr.c.order_id, order_id)):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(rr.c.last_seen_at >= since)
    if until is not None:
        query = query.where(rr.c.received_at < until)
    if before_seq is not None:
        query = query.where(rr.c.seq < before_seq)
    rows = conn.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [_shown(r) for r in rows], (int(rows[-1].seq) if more and rows else None)


def summary(conn: Connection, since: datetime, now: datetime) -> list[dict[str, Any]]:
    """Per system, refusals last seen since ``since``: how many (and how many times sent),
    today's (Asia/Shanghai), the last, by reason, the top event types, per day."""
    rows = conn.execute(sa.select(rr.c.system, rr.c.reason, rr.c.event_type, rr.c.times,
                                  rr.c.last_seen_at)
                        .where(rr.c.last_seen_at >= since)).all()
    today = now.astimezone(SHANGHAI).date()
    systems: dict[str, dict[str, Any]] = {}
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    types: dict[str, Counter[str]] = defaultdict(Counter)
    days: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        s = systems.setdefault(r.system, {"system": r.system, "count": 0, "times": 0,
                                          "today": 0, "last_seen_at": r.last_seen_at})
        day = r.last_seen_at.astimezone(SHANGHAI).date()
        s["count"] += 1
        s["times"] += int(r.times)
        s["today"] += day == today
        s["last_seen_at"] = max(s["last_seen_at"], r.last_seen_at)
        reasons[r.system][r.reason] += 1
        types[r.system][r.event_type] += 1
        days[r.system][day.isoformat()] += 1
    return [{**s, "last_seen_at": s["last_seen_at"].isoformat(),
             "reasons": dict(reasons[name].most_common()),
             "top_event_types": [{"event_type": e, "count": n}
                                 for e, n in types[name].most_common(TOP_EVENT_TYPES)],
             "per_day": dict(sorted(days[name].items()))}
            for name, s in sorted(systems.items(), key=lambda kv: (-kv[1]["count"], kv[0]))]
