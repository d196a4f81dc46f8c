"""Two returns for the same units at the same moment: one is taken, the other refused (the
order row is locked while the quantities are checked; on SQLite the write lock does it)."""

from __future__ import annotations

import threading
from typing import Any

from conftest import order_body
from orderpilot.bootstrap import Hub
from orderpilot.domain.errors import InvalidInput
from orderpilot.services import returns
from returns.test_returns_api import ship


def test_concurrent_returns_never_take_more_than_shipped(api: Any, hub: Hub) -> None:
    body = order_body("RACE1", lines=[{"sku": "DIAPER-L", "quantity": 3,
                                       "unit_price": "10.00"}], total="30.00")
    order_id = api.post("/api/v1/orders", json=body).json()["id"]
    ship(api, order_id)
    barrier = threading.Barrier(4)
    taken: list[str] = []
    refused: list[str] = []

    def buyer(n: int) -> None:
        barrier.wait()
        try:
            made = returns.request_return(returns.RequestReturn(
                order_id, [("DIAPER-L", 2)], ["wrong_size"], source="race",
                source_event_id=f"R{n}"), hub.uow, hub.clock)
            taken.append(made.ret.id)
        except InvalidInput as error:
            refused.append(error.code)

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(taken) == 1 and refused == ["quantity_over_returnable"] * 3
    listed = api.get("/api/v1/returns", params={"order_id": order_id}).json()
    assert [r["lines"][0]["quantity"] for r in listed["items"]] == [2]
