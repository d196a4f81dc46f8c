"""The facts the returns metrics read off the records (migration 0022), written by the paths
that make them, on SQLite and PostgreSQL: each step's first time on the return (the moves, a
client's own report naming the return, the SF booking), the reason tag rows, and the route's
typed-address baseline (routing, a person's centre, a centre's address edited)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import FakeClock, order_body
from integration.rules_support import settle
from orderpilot.adapters import tables as t
from orderpilot.adapters.tables_returns import return_reason_tags
from orderpilot.bootstrap import Hub
from returns.routing_support import TYPED, YIWU, set_up_policy, shipped_order

PERIOD = {"since": "2026-11-01", "until": "2026-12-31"}


def _row(hub: Hub, table: sa.Table, key: sa.Column[Any], value: str) -> Any:
    with hub.db.read() as conn:
        return conn.execute(sa.select(table).where(key == value)).one()


def _first_event(hub: Hub, return_id: str, kind: str) -> datetime:
    with hub.db.read() as conn:
        times = [e.occurred_at for e in conn.execute(
            sa.select(t.events).where(t.events.c.type == kind))
            if (e.payload.get("data") or {}).get("return_id") == return_id]
    return min(times)


def _same(a: datetime | None, b: datetime) -> bool:
    return a is not None and abs((a if a.tzinfo else a.replace(tzinfo=b.tzinfo)) - b) < \
        timedelta(milliseconds=1)


def test_moves_and_a_clients_report_keep_each_steps_first_time(
        api: Any, hub: Hub, tokens: dict[str, str], clock: FakeClock) -> None:
    order_id = api.post("/api/v1/orders", json=order_body("MF-1")).json()["id"]
    for n, (kind, source) in enumerate((("payment.succeeded", "shopee"),
                                        ("wms.released", "wms"), ("shipment.shipped", "sf"))):
        assert api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": kind, "source": source, "source_event_id": f"MF-1-{n}",
            "occurred_at": "2026-11-26T10:05:00+08:00"}).status_code in (200, 201)
    sku = order_body("MF-1")["lines"][0]["sku"]
    taken = api.post(f"/api/v1/orders/{order_id}/returns", json={
        "lines": [{"sku": sku, "quantity": 1}],
        "reason_tags": ["wrong_size", "quality_issue", "wrong_size"]})
    assert taken.status_code == 201, taken.text
    rid = taken.json()["id"]
    requested = clock.now
    for step, hours in (("approve", 1), ("in-transit", 2), ("received", 3)):
        clock.advance(hours=hours)
        assert api.post(f"/api/v1/returns/{rid}/{step}", json={}).status_code == 200
    received = clock.now
    ret = _row(hub, t.returns, t.returns.c.id, rid)
    assert _same(ret.received_at, received) and ret.pickup_booked_at is None
    assert ret.refunded_at is None

    # the warehouse's own report naming the return, earlier than the hub's move: it is first
    earlier = requested + timedelta(hours=4)
    assert api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "return.received", "source": "wms", "source_event_id": "WMS-RCV-1",
        "occurred_at": earlier.isoformat(), "data": {"return_id": rid}}).status_code in (
            200, 201)
    # and a later one changes nothing
    assert api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "return.received", "source": "wms", "source_event_id": "WMS-RCV-2",
        "occurred_at": (received + timedelta(hours=9)).isoformat(),
        "data": {"return_id": rid}}).status_code in (200, 201)
    assert _same(_row(hub, t.returns, t.returns.c.id, rid).received_at, earlier)
    assert _same(earlier, _first_event(hub, rid, "return.received"))

    clock.advance(hours=1)
    assert api.post(f"/api/v1/returns/{rid}/inspect",
                    json={"lines": [{"sku": sku, "damaged": 1}]}).status_code == 200
    clock.advance(hours=2)
    finance = {"Authorization": f"Bearer {tokens['finance']}"}
    assert api.post(f"/api/v1/returns/{rid}/refund", json={}, headers=finance
                    ).status_code == 200
    ret = _row(hub, t.returns, t.returns.c.id, rid)
    assert _same(ret.refunded_at, clock.now)
    assert _same(ret.refunded_at, _first_event(hub, rid, "refund.succeeded"))

    with hub.db.read() as conn:
        tags = sorted(conn.execute(sa.select(return_reason_tags.c.tag).where(
            return_reason_tags.c.return_id == rid)).scalars())
    assert tags == ["quality_issue", "wrong_size"]
    answer = api.get("/api/v1/returns/metrics", params=PERIOD).json()
    hours = {s["step"]: (s["count"], s["p50"]) for s in answer["processing_hours"]}
    assert hours == {"pickup_booked": (0, None), "received": (1, 4.0), "refunded": (1, 9.0)}
    assert {r["tag"]: r["returns"] for r in answer["by_reason"]} == {
        "quality_issue": 1, "wrong_size": 1}


def _api_return(client: TestClient, order_id: str, name: str, typed: dict[str, str]) -> str:
    """A return record through the API (the routing rule then routes it)."""
    taken = client.post(f"/api/v1/orders/{order_id}/returns", json={
        "lines": [{"sku": "DIAPER-L", "quantity": 1}], "reason_tags": ["wrong_size"],
        "source": "shopee", "source_event_id": f"RR-{name}", "customer_address": typed})
    assert taken.status_code == 201, taken.text
    return str(taken.json()["id"])


def _route(hub: Hub, return_id: str) -> Any:
    return _row(hub, t.return_routes, t.return_routes.c.return_id, return_id)


def test_the_sf_booking_and_the_typed_baseline_are_kept_on_the_route(
        routing_hub: Hub, client: TestClient) -> None:
    set_up_policy(client)
    loose = YIWU["address"] | {"province": " 浙江省", "line1": "稠江街道 退货路８８号"}
    ids = []
    for name, phone, typed in (("MF-W", "13900000278", TYPED), ("MF-R", "13900000279", loose)):
        order_id = shipped_order(client, name, phone,
                                 {"carrier": "SF", "tracking_number": f"SF{name}",
                                  "outlet_code": "SF-0278"})
        ids.append(_api_return(client, order_id, name, typed))
        settle(routing_hub)
    wrong, right = ids
    assert (_route(routing_hub, wrong).typed_address_matched,
            _route(routing_hub, right).typed_address_matched) == (False, True)
    for rid in ids:  # the booking reported return.pickup_booked: its time is on the return
        booked = _row(routing_hub, t.returns, t.returns.c.id, rid).pickup_booked_at
        assert _same(booked, _first_event(routing_hub, rid, "return.pickup_booked"))
    baseline = client.get("/api/v1/returns/metrics", params=PERIOD).json()[
        "address_accuracy"]["typed_address_baseline"]
    assert (baseline["compared"], baseline["already_right"]) == (2, 1)

    # the centre moves to where the first buyer typed: the baselines follow its address
    moved = client.put("/api/v1/return-centres/YIWU", json=YIWU | {"address": TYPED})
    assert moved.status_code == 200, moved.text
    assert (_route(routing_hub, wrong).typed_address_matched,
            _route(routing_hub, right).typed_address_matched) == (True, False)
    # a name-only edit leaves them as they are
    renamed = client.put("/api/v1/return-centres/YIWU",
                         json=YIWU | {"address": TYPED, "name_en": "Yiwu (moved)"})
    assert renamed.status_code == 200, renamed.text
    assert _route(routing_hub, wrong).typed_address_matched is True


def test_a_person_picking_the_centre_decides_the_baseline(
        routing_hub: Hub, client: TestClient) -> None:
    set_up_policy(client)
    order_id = shipped_order(client, "MF-D", "13900000777",
                             {"carrier": "sf", "tracking_number": "SFMF-D",
                              "outlet_code": "SF-9999"})
    routing_hub.rules.install_template("return-route-decided", "ops", enable=True)
    rid = _api_return(client, order_id, "MF-D", YIWU["address"])
    settle(routing_hub)
    route = _route(routing_hub, rid)
    assert route.decision_required is True and route.typed_address_matched is None
    answer = client.post(f"/api/v1/returns/{rid}/route", json={"return_centre": "YIWU"})
    assert answer.status_code == 200, answer.text
    assert _route(routing_hub, rid).typed_address_matched is True
