"""Statements on every order's path, or run by a worker at every poll, find their rows through
an index instead of reading a table that grows with every order. Two did not: the stock read
of each allocation read every allocation ever made, and the WMS pusher's claim every outbound
order ever pushed, so an order's processing grew slower with the history
(docs/performance.md, "A stock read that grew with every order").

The plans are SQLite's, which depend only on the schema and the statement (the hub gathers no
statistics there), so they are what a deployment with a year of orders gets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import FakeClock
from orderpilot.adapters import inventory_statements as q
from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.adapters.wms_outbound import _claim_statements
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=None,
                             _env_file=None), clock=FakeClock())  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    yield hub
    hub.close()


def plan(hub: Hub, statement: Any) -> list[str]:
    sql = str(statement.compile(dialect=hub.db.engine.dialect))
    with hub.db.read() as conn:
        return [row[3] for row in conn.connection.dbapi_connection.execute(
            "EXPLAIN QUERY PLAN " + sql, [None] * sql.count("?"))]


def test_the_stock_read_seeks_each_levels_expired_reservations(sqlite_hub: Hub) -> None:
    steps = plan(sqlite_hub, q.stock_of(3).statement)
    on_allocations = [step for step in steps if "allocations" in step]
    assert on_allocations, steps
    assert all(step.startswith("SEARCH allocations USING INDEX ix_allocations_level "
                               "(source=? AND sku=?") for step in on_allocations), steps
    assert not any(step.startswith("SCAN") for step in steps), steps


@pytest.mark.parametrize("table", [t.wms_outbound, t.wms_checks], ids=lambda tb: tb.name)
def test_the_wms_claims_seek_the_due_rows(sqlite_hub: Hub, table: Any) -> None:
    due, _lease = _claim_statements(table)
    steps = plan(sqlite_hub, due)
    assert any(step.startswith(f"SEARCH {table.name} USING INDEX ix_{table.name}_due "
                               "(status=? AND due_at<?)") for step in steps), steps
    assert not any(step.startswith("SCAN") for step in steps), steps
