"""32 buyers race for one SKU: exactly the available quantity is sold, never one more.

The buyers call the allocation service directly, each on its own database connection, and all
are released at the same moment by a barrier: 32 threads each with its own engine, and 32
processes. On PostgreSQL the race is real (READ COMMITTED: buyers plan from reads taken before
the others commit), so it catches a missing stock guard. On SQLite ``BEGIN IMMEDIATE`` lets one
writer in at a time, so every plan is computed from fresh data and a race cannot show a missing
guard; the stale-read tests below make it observable on both databases by handing the
allocation the read a concurrent buyer would have seen before the other committed, and on
PostgreSQL one test holds a buyer's transaction open between its read and its write while
another buyer commits.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.adapters.db import Database
from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.services import ordering
from orderpilot.services.inventory import allocation as inventory
from orderpilot.services.inventory import sync as inventory_sync
from reliability.support.backends import Backend
from reliability.support.buyers import BARRIER_SECONDS, Buyer, buy_at_the_barrier

pytestmark = pytest.mark.slow

BUYERS = 32
STOCK = 10
SAFETY = 2


def open_hub(backend: Backend) -> Hub:
    return bootstrap(Settings(data_dir=backend.data_dir, database_url=backend.database_url,
                              log_level="WARNING", _env_file=None))  # type: ignore[call-arg]


def prepare(backend: Backend, *, buyers: int = BUYERS, stock: int = STOCK) -> list[str]:
    """``stock`` units free above safety stock, and one placed order of one unit per buyer."""
    hub = open_hub(backend)
    try:
        migrations.upgrade(hub.db)
        inventory_sync.put_source(inventory_sync.build_source(
            code="NB", kind="bonded_spot", name_zh="宁波仓", name_en="Ningbo", region="",
            lead_time_days=1, safety_stock=SAFETY), hub.uow, hub.clock)
        inventory_sync.apply_levels("seed", [inventory_sync.LevelReport("NB", "HOT",
                                                                        stock + SAFETY)],
                                    hub.uow, hub.clock)
        ids = []
        for n in range(buyers):
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


def assert_sold_exactly(backend: Backend, stock: int) -> None:
    """Reserved equals what the active allocations hold, and never eats into safety stock."""
    db = Database(backend.url)
    try:
        with db.read() as conn:
            on_hand, reserved = conn.execute(sa.select(
                t.inventory_levels.c.on_hand, t.inventory_levels.c.reserved)).one()
            sold = conn.execute(sa.select(sa.func.sum(t.allocations.c.quantity))
                                .where(t.allocations.c.status == "active")).scalar_one()
    finally:
        db.dispose()
    assert (reserved, int(sold or 0)) == (stock, stock), (reserved, sold)
    assert on_hand - reserved - SAFETY >= 0, f"oversold: {reserved} reserved of {on_hand}"


def test_32_threads_started_together_sell_exactly_the_available_quantity(
        backend: Backend) -> None:
    ids = prepare(backend)
    start = threading.Barrier(BUYERS, timeout=BARRIER_SECONDS)
    outcomes: queue.Queue[str] = queue.Queue()

    def buy(order_id: str) -> None:
        buyer = Buyer(backend.url)
        try:
            start.wait()
            outcomes.put(buyer.buy(order_id))
        except Exception as error:  # noqa: BLE001 - reported as an outcome, and asserted on
            start.abort()
            outcomes.put(f"error: {error!r}")
        finally:
            buyer.close()

    threads = [threading.Thread(target=buy, args=(order_id,)) for order_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BARRIER_SECONDS + 60)
    counted = Counter(outcomes.get_nowait() for _ in range(outcomes.qsize()))
    assert counted == {"allocated": STOCK, "out_of_stock": BUYERS - STOCK}, counted
    assert_sold_exactly(backend, STOCK)


def test_32_processes_started_together_sell_exactly_the_available_quantity(
        backend: Backend) -> None:
    """One buy per process, all released by one barrier: 32 buys in flight at once.

    The processes fork from a server that imported the buyer once (32 fresh interpreters
    would take a minute to import the hub on two cores)."""
    ids = prepare(backend)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reliability.support.buyers"])
    start = context.Barrier(BUYERS)
    outcomes = context.Queue()
    processes = [context.Process(target=buy_at_the_barrier,
                                 args=(backend.url, o, start, outcomes))
                 for o in ids]
    for process in processes:
        process.start()
    try:
        results = [outcomes.get(timeout=BARRIER_SECONDS + 60) for _ in processes]
    finally:
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
    counted = Counter(results)
    assert counted == {"allocated": STOCK, "out_of_stock": BUYERS - STOCK}, counted
    assert_sold_exactly(backend, STOCK)


@pytest.fixture
def stale_first_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Any], None]]:
    """Make the next allocation plan from a given earlier stock read, as a buyer does whose
    read came before another buyer's commit; later reads (a re-plan) see the database."""
    pending: list[Any] = []
    real_stock = InventoryRepository.stock

    def stock(self: InventoryRepository, skus: list[str], now: datetime) -> Any:
        return pending.pop() if pending else real_stock(self, skus, now)

    monkeypatch.setattr(InventoryRepository, "stock", stock)
    yield pending.append
    assert not pending, "the allocation never read stock: the stale read was not used"


def read_stock(hub: Hub) -> Any:
    with hub.uow() as uow:
        return uow.inventory.stock(["HOT"], hub.clock())


def test_a_buyer_planning_from_a_stale_read_does_not_get_the_last_unit(
        backend: Backend, stale_first_read: Callable[[Any], None]) -> None:
    """Both buyers read one free unit before either writes; the second is refused and held."""
    first, second = prepare(backend, buyers=2, stock=1)
    hub = open_hub(backend)
    try:
        before_either_wrote = read_stock(hub)
        assert inventory.allocate_order(first, hub.uow, hub.clock).outcome == "allocated"
        stale_first_read(before_either_wrote)
        late = inventory.allocate_order(second, hub.uow, hub.clock)
        with hub.uow() as uow:
            holds = uow.orders.get(second).active_holds
    finally:
        hub.close()
    assert late.outcome == "out_of_stock", late
    assert [h.reason for h in holds] == [inventory.OUT_OF_STOCK]
    assert_sold_exactly(backend, 1)


def test_a_stale_plan_retries_on_fresh_stock_and_takes_what_is_left(
        backend: Backend, stale_first_read: Callable[[Any], None]) -> None:
    """A stale plan is not a refusal by itself: with units left, the re-plan allocates."""
    first, second = prepare(backend, buyers=2, stock=2)
    hub = open_hub(backend)
    try:
        before_either_wrote = read_stock(hub)
        assert inventory.allocate_order(first, hub.uow, hub.clock).outcome == "allocated"
        stale_first_read(before_either_wrote)
        assert inventory.allocate_order(second, hub.uow, hub.clock).outcome == "allocated"
    finally:
        hub.close()
    assert_sold_exactly(backend, 2)


@pytest.mark.postgres
def test_postgres_buyer_whose_read_preceded_another_commit_is_refused(
        pg_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interleaving for real, on PostgreSQL (SQLite cannot have two writers open): buyer B
    reads stock in its open transaction, buyer A allocates and commits the last unit, then B
    goes on with the plan from its read. The guard must refuse B's take."""
    first, second = prepare(pg_backend, buyers=2, stock=1)
    hub = open_hub(pg_backend)
    b_has_read, a_committed = threading.Event(), threading.Event()
    real_stock = InventoryRepository.stock

    def stock(self: InventoryRepository, skus: list[str], now: datetime) -> Any:
        seen = real_stock(self, skus, now)
        if threading.current_thread().name == "buyer-b" and not b_has_read.is_set():
            b_has_read.set()
            assert a_committed.wait(60), "buyer A never committed"
        return seen

    monkeypatch.setattr(InventoryRepository, "stock", stock)
    outcome: list[str] = []
    buyer_b = threading.Thread(name="buyer-b", target=lambda: outcome.append(
        inventory.allocate_order(second, hub.uow, hub.clock).outcome))
    try:
        buyer_b.start()
        assert b_has_read.wait(60), "buyer B never read stock"
        assert inventory.allocate_order(first, hub.uow, hub.clock).outcome == "allocated"
        a_committed.set()
        buyer_b.join(60)
    finally:
        a_committed.set()
        hub.close()
    assert outcome == ["out_of_stock"], outcome
    assert_sold_exactly(pg_backend, 1)
