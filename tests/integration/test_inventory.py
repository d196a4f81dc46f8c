"""Multi-source inventory through the API and the dispatcher, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from conftest import FakeClock, order_body
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.services.inventory import allocation as inventory

SOURCES = {
    "NB": {"kind": "bonded_spot", "name_zh": "宁波仓", "name_en": "Ningbo", "region": "浙江省",
           "lead_time_days": 1, "low_threshold": 2},
    "HZ": {"kind": "domestic_transfer", "name_zh": "杭州仓", "name_en": "Hangzhou",
           "region": "浙江省", "lead_time_days": 2, "reservation_ttl_hours": 1},
    "LA": {"kind": "in_transit", "name_zh": "洛杉矶仓", "name_en": "Los Angeles",
           "region": "US", "lead_time_days": 20, "sync_schedule": "daily_0200"},
}


def setup_stock(api: Any, nb: int = 3, hz: int = 2, la: int = 50, ref: str = "wms-1") -> None:
    for code, body in SOURCES.items():
        assert api.put(f"/api/v1/inventory/sources/{code}", json=body).status_code == 200
    r = api.put("/api/v1/inventory/levels", json={"source_event_id": ref, "levels": [
        {"source": "NB", "sku": "DIAPER-L", "on_hand": nb, "as_of": "2026-11-26T09:00:00+08:00"},
        {"source": "HZ", "sku": "DIAPER-L", "on_hand": hz, "as_of": "2026-11-26T09:00:00+08:00"},
        {"source": "LA", "sku": "DIAPER-L", "on_hand": la, "expected_at": "2026-12-20"}]})
    assert r.status_code == 200, r.text


def place_and_pay(api: Any, hub: Hub, ext: str, quantity: int = 1) -> str:
    body = order_body(ext, lines=[{"sku": "DIAPER-L", "quantity": quantity,
                                   "unit_price": "129.00"}], total=f"{129 * quantity}.00")
    order_id: str = api.post("/api/v1/orders", json=body).json()["id"]
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "shopee",
        "occurred_at": "2026-11-26T10:01:00+08:00"})
    assert r.status_code == 201, r.text
    drain(hub)
    return order_id


def drain(hub: Hub) -> None:
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():
        pass


def levels(api: Any) -> dict[str, dict[str, Any]]:
    items = api.get("/api/v1/inventory/levels", params={"sku": "DIAPER-L"}).json()["items"]
    return {i["source"]: i for i in items}


def events_of_type(hub: Hub, type_: str) -> list[Any]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.events).where(t.events.c.type == type_)
                                 .order_by(t.events.c.seq)))


def test_payment_allocates_bonded_spot_first_and_the_order_shows_it(api: Any, hub: Hub) -> None:
    setup_stock(api)
    order_id = place_and_pay(api, hub, "A1", 2)
    detail = api.get(f"/api/v1/orders/{order_id}").json()
    assert detail["status"] == "allocated"
    assert [(a["source"], a["quantity"], a["reserved_until"]) for a in detail["allocations"]] \
        == [("NB", 2, None)]
    assert levels(api)["NB"]["available"] == 1
    low = events_of_type(hub, "inventory.low")
    assert [(e.order_id, e.payload["sku"], e.payload["available"]) for e in low] == \
        [(None, "DIAPER-L", 1)]


def test_the_promise_agrees_with_the_allocation(api: Any, hub: Hub) -> None:
    setup_stock(api, nb=1, hz=5)
    promised = api.get("/api/v1/availability", params={"sku": "DIAPER-L", "quantity": 2}).json()
    assert promised["sellable"] and promised["source"] == "HZ"
    assert promised["promise"] == {"zh": "杭州仓调拨中,预计后日达",
                                   "en": "Transferring from Hangzhou, expected the day after "
                                         "tomorrow", "date": "2026-11-28"}
    order_id = place_and_pay(api, hub, "P1", 2)
    allocations = api.get(f"/api/v1/orders/{order_id}").json()["allocations"]
    assert [(a["source"], a["quantity"]) for a in allocations] == [("HZ", 2)]
    assert allocations[0]["reserved_until"] == "2026-11-26T03:00:00+00:00"


def test_out_of_stock_is_an_explicit_hold_never_silent(api: Any, hub: Hub) -> None:
    setup_stock(api, nb=1, hz=1)
    order_id = place_and_pay(api, hub, "O1", 3)
    detail = api.get(f"/api/v1/orders/{order_id}").json()
    assert detail["hold_reasons"] == ["out_of_stock"] and detail["allocations"] == []
    answer = api.get("/api/v1/availability", params={"sku": "DIAPER-L", "quantity": 3}).json()
    assert answer["sellable"] is False
    assert answer["promise"]["zh"] == "海外在途,预计 2026-12-20 到货,暂不可售"


def test_cancellation_gives_the_stock_back(api: Any, hub: Hub) -> None:
    setup_stock(api)
    order_id = place_and_pay(api, hub, "C1", 3)
    assert levels(api)["NB"]["available"] == 0
    api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "order.cancelled", "source": "shopee", "occurred_at": "2026-11-26T10:05:00+08:00"})
    drain(hub)
    assert levels(api)["NB"]["available"] == 3
    assert [a["status"] for a in api.get(f"/api/v1/orders/{order_id}").json()["allocations"]] \
        == ["released"]


def test_allocation_is_a_no_op_the_second_time(api: Any, hub: Hub) -> None:
    setup_stock(api)
    order_id = place_and_pay(api, hub, "I1", 1)
    again = inventory.allocate_order(order_id, hub.uow, hub.clock)
    assert again.outcome == "already_allocated"
    assert levels(api)["NB"]["reserved"] == 1


def test_an_expired_transfer_reservation_is_released_and_redone(api: Any, hub: Hub,
                                                               clock: FakeClock) -> None:
    setup_stock(api, nb=0, hz=2)
    order_id = place_and_pay(api, hub, "T1", 2)
    assert levels(api)["HZ"]["available"] == 0
    clock.advance(minutes=61)
    # Checked on read: the stock is free again before any timer has run.
    assert levels(api)["HZ"]["available"] == 2
    drain(hub)  # the timer fires: release, event, allocate again
    allocations = api.get(f"/api/v1/orders/{order_id}").json()["allocations"]
    assert [a["status"] for a in allocations] == ["expired", "active"]
    assert levels(api)["HZ"]["available"] == 0
    assert len(events_of_type(hub, "inventory.reservation_expired")) == 1


def test_an_expired_reservation_with_the_stock_gone_puts_the_order_on_hold(
        api: Any, hub: Hub, clock: FakeClock) -> None:
    setup_stock(api, nb=0, hz=2)
    order_id = place_and_pay(api, hub, "T2", 2)
    clock.advance(minutes=61)
    api.put("/api/v1/inventory/levels", json={"source_event_id": "wms-2", "levels": [
        {"source": "HZ", "sku": "DIAPER-L", "on_hand": 1}]})
    drain(hub)
    assert api.get(f"/api/v1/orders/{order_id}").json()["hold_reasons"] == ["out_of_stock"]


def test_released_to_the_warehouse_the_reservation_stops_running_out(
        api: Any, hub: Hub, clock: FakeClock) -> None:
    setup_stock(api, nb=0, hz=2)
    order_id = place_and_pay(api, hub, "W1", 1)
    api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "wms.released", "source": "wms", "occurred_at": "2026-11-26T10:10:00+08:00"})
    drain(hub)
    clock.advance(hours=3)
    drain(hub)
    allocations = api.get(f"/api/v1/orders/{order_id}").json()["allocations"]
    assert [(a["status"], a["reserved_until"]) for a in allocations] == [("active", None)]
    assert levels(api)["HZ"]["available"] == 1


def test_sweeper_repairs_a_drifted_counter(api: Any, hub: Hub) -> None:
    setup_stock(api)
    place_and_pay(api, hub, "S1", 1)
    with hub.db.write() as conn:
        conn.execute(t.inventory_levels.update().where(t.inventory_levels.c.source == "NB")
                     .values(reserved=7))
    result = inventory.sweep(hub.uow, hub.clock)
    assert result["repaired"] == [{"source": "NB", "sku": "DIAPER-L", "was": 7, "now": 1}]
    assert levels(api)["NB"]["reserved"] == 1
