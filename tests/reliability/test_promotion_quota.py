"""S6: "the first 100 orders with the SKU during the live stream get the gift" gives exactly
100 gifts when 150 qualifying orders claim at once, on SQLite and PostgreSQL.

30 claimers, each on its own engine and connection, are released together by a barrier and
claim 5 orders each. The quota's only guard is the conditional ``claimed < quota`` update, with
no read before it to plan from, so its removal shows on either database: 150 gifts.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import order_body
from integration.test_inventory import setup_stock
from orderpilot.adapters.db import Database
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.bootstrap import Hub
from orderpilot.services.inventory import promotions

pytestmark = pytest.mark.slow
QUOTA = 100
ORDERS = 150
CLAIMERS = 30
BARRIER_SECONDS = 120


def claim_together(hub: Hub, ids: list[str]) -> list[list[str]]:
    """Every claimer connects, waits for all the others, then claims its share of orders."""
    start = threading.Barrier(CLAIMERS, timeout=BARRIER_SECONDS)
    claimed: list[list[str]] = []
    errors: list[BaseException] = []

    def claim(chunk: list[str]) -> None:
        db = Database(hub.db.url, pool_size=1)
        try:
            with db.read() as conn:
                conn.execute(sa.text("SELECT 1"))
            start.wait()
            for order_id in chunk:
                claimed.append(promotions.claim_for_order(order_id, lambda: SqlUnitOfWork(db),
                                                          hub.clock))
        except BaseException as error:  # noqa: BLE001 - re-raised below, in the test
            start.abort()
            errors.append(error)
        finally:
            db.dispose()

    threads = [threading.Thread(target=claim, args=(ids[k::CLAIMERS],))
               for k in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BARRIER_SECONDS + 60)
    assert not errors, errors[:3]
    assert len(claimed) == len(ids)
    return claimed


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

    claimed = claim_together(hub, ids)

    assert sum(len(c) for c in claimed) == QUOTA
    board = api.get(f"/api/v1/promotions/{created['id']}").json()
    assert (board["claimed"], board["remaining"], len(board["orders"])) == (QUOTA, 0, QUOTA)
    assert len({o["order_id"] for o in board["orders"]}) == QUOTA
    gift = {i["source"]: i for i in api.get(
        "/api/v1/inventory/levels", params={"sku": "GIFT-BIB"}).json()["items"]}["NB"]
    assert gift["on_hand"] - gift["available"] >= QUOTA  # the 100 stay locked for the winners
