"""32 buyers race for one SKU: exactly the available quantity is sold, never one more.

Real threads in one process, and real processes each with its own engine, on SQLite and on
PostgreSQL. The buyers call the allocation service directly, all released at once.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.services import inventory, inventory_sync, ordering
from reliability.support.backends import Backend

pytestmark = pytest.mark.slow

BUYERS = 32
STOCK = 10


def open_hub(backend: Backend) -> Hub:
    return bootstrap(Settings(data_dir=backend.data_dir, database_url=backend.database_url,
                              log_level="WARNING", _env_file=None))  # type: ignore[call-arg]


def prepare(backend: Backend) -> list[str]:
    hub = open_hub(backend)
    try:
        migrations.upgrade(hub.db)
        inventory_sync.put_source(inventory_sync.build_source(
            code="NB", kind="bonded_spot", name_zh="宁波仓", name_en="Ningbo", region="",
            lead_time_days=1, safety_stock=2), hub.uow, hub.clock)
        inventory_sync.apply_levels("seed", [inventory_sync.LevelReport("NB", "HOT", STOCK + 2)],
                                    hub.uow, hub.clock)
        ids = []
        for n in range(BUYERS):
            placed = ordering.place_order(PlaceOrder(
                channel="shopee", shop_id="SG", external_id=f"HOT{n}",
                placed_at=datetime(2026, 11, 26, tzinfo=UTC), currency="CNY",
                customer_name="买家", customer_phone="13800000000",
                address={"country": "CN", "province": "浙江省", "line1": "港城大道1号"},
                lines=(LineInput("HOT", 1, "10.00"),), total="10.00"), hub.uow, hub.clock)
            ids.append(placed.order_id)
        return ids
    finally:
        hub.close()


def outcome(backend: Backend) -> tuple[int, int]:
    hub = open_hub(backend)
    try:
        with hub.db.read() as conn:
            reserved = conn.execute(sa.select(t.inventory_levels.c.reserved)).scalar_one()
            sold = conn.execute(sa.select(sa.func.sum(t.allocations.c.quantity))
                                .where(t.allocations.c.status == "active")).scalar_one()
        return int(reserved), int(sold or 0)
    finally:
        hub.close()


def test_threads_sell_exactly_the_available_quantity(backend: Backend) -> None:
    ids = prepare(backend)
    hub = open_hub(backend)
    start = threading.Barrier(BUYERS)

    def buy(order_id: str) -> str:
        start.wait()
        return inventory.allocate_order(order_id, hub.uow, hub.clock).outcome

    try:
        with ThreadPoolExecutor(BUYERS) as pool:
            outcomes = Counter(pool.map(buy, ids))
    finally:
        hub.close()
    assert outcomes == {"allocated": STOCK, "out_of_stock": BUYERS - STOCK}
    assert outcome(backend) == (STOCK, STOCK)


def _buy_in_process(backend: Backend, order_ids: list[str], start: Any) -> list[str]:
    hub = open_hub(backend)
    try:
        start.wait()
        return [inventory.allocate_order(o, hub.uow, hub.clock).outcome for o in order_ids]
    finally:
        hub.close()


def test_processes_sell_exactly_the_available_quantity(backend: Backend) -> None:
    ids = prepare(backend)
    context = multiprocessing.get_context("spawn")
    processes = 8
    with context.Manager() as manager:
        start = manager.Barrier(processes)
        with context.Pool(processes) as pool:
            chunks = [ids[i::processes] for i in range(processes)]
            results = pool.starmap(_buy_in_process, [(backend, c, start) for c in chunks])
    outcomes = Counter(o for chunk in results for o in chunk)
    assert outcomes == {"allocated": STOCK, "out_of_stock": BUYERS - STOCK}
    assert outcome(backend) == (STOCK, STOCK)
