"""An order over several stock rows whose second row is found short after the first was taken
(another transaction got there between the read and the take, on PostgreSQL): the first row's
take is given back before the plan is made again, so no unit stays reserved twice. It used to
be undone by a savepoint around the takes, two round trips every such order paid."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from conftest import order_body
from orderpilot.adapters import tables as t
from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.schemas import OrderIn
from orderpilot.services import ordering
from orderpilot.services.inventory import allocation
from orderpilot.services.inventory import sync as inventory_sync


def reserved(hub: Hub) -> dict[str, int]:
    with hub.db.read() as conn:
        return {sku: int(n) for sku, n in conn.execute(
            sa.select(t.inventory_levels.c.sku, t.inventory_levels.c.reserved)).all()}


def test_a_row_found_short_gives_back_the_rows_taken_before_it(
        hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    inventory_sync.put_source(inventory_sync.build_source(
        code="NB", kind="bonded_spot", name_zh="宁波", name_en="Ningbo", region="",
        lead_time_days=1), hub.uow, hub.clock)
    inventory_sync.apply_levels("wms-1", [inventory_sync.LevelReport("NB", "A-1", 10),
                                          inventory_sync.LevelReport("NB", "B-1", 10)],
                                hub.uow, hub.clock)
    body = order_body("TWO-ROWS", total="396.00", lines=[
        {"sku": "A-1", "quantity": 2, "unit_price": "99.00"},
        {"sku": "B-1", "quantity": 2, "unit_price": "99.00"}])
    order_id = ordering.place_order(OrderIn.model_validate(body).to_command("TWO-ROWS", body),
                                    hub.uow, hub.clock).order_id

    real_take = InventoryRepository.take
    short = {"B-1": 1}  # B-1 is found short once, after A-1 (lock order) was taken

    def take(self: InventoryRepository, source: Any, sku: str, quantity: int) -> Any:
        if short.get(sku):
            short[sku] -= 1
            return None
        return real_take(self, source, sku, quantity)

    monkeypatch.setattr(InventoryRepository, "take", take)
    with hub.uow() as uow:
        order = uow.orders.get(order_id, for_update=True)
        assert order is not None
        result = allocation.allocate_in(uow, order, hub.clock())
    assert result.outcome == "allocated"
    assert short == {"B-1": 0}  # the short row was met, and the plan made again
    assert reserved(hub) == {"A-1": 2, "B-1": 2}
