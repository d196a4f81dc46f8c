"""Malformed payloads are kept with the reason, never dropped."""

from __future__ import annotations

from typing import Any

from orderpilot.adapters import tables as t


def keep_in_quarantine(hub: Any, source: str, endpoint: str, reason: str, field: str | None,
                       payload: str) -> None:
    def clean(text: str, limit: int) -> str:
        # PostgreSQL text cannot hold NUL; a rejected payload is exactly where one turns up.
        return text.replace("\x00", "\\u0000")[:limit]

    with hub.db.write() as conn:
        conn.execute(t.quarantine.insert(), {
            "received_at": hub.clock(), "source": clean(source, 64),
            "endpoint": clean(endpoint, 200), "reason": clean(reason, 1000),
            "field": clean(field, 200) if field else None,
            "payload": clean(payload, 1_000_000)})
    hub.metrics.quarantined.labels(endpoint).inc()
