"""S6: "the first 100 orders with the SKU during the live stream get the gift" gives exactly
100 gifts when 150 qualifying orders claim at once from 16 threads, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conftest import order_body
from integration.test_inventory import setup_stock
from orderpilot.bootstrap import Hub
from orderpilot.services import promotions

pytestmark = pytest.mark.slow
QUOTA = 100
ORDERS = 150


def test_first_100_orders_get_exactly_100_gifts(api: Any, hub: Hub) -> None:
    setup_stock(api, nb=ORDERS * 3)
    answer = api.put("/api/v1/inventory/levels", json={"source_event_id": "gifts", "levels": [
        {"source": "NB", "sku": "GIFT-BIB", "on_hand": 130}]})
    assert answer.status_code == 200, answer.text
    created = api.post("/api/v1/promotions", json={
        "name": "直播间前100单送围兜", "trigger_sku": "DIAPER-L", "gift_sku": "GIFT-BIB",
        "gift_source": "NB", "quota": QUOTA}).json()
    board = api.post(f"/api/v1/promotions/{created['id']}/start").json()
    assert board["remaining"] == QUOTA
    ids = [api.post("/api/v1/orders", json=order_body(f"P{i:04d}")).json()["id"]
           for i in range(ORDERS)]

    with ThreadPoolExecutor(16) as pool:
        claimed = list(pool.map(lambda o: promotions.claim_for_order(o, hub.uow, hub.clock),
                                ids))

    assert sum(len(c) for c in claimed) == QUOTA
    board = api.get(f"/api/v1/promotions/{created['id']}").json()
    assert (board["claimed"], board["remaining"], len(board["orders"])) == (QUOTA, 0, QUOTA)
    assert len({o["order_id"] for o in board["orders"]}) == QUOTA
    gift = {i["source"]: i for i in api.get(
        "/api/v1/inventory/levels", params={"sku": "GIFT-BIB"}).json()["items"]}["NB"]
    assert gift["on_hand"] - gift["available"] >= QUOTA  # the 100 stay locked for the winners
