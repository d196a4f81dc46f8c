"""Orders held out of stock are retried when stock arrives (oldest first, first-fit within what
is sellable) and on request; on SQLite and PostgreSQL (docs/exceptions-retry-and-refusals.md)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import order_body
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.services.inventory import retry
from orderpilot.services.inventory.stock_arrivals import RETRY_TIMER

NB = {"kind": "bonded_spot", "name_zh": "宁波仓", "name_en": "Ningbo", "region": "浙江省",
      "lead_time_days": 1}
SKU = "DIAPER-L"


def drain(hub: Hub) -> None:
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():
        pass


def set_level(api: Any, on_hand: int, ref: str) -> None:
    r = api.put("/api/v1/inventory/levels", json={"source_event_id": ref, "levels": [
        {"source": "NB", "sku": SKU, "on_hand": on_hand}]})
    assert r.status_code == 200, r.text


def held_order(api: Any, hub: Hub, ext: str, quantity: int, minute: int) -> str:
    body = order_body(ext, placed_at=f"2026-11-26T10:{minute:02d}:00+08:00",
                      lines=[{"sku": SKU, "quantity": quantity, "unit_price": "10.00"}],
                      total=f"{10 * quantity}.00")
    order_id: str = api.post("/api/v1/orders", json=body).json()["id"]
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "shopee",
        "occurred_at": "2026-11-26T10:30:00+08:00"})
    assert r.status_code == 201, r.text
    drain(hub)
    return order_id


def state(api: Any, order_id: str) -> tuple[str, list[str]]:
    detail = api.get(f"/api/v1/orders/{order_id}").json()
    return detail["status"], sorted(h["reason"] for h in detail["holds"]
                                    if h["released_at"] is None)


def reserved(hub: Hub) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(t.inventory_levels.c.reserved).where(
            t.inventory_levels.c.source == "NB", t.inventory_levels.c.sku == SKU)).scalar_one())


def active_allocations(hub: Hub) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.allocations).where(
            t.allocations.c.status == "active")).scalar_one())


@pytest.fixture
def four_held(api: Any, hub: Hub) -> list[str]:
    """Four orders for 1, 1, 2, 1 units, oldest first, held out of stock (placed out of age
    order, so the age comes from placed_at, not the insertion order)."""
    assert api.put("/api/v1/inventory/sources/NB", json=NB).status_code == 200
    set_level(api, 0, "wms-0")
    ages = {"O1": (1, 1), "O2": (1, 2), "O3": (2, 3), "O4": (1, 4)}
    ids = {ext: held_order(api, hub, ext, qty, minute)
           for ext, (qty, minute) in sorted(ages.items(), reverse=True)}
    for order_id in ids.values():
        assert state(api, order_id) == ("paid", ["out_of_stock"])
    return [ids[ext] for ext in ("O1", "O2", "O3", "O4")]


def test_stock_arriving_allocates_the_oldest_orders_that_fit(api: Any, hub: Hub,
                                                            four_held: list[str]) -> None:
    o1, o2, o3, o4 = four_held
    set_level(api, 3, "wms-1")
    drain(hub)
    assert [state(api, o) for o in (o1, o2, o4)] == [("allocated", [])] * 3
    assert state(api, o3) == ("paid", ["out_of_stock"])  # 2 units do not fit the 1 left
    assert reserved(hub) == 3

    # Replaying the wake-up (or the same report) allocates nothing twice.
    with hub.uow() as uow:
        retry.on_stock_arrived({"sku": SKU}, uow, hub.clock)
    assert api.put("/api/v1/inventory/levels", json={"source_event_id": "wms-1", "levels": [
        {"source": "NB", "sku": SKU, "on_hand": 3}]}).json()["duplicate"] is True
    drain(hub)
    assert reserved(hub) == 3 and active_allocations(hub) == 3
    assert state(api, o3) == ("paid", ["out_of_stock"])

    set_level(api, 5, "wms-2")  # two more arrive: the order for 2 gets them
    drain(hub)
    assert state(api, o3) == ("allocated", []) and reserved(hub) == 5


def test_a_wake_up_killed_half_way_is_done_again_whole(api: Any, hub: Hub,
                                                      four_held: list[str]) -> None:
    class Killed(Exception):
        pass

    set_level(api, 3, "wms-1")
    with hub.db.read() as conn:
        timers = conn.execute(sa.select(t.timers.c.payload).where(
            t.timers.c.kind == RETRY_TIMER, t.timers.c.status == "pending")).all()
    assert len(timers) == 1
    with pytest.raises(Killed), hub.uow() as uow:  # the worker dies before its commit
        retry.on_stock_arrived(dict(timers[0].payload), uow, hub.clock)
        raise Killed
    assert reserved(hub) == 0 and active_allocations(hub) == 0
    drain(hub)  # the timer is still pending: the next worker does the whole wake-up
    assert reserved(hub) == 3 and active_allocations(hub) == 3


def test_no_wake_up_when_nobody_waits_or_nothing_rose(api: Any, hub: Hub) -> None:
    assert api.put("/api/v1/inventory/sources/NB", json=NB).status_code == 200
    set_level(api, 5, "wms-0")
    set_level(api, 4, "wms-1")
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.timers).where(
            t.timers.c.kind == RETRY_TIMER)).scalar_one() == 0


def test_a_wake_up_is_bounded_and_re_arms(api: Any, hub: Hub, four_held: list[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "PER_WAKE_UP", 1)
    set_level(api, 10, "wms-1")
    drain(hub)
    assert all(state(api, o) == ("allocated", []) for o in four_held)
    with hub.db.read() as conn:
        fired = conn.execute(sa.select(sa.func.count()).select_from(t.timers).where(
            t.timers.c.kind == RETRY_TIMER, t.timers.c.status == "fired")).scalar_one()
    assert fired == 4


def test_cancelling_an_order_gives_its_stock_to_the_next_waiting(api: Any, hub: Hub,
                                                                four_held: list[str]) -> None:
    o1, o2, o3, o4 = four_held
    set_level(api, 1, "wms-1")
    drain(hub)
    assert state(api, o1)[0] == "allocated" and state(api, o2)[1] == ["out_of_stock"]
    r = api.post(f"/api/v1/orders/{o1}/events", json={
        "type": "order.cancelled", "source": "shopee",
        "occurred_at": "2026-11-26T11:00:00+08:00"})
    assert r.status_code == 201, r.text
    drain(hub)
    assert state(api, o2) == ("allocated", []) and reserved(hub) == 1


def test_the_retry_button_answers_what_happened_and_is_audited(api: Any, hub: Hub,
                                                              four_held: list[str],
                                                              tokens: dict[str, str]) -> None:
    o1, o2, o3, o4 = four_held
    with hub.db.write() as conn:  # stock without a report: nothing wakes the retry
        conn.execute(t.inventory_levels.update().values(on_hand=1))
    short = api.post(f"/api/v1/orders/{o3}/allocation/retry").json()
    assert (short["outcome"], short["short"]) == ("out_of_stock", {SKU: 2})  # 2 wanted, 1 there
    done = api.post(f"/api/v1/orders/{o4}/allocation/retry").json()
    assert done["outcome"] == "allocated" and done["allocations"][0]["quantity"] == 1
    assert state(api, o4) == ("allocated", [])
    with hub.db.read() as conn:
        audited = conn.execute(sa.select(t.audit_log.c.order_id, t.audit_log.c.after)
                               .where(t.audit_log.c.action == "allocation.retry")
                               .order_by(t.audit_log.c.seq)).all()
    assert [(a.order_id, a.after["outcome"]) for a in audited] == \
        [(o3, "out_of_stock"), (o4, "allocated")]
    denied = api.post(f"/api/v1/orders/{o1}/allocation/retry",
                      headers={"Authorization": f"Bearer {tokens['warehouse']}"})
    assert denied.status_code == 403
    missing = api.post("/api/v1/orders/nope/allocation/retry")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_bulk_retry_by_sku_and_by_ids(api: Any, hub: Hub, four_held: list[str]) -> None:
    o1, o2, o3, o4 = four_held
    with hub.db.write() as conn:
        conn.execute(t.inventory_levels.update().values(on_hand=2))
    by_ids = api.post("/api/v1/allocation/retry", json={"order_ids": [o4, o3, "nope"]}).json()
    assert [(i["order_id"], i["outcome"]) for i in by_ids["items"]] == \
        [(o3, "allocated"), (o4, "out_of_stock"), ("nope", "not_found")]
    with hub.db.write() as conn:
        conn.execute(t.inventory_levels.update().values(on_hand=4))
    by_sku = api.post("/api/v1/allocation/retry", json={"sku": SKU}).json()
    assert [(i["order_id"], i["outcome"]) for i in by_sku["items"]] == \
        [(o1, "allocated"), (o2, "allocated"), (o4, "out_of_stock")]
    assert by_sku["allocated"] == 2 and by_sku["still_short"] == 1
    bad = api.post("/api/v1/allocation/retry", json={"sku": SKU, "order_ids": [o1]})
    assert bad.status_code == 422


def test_concurrent_retries_never_oversell(api: Any, hub: Hub) -> None:
    """Six people retry six held one-unit orders at once with two units in stock: exactly two
    are allocated (on PostgreSQL the retries really overlap: each reads two available)."""
    assert api.put("/api/v1/inventory/sources/NB", json=NB).status_code == 200
    set_level(api, 0, "wms-0")
    ids = [held_order(api, hub, f"C{n}", 1, n) for n in range(6)]
    with hub.db.write() as conn:  # stock without a report: nothing wakes the retry
        conn.execute(t.inventory_levels.update().values(on_hand=2))
    barrier = threading.Barrier(len(ids))
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def run(order_id: str) -> None:
        try:
            barrier.wait()
            outcomes.append(retry.retry_order(order_id, hub.uow, hub.clock).outcome)
        except BaseException as error:  # noqa: BLE001  (shown by the assert below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=(order_id,)) for order_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(outcomes) == ["allocated"] * 2 + ["out_of_stock"] * 4
    assert reserved(hub) == 2 and active_allocations(hub) == 2


def test_the_workbench_bulk_bar_retries_allocation(api: Any, hub: Hub,
                                                   four_held: list[str]) -> None:
    """The exceptions workbench's "retry allocation": the selected out-of-stock exceptions'
    orders are allocated again; what fits is allocated and its exception resolved, the rest
    stay held and open."""
    o1, o2, o3, o4 = four_held
    drain(hub)
    with hub.db.write() as conn:  # stock without a report: nothing wakes the retry by itself
        conn.execute(t.inventory_levels.update().values(on_hand=1))
    listed = api.get("/api/v1/exceptions", params={"kind": "out_of_stock"}).json()["items"]
    chosen = [i["id"] for i in listed if i["order_id"] in (o1, o3)]
    assert len(chosen) == 2
    body = {"action": "retry_allocation", "ids": chosen}
    preview = api.post("/api/v1/exceptions/bulk", json={**body, "preview": True}).json()
    assert preview["preview"]["orders"] == 2
    applied = api.post("/api/v1/exceptions/bulk", json={**body, "confirm": 2})
    assert applied.status_code == 200, applied.text
    drain(hub)
    assert state(api, o1) == ("allocated", [])
    assert state(api, o3) == ("paid", ["out_of_stock"])  # 2 wanted, nothing left
    still = {i["order_id"] for i in api.get("/api/v1/exceptions", params={
        "kind": "out_of_stock"}).json()["items"]}
    assert o1 not in still and {o2, o3, o4} <= still
    with hub.db.read() as conn:
        audited = sorted(r.order_id for r in conn.execute(
            sa.select(t.audit_log.c.order_id).where(t.audit_log.c.action == "allocation.retry")))
    assert audited == sorted([o1, o3])
