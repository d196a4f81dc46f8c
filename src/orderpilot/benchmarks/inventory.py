"""`orderpilot bench inventory`: 32 concurrent buyers on one hot SKU, buyers spread over many
SKUs, oversell check, and the latency of the delivery promise (a read, as the API does it)."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.benchmarks.scratch import scratch_database
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.services import ordering
from orderpilot.services.inventory import allocation as inventory
from orderpilot.services.inventory import sync as inventory_sync

Progress = Callable[[str, int, int], None]


def _command(n: int, prefix: str, sku: str) -> PlaceOrder:
    return PlaceOrder(channel="shopee", shop_id="SG-01", external_id=f"{prefix}{n:07d}",
                      placed_at=datetime(2026, 11, 26, 2, 0, tzinfo=UTC), currency="CNY",
                      customer_name="测试买家", customer_phone="13800000000",
                      address={"country": "CN", "province": "浙江省", "line1": f"港城大道{n}号"},
                      lines=(LineInput(sku, 1, "10.00"),), total="10.00")


def _seed(hub: Hub, skus: list[str], per_sku: int) -> None:
    for code, kind, lead in (("NB", "bonded_spot", 1), ("HZ", "domestic_transfer", 2)):
        inventory_sync.put_source(inventory_sync.build_source(
            code=code, kind=kind, name_zh=code, name_en=code, region="", lead_time_days=lead),
            hub.uow, hub.clock)
    levels = [inventory_sync.LevelReport(code, sku, per_sku // 2)
              for sku in skus for code in ("NB", "HZ")]
    inventory_sync.apply_levels(f"seed-{skus[0]}", levels, hub.uow, hub.clock)


def _place(hub: Hub, count: int, prefix: str, pick_sku: Callable[[int], str],
           progress: Progress) -> list[str]:
    ids = []
    for n in range(count):
        ids.append(ordering.place_order(_command(n, prefix, pick_sku(n)), hub.uow,
                                        hub.clock).order_id)
        if n % 200 == 0:
            progress(f"placing {prefix} orders", n, count)
    return ids


def _allocate_all(hub: Hub, ids: list[str], buyers: int) -> tuple[float, dict[str, int]]:
    counts: dict[str, int] = {}
    started = time.perf_counter()
    with ThreadPoolExecutor(buyers) as pool:
        for result in pool.map(lambda o: inventory.allocate_order(o, hub.uow, hub.clock), ids):
            counts[result.outcome] = counts.get(result.outcome, 0) + 1
    return time.perf_counter() - started, counts


def _oversold(hub: Hub) -> int:
    """Units allocated beyond what each level had above safety stock: must be 0."""
    lv, al = t.inventory_levels, t.allocations
    with hub.db.read() as conn:
        held = dict(((r.source, r.sku), int(r.qty)) for r in conn.execute(
            sa.select(al.c.source, al.c.sku, sa.func.sum(al.c.quantity).label("qty"))
            .where(al.c.status == "active").group_by(al.c.source, al.c.sku)))
        over = 0
        for r in conn.execute(sa.select(lv.c.source, lv.c.sku, lv.c.on_hand)):
            over += max(0, held.get((r.source, r.sku), 0) - r.on_hand)
    return over


def _availability_latency(hub: Hub, skus: list[str], calls: int) -> list[float]:
    rng = random.Random(7)
    latencies = []
    for _ in range(calls):
        sku = rng.choice(skus)
        t0 = time.perf_counter()
        with hub.db.read() as conn:
            inventory.availability(InventoryRepository(conn), sku, 1, "浙江省", "shopee",
                                   hub.clock())
        latencies.append((time.perf_counter() - t0) * 1000)
    return sorted(latencies)


def run(orders: int, buyers: int, skus: int, db_url: str | None,
        progress: Progress) -> dict[str, Any]:
    with scratch_database(db_url) as scratch:
        hub = bootstrap(Settings(data_dir=scratch.data_dir, database_url=scratch.database_url,
                                 log_level="WARNING", _env_file=None))
        try:
            migrations.upgrade(hub.db)
            spread_skus = [f"SKU-{i:04d}" for i in range(skus)]
            # The hot SKU has stock for 80% of its buyers: the rest must be refused, not sold.
            hot_stock = orders * 4 // 5
            _seed(hub, ["HOT"], hot_stock)
            _seed(hub, spread_skus, max(4, 2 * orders // skus))
            hot_ids = _place(hub, orders, "H", lambda n: "HOT", progress)
            spread_ids = _place(hub, orders, "S", lambda n: spread_skus[n % skus], progress)
            progress("allocating", 0, 2)
            hot_time, hot_counts = _allocate_all(hub, hot_ids, buyers)
            progress("allocating", 1, 2)
            spread_time, spread_counts = _allocate_all(hub, spread_ids, buyers)
            progress("allocating", 2, 2)
            latencies = _availability_latency(hub, ["HOT", *spread_skus], 2000)
            hot_sold = hot_counts.get("allocated", 0)
            return {
                "benchmark": "inventory", "db": scratch.label, "orders_per_run": orders,
                "buyers": buyers, "skus": skus,
                "allocations_per_s_hot_sku": round(orders / hot_time, 1),
                "allocations_per_s_spread": round(orders / spread_time, 1),
                "hot_sold": hot_sold, "hot_stock": hot_stock,
                "hot_out_of_stock": hot_counts.get("out_of_stock", 0),
                "spread_allocated": spread_counts.get("allocated", 0),
                "oversold": _oversold(hub) + max(0, hot_sold - hot_stock),
                "availability_p50_ms": round(statistics.median(latencies), 3),
                "availability_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 3),
            }
        finally:
            hub.close()
