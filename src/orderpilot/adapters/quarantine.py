"""Malformed payloads are kept with the reason, never dropped."""

from __future__ import annotations

from typing import Any

from orderpilot.adapters import tables as t


def keep_in_quarantine(hub: Any, source: str, endpoint: str, reason: str, field: str | None,
                       payload: str) -> None:
    with hub.db.write() as conn:
        conn.execute(t.quarantine.insert(), {
            "received_at": hub.clock(), "source": source, "endpoint": endpoint,
            "reason": reason[:1000], "field": (field or "")[:200] or None,
            "payload": payload[:1_000_000].replace("\x00", "\\u0000")})
    hub.metrics.quarantined.labels(endpoint).inc()
