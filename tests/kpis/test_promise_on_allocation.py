"""The delivery promise an order is given (orders.promised_by, the on-time rate's yardstick):
set when stock is allocated, from the plan's slowest source, the end of that Beijing day; kept
when the order is allocated again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from conftest import FakeClock
from integration.test_inventory import place_and_pay, setup_stock
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.domain.times import SHANGHAI


def promised(hub: Hub, order_id: str) -> datetime | None:
    with hub.db.read() as conn:
        value: datetime | None = conn.execute(sa.select(t.orders.c.promised_by).where(
            t.orders.c.id == order_id)).scalar()
        return value


def test_allocation_gives_the_promise_of_its_slowest_source(api: Any, hub: Hub,
                                                            clock: FakeClock) -> None:
    setup_stock(api, nb=1, hz=2)
    # now is 2026-11-26 10:00 in Beijing; Ningbo delivers in 1 day, Hangzhou in 2
    from_ningbo = place_and_pay(api, hub, "P-NB")
    assert promised(hub, from_ningbo) == datetime(2026, 11, 27, 23, 59, 59, tzinfo=SHANGHAI)
    from_hangzhou = place_and_pay(api, hub, "P-HZ")
    assert promised(hub, from_hangzhou) == datetime(2026, 11, 28, 23, 59, 59, tzinfo=SHANGHAI)


def test_an_order_never_allocated_has_no_promise(api: Any, hub: Hub) -> None:
    setup_stock(api, nb=0, hz=0, la=0)
    held = place_and_pay(api, hub, "P-OUT")
    assert promised(hub, held) is None


def delivered_at(hub: Hub, order_id: str) -> datetime | None:
    with hub.db.read() as conn:
        value: datetime | None = conn.execute(sa.select(t.orders.c.delivered_at).where(
            t.orders.c.id == order_id)).scalar()
        return value


def test_the_first_delivery_report_is_kept_on_the_order(api: Any, hub: Hub) -> None:
    setup_stock(api)
    order_id = place_and_pay(api, hub, "P-DLV")
    for kind, source in (("wms.released", "wms"), ("shipment.shipped", "sf")):
        assert api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": kind, "source": source, "occurred_at": "2026-11-27T10:00:00+08:00"}
        ).status_code == 201
    for when in ("2026-11-28T15:00:00+08:00", "2026-11-28T09:30:00+08:00",
                 "2026-11-29T10:00:00+08:00"):  # a later report, then an earlier, then later
        r = api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": "shipment.delivered", "source": "sf", "occurred_at": when})
        assert r.status_code in (200, 201), r.text
    assert delivered_at(hub, order_id) == datetime(2026, 11, 28, 9, 30, tzinfo=SHANGHAI)
