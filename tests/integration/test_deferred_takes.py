"""Stock taken last (InventoryRepository.defer_takes), on both databases: the dispatcher's bare
delivery on PostgreSQL updates a stock row just before its commit, so side-by-side workers
queue on a best-seller's row for the commit only; what the deferred take noted is checked
when it is taken, and anything that would have gone otherwise is delivered again with the
takes made at once, so no unit is taken twice, none oversold, and no order held out of stock
on a read that held no lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from conftest import order_body
from integration.statement_log import statement_log
from orderpilot.adapters import tables as t
from orderpilot.adapters.inventory import InventoryRepository, TakeNeedsLock
from orderpilot.bootstrap import Hub
from orderpilot.domain import inventory as inv
from orderpilot.entrypoints.api.schemas import OrderIn
from orderpilot.services import ordering
from orderpilot.services.dispatch import Dispatcher, DispatchSettings
from orderpilot.services.inventory import sync as inventory_sync

SKU = "MILK-900"


@pytest.fixture
def stocked(hub: Hub) -> Hub:
    inventory_sync.put_source(inventory_sync.build_source(
        code="NB", kind="bonded_spot", name_zh="宁波", name_en="Ningbo", region="",
        lead_time_days=1, low_threshold=3), hub.uow, hub.clock)
    inventory_sync.apply_levels("wms-1", [inventory_sync.LevelReport("NB", SKU, 10)],
                                hub.uow, hub.clock)
    inventory_sync.put_strategy(inv.Strategy("shopee", allocate_on="placed"), hub.uow,
                                hub.clock)
    return hub


def place(hub: Hub, external_id: str, quantity: int = 2) -> str:
    body = order_body(external_id, total=f"{99 * quantity}.00",
                      lines=[{"sku": SKU, "quantity": quantity, "unit_price": "99.00"}])
    return ordering.place_order(OrderIn.model_validate(body).to_command(external_id, body),
                                hub.uow, hub.clock).order_id


def one_event_a_transaction(hub: Hub) -> Dispatcher:
    """The dispatcher as PostgreSQL runs it (bare, one event a transaction), on both."""
    return Dispatcher(hub.uow, hub.registry, hub.clock, "deferred",
                      DispatchSettings(one_transaction_per_batch=False))


def level(hub: Hub) -> tuple[int, int, bool]:
    with hub.db.read() as conn:
        row = conn.execute(sa.select(t.inventory_levels.c.on_hand, t.inventory_levels.c.reserved,
                                     t.inventory_levels.c.low)
                           .where(t.inventory_levels.c.sku == SKU)).one()
    return int(row.on_hand), int(row.reserved), bool(row.low)


def allocated(hub: Hub, order_id: str) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(
            t.allocations.c.quantity), 0)).where(t.allocations.c.order_id == order_id,
                                                  t.allocations.c.status == "active"))
                   .scalar_one())


def test_the_stock_row_is_updated_after_every_other_write_of_the_event(stocked: Hub) -> None:
    order_id = place(stocked, "DEFER-1")
    with statement_log(stocked) as seen:
        while one_event_a_transaction(stocked).run_once():
            pass
    assert allocated(stocked, order_id) == 2
    assert level(stocked)[:2] == (10, 2)
    take = next(i for i, s in enumerate(seen) if s.startswith("update inventory_levels"))
    # in the placed event's transaction, the take comes after its allocation, the order's
    # save, its new event and the outbox row marked done: last before the commit
    before = seen[:take]
    assert any(s.startswith("insert into allocations") for s in before)
    assert any(s.startswith("update orders set tags") for s in before)
    assert any(s.startswith("delete from outbox") for s in before)
    after = seen[take + 1:]
    writes = [s for s in after[:next((i for i, s in enumerate(after)
                                       if s.startswith(("commit", "update outbox set claimed"))),
                                      len(after))]
              if s.split()[0] in ("insert", "update", "delete")]
    assert writes == []


@contextmanager
def deferring(hub: Hub) -> Iterator[tuple[sa.Connection, InventoryRepository]]:
    """A transaction whose takes are deferred; what the test changed by hand is undone."""
    with hub.uow() as uow:
        repo = uow.inventory
        assert isinstance(repo, InventoryRepository)
        repo.defer_takes()
        yield uow.conn, repo
        uow.conn.execute(t.inventory_levels.update().values(reserved=0))


def test_a_row_that_changed_since_the_read_refuses_the_deferred_take(stocked: Hub) -> None:
    with stocked.uow() as uow:
        source = uow.inventory.source("NB")
    assert source is not None and source.low_threshold == 3
    with deferring(stocked) as (conn, repo):
        noted = repo.take(source, SKU, 4)
        assert noted is not None and noted.reserved == 4 and noted.available == 6
        assert level_in(conn) == (10, 0)  # nothing taken yet
        # someone else took 7 units meanwhile (here in the same transaction, as a stand-in)
        conn.execute(t.inventory_levels.update().values(reserved=7))
        with pytest.raises(TakeNeedsLock, match="fewer than 4"):
            repo.settle_takes()
    with deferring(stocked) as (conn, repo):
        assert repo.take(source, SKU, 4) is not None
        conn.execute(t.inventory_levels.update().values(reserved=3))
        # 4 more leave 3 free: at the threshold, where the read (6 free) was above it
        with pytest.raises(TakeNeedsLock, match="low threshold"):
            repo.settle_takes()
    with deferring(stocked) as (conn, repo):
        conn.execute(t.inventory_levels.update().values(reserved=1))
        assert repo.take(source, SKU, 6) is not None  # 3 free, low, as the event will say
        conn.execute(t.inventory_levels.update().values(reserved=2))
        with pytest.raises(TakeNeedsLock, match="is low and moved"):
            repo.settle_takes()  # 2 free would have been reported, not 3
    with deferring(stocked) as (_conn, repo), pytest.raises(TakeNeedsLock, match="not enough"):
        repo.take(source, SKU, 11)  # short on the read: never "out of stock" unlocked


def level_in(conn: sa.Connection) -> tuple[int, int]:
    row = conn.execute(sa.select(t.inventory_levels.c.on_hand, t.inventory_levels.c.reserved)
                       .where(t.inventory_levels.c.sku == SKU)).one()
    return int(row.on_hand), int(row.reserved)


def test_a_refused_deferred_take_is_delivered_again_with_the_take_at_once(
        stocked: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole bare transaction is rolled back (the allocation it wrote included) and the
    event delivered again: the units are taken once, and low stock is reported once."""
    refused = []
    settle = InventoryRepository.settle_takes

    def refuse_once(self: InventoryRepository) -> None:
        if not refused:
            refused.append(True)
            raise TakeNeedsLock("a concurrent take got there first")
        settle(self)

    monkeypatch.setattr(InventoryRepository, "settle_takes", refuse_once)
    order_id = place(stocked, "DEFER-2", quantity=7)  # leaves 3: at the low threshold
    dispatcher = one_event_a_transaction(stocked)
    while dispatcher.run_once():
        pass
    assert refused and dispatcher.stats.failed == 0 and dispatcher.stats.dead == 0
    assert allocated(stocked, order_id) == 7
    assert level(stocked) == (10, 7, True)
    with stocked.db.read() as conn:
        types = [r.type for r in conn.execute(sa.select(t.events.c.type)
                                              .where(t.events.c.type.like("inventory.%")))]
    assert types.count("inventory.low") == 1 and types.count("inventory.allocated") == 1


def test_orders_never_take_more_than_the_stock(stocked: Hub) -> None:
    """Six orders of 2 against 10 units, deferred: five are allocated, the sixth is held out
    of stock by the immediate path, and the row's reserved equals the allocations."""
    ids = [place(stocked, f"DEFER-OVER-{n}") for n in range(6)]
    dispatcher = one_event_a_transaction(stocked)
    while dispatcher.run_once():
        pass
    assert [allocated(stocked, i) for i in ids] == [2, 2, 2, 2, 2, 0]
    assert level(stocked)[:2] == (10, 10)
