"""`orderpilot bench orders-list`: the orders list's filters on N orders (default 20,000):
one page of 50 plus the total count, per filter, as the API asks them. The orders are spread
over four channels, twenty shops, three currencies, 300 SKUs; one in seven carries a tag."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from orderpilot.adapters import migrations
from orderpilot.adapters.repository import OrderRepository
from orderpilot.adapters.views import order_search
from orderpilot.benchmarks.scratch import scratch_database
from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.domain import order_filters
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.domain.intake import build_order

Progress = Callable[[str, int, int], None]
START = datetime(2026, 11, 26, tzinfo=UTC)
CHANNELS = ("shopee", "lazada", "own_store", "youzan")
BATCH = 1000
FILTERS: dict[str, dict[str, str]] = {
    "none": {}, "channel": {"channel": "shopee"}, "shop": {"shop": "shopee-3"},
    "placed_days": {"placed_from": "2026-11-20", "placed_to": "2026-11-22"},
    "sku": {"sku": "SKU-42"}, "tag": {"tag": "vip"},
    "amount": {"currency": "CNY", "min_total": "800"}, "phone_tail": {"phone": "1234"},
    "address": {"address": "港城大道1999"}, "held": {"held": "yes"},
    "updated_since": {"updated_since": (START - timedelta(seconds=500)).isoformat()},
    "sort_total": {"sort": "total_desc"},
}


def _command(i: int, rnd: random.Random) -> PlaceOrder:
    channel = rnd.choice(CHANNELS)
    price = rnd.randrange(10, 900)
    return PlaceOrder(
        channel=channel, shop_id=f"{channel}-{i % 5}", external_id=f"B{i:07d}",
        placed_at=START - timedelta(minutes=i * 3), currency=rnd.choice(("CNY", "SGD", "MYR")),
        customer_name="测试买家", customer_phone=f"138{rnd.randrange(10**8):08d}",
        address={"country": "CN", "province": "浙江省", "city": "宁波市", "district": "北仑区",
                 "line1": f"港城大道{i}号"},
        lines=(LineInput(f"SKU-{i % 300}", 1, f"{price}.00"),), total=f"{price}.00",
        tags=("vip",) if i % 7 == 0 else ())


def run(orders: int, repeat: int, db_url: str | None, progress: Progress) -> dict[str, Any]:
    rnd = random.Random(1)
    with scratch_database(db_url) as scratch:
        hub = bootstrap(Settings(data_dir=scratch.data_dir, database_url=scratch.database_url,
                                 log_level="WARNING", _env_file=None))
        try:
            migrations.upgrade(hub.db)
            for start in range(0, orders, BATCH):
                with hub.db.write() as conn:  # written directly: the reads are measured
                    repo = OrderRepository(conn)
                    for i in range(start, min(orders, start + BATCH)):
                        order = build_order(_command(i, rnd), START)
                        repo.add(order, START - timedelta(seconds=orders - i))
                progress("placing", min(orders, start + BATCH), orders)
            timings: dict[str, float] = {}
            matches: dict[str, int] = {}
            for n, (name, params) in enumerate(FILTERS.items()):
                found = order_filters.parse(params)
                seconds = []
                with hub.db.read() as conn:
                    for _ in range(repeat):
                        began = time.perf_counter()
                        _, _, total = order_search.search(conn, found, limit=50)
                        seconds.append(time.perf_counter() - began)
                timings[name] = round(statistics.median(seconds) * 1000, 2)
                matches[name] = total or 0
                progress("filtering", n + 1, len(FILTERS))
            return {"benchmark": "orders-list", "db": scratch.label, "orders": orders,
                    "page_and_count_median_ms": timings, "matches": matches}
        finally:
            hub.close()
