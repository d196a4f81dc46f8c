"""Reads on every order's path, or run by a worker or a timer again and again, find their rows
through an index instead of reading a table that grows with every order. Four did not: the
stock read of each allocation read every allocation ever made, the WMS pusher's claim every
outbound order ever pushed, the inventory sweep every allocation (twice), and the exception
playbook every rule run, so they grew slower with the history (docs/performance.md, "A stock
read that grew with every order").

Each test runs the repository's own method on SQLite, catches the statements it sent and
checks SQLite's plan of each. The plans depend only on the schema and the statement (the hub
gathers no statistics there), so they are what a deployment with a year of orders gets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import FakeClock
from orderpilot.adapters import migrations
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings

NOW = datetime(2026, 12, 7, 3, 0).astimezone()


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=None,
                             _env_file=None), clock=FakeClock())  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    yield hub
    hub.close()


def plans(hub: Hub, call: Callable[[Any], object], table: str) -> list[list[str]]:
    """SQLite's plan of each statement CALL sends (given a unit of work) that reads TABLE."""
    sent: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, sql: str, params: Any, *_: Any) -> None:
        if f" {table}" in sql and sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
            sent.append((sql, params))

    sa.event.listen(hub.db.engine, "before_cursor_execute", catch)
    try:
        with hub.uow() as uow:
            call(uow)
    finally:
        sa.event.remove(hub.db.engine, "before_cursor_execute", catch)
    assert sent, f"no statement read {table}"
    with hub.db.read() as conn:
        raw = conn.connection.dbapi_connection
        return [[row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params)]
                for sql, params in sent]


def seeks(steps: list[str], table: str, index: str) -> bool:
    """Every step on TABLE seeks through INDEX, and nothing is read whole."""
    on_table = [s for s in steps if s.split(" ")[1:2] == [table]]
    return bool(on_table) and all(s.startswith(f"SEARCH {table} USING INDEX {index} (")
                                  for s in on_table) \
        and not any(s.startswith("SCAN") for s in steps)


def test_the_stock_read_seeks_each_levels_expired_reservations(sqlite_hub: Hub) -> None:
    for steps in plans(sqlite_hub, lambda uow: uow.inventory.stock(["A", "B", "C"], NOW),
                       "allocations"):
        assert seeks(steps, "allocations", "ix_allocations_level"), steps
        assert any("(source=? AND sku=?" in s for s in steps), steps


@pytest.mark.parametrize("claim", ["claim", "claim_checks"])
def test_the_wms_claims_seek_the_due_rows(sqlite_hub: Hub, claim: str) -> None:
    table = "wms_outbound" if claim == "claim" else "wms_checks"
    for steps in plans(sqlite_hub, lambda uow: getattr(uow.wms_outbound, claim)(
            NOW, timedelta(seconds=30), 20), table)[:1]:  # the look-up (then each row's lease)
        assert seeks(steps, table, f"ix_{table}_due"), steps


def test_the_inventory_sweep_reads_only_the_active_allocations(sqlite_hub: Hub) -> None:
    found = plans(sqlite_hub, lambda uow: (uow.inventory.due_reservations(NOW),
                                           uow.inventory.reconcile({})), "allocations")
    assert len(found) == 2
    for steps in found:  # a walk of the partial index, which holds only the active ones
        assert [s for s in steps if "allocations" in s] == [
            "SCAN allocations USING INDEX ix_allocations_active"], steps


def test_an_orders_allocations_are_found_by_the_order(sqlite_hub: Hub) -> None:
    """Not through the sweep's index: with no statistics, SQLite chose an index on (status,
    reserved_until) for this look-up and read every active allocation for each order."""
    for call in (lambda uow: uow.inventory.allocations_of("o-1", active_only=True),
                 lambda uow: uow.inventory.allocations_of("o-1")):
        for steps in plans(sqlite_hub, call, "allocations"):
            assert seeks(steps, "allocations", "ix_allocations_order_id"), steps


def test_the_exception_playbook_seeks_the_runs_of_its_event(sqlite_hub: Hub) -> None:
    for steps in plans(sqlite_hub, lambda uow: uow.exceptions.rule_run_statuses("e-1"),
                       "rule_runs"):
        assert seeks(steps, "rule_runs", "ix_rule_runs_event"), steps
