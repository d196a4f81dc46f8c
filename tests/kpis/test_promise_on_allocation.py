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
