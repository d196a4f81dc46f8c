"""An order's notes, oldest first (services/order_notes.py writes them as events)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.views.orders import iso

NOTE_ADDED = "order.note_added"


def notes(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    e = t.events
    return [{"id": r.id, "by": r.payload.get("by", ""), "text": r.payload.get("text", ""),
             "at": iso(r.recorded_at)}
            for r in conn.execute(sa.select(e.c.id, e.c.payload, e.c.recorded_at)
                                  .where(e.c.order_id == order_id, e.c.type == NOTE_ADDED)
                                  .order_by(e.c.seq))]
