"""The ingest path's inserts on the driver cursor store exactly what SQLAlchemy Core stores,
and fail the way Core fails (so the unit of work still retries a unique-key race)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.driver_insert import DriverInsert
from orderpilot.bootstrap import Hub


def event_row(event_id: str, **extra: Any) -> dict[str, Any]:
    shanghai = timezone(timedelta(hours=8))
    return {"id": event_id, "order_id": None, "type": "stock.low", "source": "wms",
            "system": "wms", "source_event_id": f"ref-{event_id}",
            "occurred_at": datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=shanghai),
            "recorded_at": datetime(2026, 11, 26, 2, 0, tzinfo=UTC), "causation_id": None,
            "correlation_id": "c-1", "payload": {"sku": "MILK-900", "名": "奶粉", "n": 1.5},
            **extra}


def stored(hub: Hub, event_id: str) -> tuple[Any, ...]:
    with hub.db.read() as conn:
        compared = [c for c in t.events.c if c.name not in ("seq", "id", "source_event_id")]
        row = conn.execute(sa.select(*compared).where(t.events.c.id == event_id)).one()
        return tuple(row)


def test_rows_read_back_as_cores_do(hub: Hub) -> None:
    with hub.db.write() as conn:
        conn.execute(t.events.insert(), event_row("core"))
        DriverInsert(t.events).run(conn, [event_row("driver")])
        DriverInsert(t.outbox).run(conn, [{"event_id": f"e{i}", "available_at": datetime(
            2026, 11, 26, tzinfo=UTC)} for i in range(3)])
    assert stored(hub, "driver") == stored(hub, "core")
    if hub.db.is_sqlite:  # the very same text in the file, so ranges and sorting agree
        with hub.db.read() as conn:
            texts = conn.exec_driver_sql(
                "SELECT occurred_at, recorded_at, payload FROM events ORDER BY seq").all()
        assert texts[0] == texts[1]
    with hub.db.read() as conn:
        outbox = conn.execute(sa.select(t.outbox.c.status, t.outbox.c.attempts)).all()
    assert [tuple(r) for r in outbox] == [("pending", 0)] * 3  # the server defaults


def test_a_duplicate_fails_as_an_integrity_error(hub: Hub) -> None:
    with pytest.raises(sa.exc.IntegrityError), hub.db.write() as conn:
        DriverInsert(t.events).run(conn, [event_row("twice")])
        DriverInsert(t.events).run(conn, [event_row("twice", source_event_id="other")])
    with hub.db.read() as conn:  # the transaction was rolled back as a whole
        assert conn.execute(sa.select(sa.func.count()).select_from(t.events)).scalar() == 0
