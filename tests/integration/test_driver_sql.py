"""The statements sent on the driver cursor (adapters/driver_sql.py) store and find exactly what
SQLAlchemy's execute would, fail as SQLAlchemy's errors, and are counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.driver_sql import DriverInsert, DriverQuery
from orderpilot.bootstrap import Hub

COLUMNS = ("id", "order_id", "type", "source", "system", "source_event_id", "occurred_at",
           "recorded_at", "causation_id", "correlation_id", "payload")
INSERT = DriverInsert(t.events, COLUMNS)
BY_SOURCE = DriverQuery(sa.select(t.events.c.id, t.events.c.type)
                        .where(t.events.c.source == sa.bindparam("source"))
                        .order_by(t.events.c.id).limit(5))


def _event(event_id: str, when: datetime, **extra: object) -> dict[str, object]:
    return {"id": event_id, "order_id": None, "type": "stock.low", "source": "NB",
            "system": "wms", "source_event_id": f"ref-{event_id}", "occurred_at": when,
            "recorded_at": when + timedelta(microseconds=1), "causation_id": None,
            "correlation_id": None, "payload": {"sku": "笔记本", "left": 0, "ok": True}} | extra


def test_a_row_written_on_the_driver_reads_back_as_one_written_by_sqlalchemy(hub: Hub) -> None:
    # A whole second (no microseconds) is where a naive text format would differ.
    when = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    with hub.db.write() as conn:
        INSERT.run(conn, [_event("driver-1", when), _event("driver-2", when)])
        conn.execute(t.events.insert(), _event("sqlalchemy", when))
    with hub.db.read() as conn:
        rows = {r.id: r for r in conn.execute(sa.select(t.events))}
        stored = {r.id: tuple(r) for r in conn.execute(sa.text(
            "SELECT id, occurred_at, recorded_at, payload FROM events"))}
        assert [tuple(r) for r in BY_SOURCE.all(conn, {"source": "NB"})] == [
            ("driver-1", "stock.low"), ("driver-2", "stock.low"), ("sqlalchemy", "stock.low")]
        assert BY_SOURCE.all(conn, {"source": "HZ"}) == []
    assert set(rows) == {"driver-1", "driver-2", "sqlalchemy"}
    for event_id in ("driver-1", "driver-2"):
        row, same = rows[event_id], rows["sqlalchemy"]
        assert (row.occurred_at, row.recorded_at, row.payload, row.system) == \
            (same.occurred_at, same.recorded_at, same.payload, same.system)
        assert row.occurred_at.replace(tzinfo=UTC) == when
        # byte for byte as the database holds them: time text and JSON text alike
        assert stored[event_id][1:] == stored["sqlalchemy"][1:]


def test_a_driver_error_is_sqlalchemys_and_undoes_nothing_else(hub: Hub) -> None:
    when = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    with hub.db.write() as conn:
        INSERT.run(conn, [_event("first", when)])
    with pytest.raises(sa.exc.IntegrityError):  # the unit of work retries this one
        with hub.db.write() as conn:
            conn.execute(t.events.insert(), _event("kept-only-if-committed", when))
            INSERT.run(conn, [_event("first", when, source_event_id="other")])
    with hub.db.read() as conn:
        ids = {r.id for r in conn.execute(sa.select(t.events.c.id))}
    assert ids == {"first"}  # the failed transaction left nothing


def test_statements_on_the_driver_are_counted(hub: Hub) -> None:
    when = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    with hub.db.write() as conn:
        before = hub.db.statements.sent
        INSERT.run(conn, [_event("a", when), _event("b", when)])  # one executemany
        BY_SOURCE.all(conn, {"source": "NB"})
        assert hub.db.statements.sent - before == 2


def test_a_query_on_the_driver_converts_each_column_as_sqlalchemy_does(hub: Hub) -> None:
    when = datetime(2026, 11, 26, 2, 0, 0, 1500, tzinfo=UTC)
    with hub.db.write() as conn:
        INSERT.run(conn, [_event("x", when, order_id=None, causation_id="c-1")])
    every_column = DriverQuery(sa.select(t.events).where(t.events.c.id == sa.bindparam("id")))
    with hub.db.read() as conn:
        found = every_column.first(conn, {"id": "x"})
        same = conn.execute(every_column.statement, {"id": "x"}).one()
        assert every_column.first(conn, {"id": "nope"}) is None
    assert tuple(found) == tuple(same)  # times aware UTC, JSON parsed, NULL as None
    assert found._fields == tuple(same._fields)
    assert (found.occurred_at, found.payload["sku"], found.order_id) == (when, "笔记本", None)


def test_a_column_that_is_not_the_tables_is_refused() -> None:
    with pytest.raises(ValueError, match="no column"):
        DriverInsert(t.events, ("id", "nope"))
