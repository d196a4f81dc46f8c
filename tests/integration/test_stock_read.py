"""The stock read every allocation makes: reservations past their time do not count (whether
or not the sweeper has released them), and only each level's own are summed. (That it seeks
them instead of reading every allocation ever made: test_query_plans.py.)"""

from __future__ import annotations

import uuid
from datetime import timedelta

from conftest import FakeClock, order_body
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.schemas import OrderIn
from orderpilot.services import ordering
from orderpilot.services.inventory import sync as inventory_sync


def _sources(hub: Hub) -> None:
    for code in ("NB", "HZ"):
        inventory_sync.put_source(inventory_sync.build_source(
            code=code, kind="bonded_spot", name_zh=code, name_en=code, region="",
            lead_time_days=1), hub.uow, hub.clock)
    inventory_sync.apply_levels("wms-1", [inventory_sync.LevelReport(code, sku, 100)
                                          for code in ("NB", "HZ") for sku in ("A-1", "B-1")],
                                hub.uow, hub.clock)


def _reserve(hub: Hub, order_id: str, source: str, sku: str, quantity: int, status: str,
             until_minutes: float | None) -> None:
    """An allocation written as the allocator leaves it: the row, and the level's reserved
    count raised by its quantity while it is active."""
    now = hub.clock()
    until = None if until_minutes is None else now + timedelta(minutes=until_minutes)
    with hub.db.write() as conn:
        conn.execute(t.allocations.insert().values(
            id=str(uuid.uuid4()), order_id=order_id, line_no=1, sku=sku, source=source,
            quantity=quantity, status=status, reserved_until=until, created_at=now))
        if status == "active":
            lv = t.inventory_levels
            conn.execute(lv.update().where(lv.c.source == source, lv.c.sku == sku)
                         .values(reserved=lv.c.reserved + quantity))


def test_reservations_past_their_time_do_not_count_and_stay_with_their_level(
        hub: Hub, clock: FakeClock) -> None:
    _sources(hub)
    body = order_body("STOCK-READ")
    order_id = ordering.place_order(OrderIn.model_validate(body).to_command("STOCK-READ", body),
                                    hub.uow, hub.clock).order_id
    _reserve(hub, order_id, "NB", "A-1", 5, "active", -10)  # past its time, not yet swept
    _reserve(hub, order_id, "NB", "A-1", 3, "active", +10)  # still running
    _reserve(hub, order_id, "NB", "A-1", 2, "active", None)  # no time limit
    _reserve(hub, order_id, "NB", "A-1", 7, "released", -10)  # ended: not reserved any more
    _reserve(hub, order_id, "HZ", "A-1", 4, "active", -10)  # another source's
    _reserve(hub, order_id, "NB", "B-1", 6, "active", -10)  # another SKU's

    with hub.uow() as uow:
        stock = uow.inventory.stock(["A-1", "B-1"], hub.clock())

    assert {key: (s.reserved, s.expired, s.available) for key, s in stock.items()} == {
        ("NB", "A-1"): (5, 5, 95), ("HZ", "A-1"): (0, 4, 100),
        ("NB", "B-1"): (0, 6, 100), ("HZ", "B-1"): (0, 0, 100)}
    clock.advance(minutes=15)  # the running one's time is up too
    with hub.uow() as uow:
        assert uow.inventory.stock(["A-1"], hub.clock())[("NB", "A-1")].expired == 8
