"""The read side of channels: job counts, quarantine, the platforms' status tables."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.channels.gateway import ChannelGateway
from orderpilot.domain.channel_orders import PLATFORMS


def job_counts(conn: Connection) -> dict[str, dict[str, int]]:
    j = t.channel_jobs.c
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for r in conn.execute(sa.select(j.account, j.status, sa.func.count().label("n"))
                          .group_by(j.account, j.status)):
        found[r.account][r.status] = r.n
    q = t.channel_quarantine.c
    for r in conn.execute(sa.select(q.account, sa.func.count().label("n"))
                          .where(q.status == "held").group_by(q.account)):
        found[r.account]["quarantined"] = r.n
    return dict(found)


def quarantine(conn: Connection, code: str, limit: int = 200) -> list[dict[str, Any]]:
    q = t.channel_quarantine.c
    rows = conn.execute(sa.select(t.channel_quarantine).where(q.account == code)
                        .order_by(q.seq.desc()).limit(limit))
    return [{"seq": r.seq, "platform": r.platform, "external_id": r.external_id or None,
             "field": r.field, "reason": r.reason, "reason_zh": r.reason_zh,
             "received_at": r.received_at.isoformat(), "status": r.status,
             "replayed_at": r.replayed_at.isoformat() if r.replayed_at else None,
             "raw": r.raw[:20_000]} for r in rows]


def platforms(gateway: ChannelGateway) -> list[dict[str, Any]]:
    return [{"platform": name, "title_zh": p.title_zh, "title_en": p.title_en,
             "credentials": list(PLATFORMS.get(name, ())),
             "push_carries_order": p.push_carries_order,
             "statuses": [{"status": s.status, "event_type": s.event_type, "zh": s.zh,
                           "en": s.en} for s in p.statuses]}
            for name, p in sorted(gateway.platforms().items())]
