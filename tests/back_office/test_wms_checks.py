"""Lost WMS callbacks (services/wms_checks.py): the warehouse picked and packed an order but
its callbacks never came; half an hour after the carrier's scan the hub asks the WMS for the
outbound order and records what it missed as the WMS's own reports, once (a late callback is
then a duplicate); an order whose callbacks did come is not asked about; an order the WMS does
not know is left for people; a WMS outage is asked again later."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from back_office.conftest import WmsSimFeed, drain
from conftest import FakeClock, order_body
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.services.wms_checks import HttpWmsStatus, WmsChecker
from orderpilot.services.wms_outbound import OutboundPusher


def shipped(api: TestClient, hub: Hub, wms_sim: TestClient, ext: str, *,
            pushed: bool = True, told: tuple[str, ...] = ("wms.released",)) -> str:
    """A paid order pushed to the WMS, which released, picked and packed it; the hub heard of
    TOLD only; then the carrier's scan."""
    order_id: str = api.post("/api/v1/orders", json=order_body(ext)).json()["id"]
    assert api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "shopee",
        "occurred_at": "2026-11-26T10:01:00+08:00"}).status_code == 201
    drain(hub)
    if pushed:
        assert OutboundPusher(hub.uow, WmsSimFeed(wms_sim), hub.clock).run_once() == 1
        for minute, kind in ((10, "wms.released"), (40, "wms.picked"), (55, "wms.packed")):
            at = f"2026-11-26T10:{minute:02d}:00+08:00"
            r = wms_sim.post(f"/_sim/wms/outbound-orders/{order_id}/events",
                             json={"type": kind, "occurred_at": at})
            assert r.status_code == 201, r.text
            if kind in told:  # the callback that did come, with the WMS's own event id
                assert api.post(f"/api/v1/orders/{order_id}/events", json={
                    "type": kind, "source": "wms", "occurred_at": at,
                    "source_event_id": r.json()["event_id"]}).status_code == 201
    else:  # released by some other warehouse, as far as this WMS knows
        assert api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": "wms.released", "source": "wms",
            "occurred_at": "2026-11-26T10:10:00+08:00"}).status_code == 201
    assert api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "shipment.shipped", "source": "sf", "source_event_id": f"sf:{ext}",
        "occurred_at": "2026-11-26T12:00:00+08:00",
        "data": {"tracking_number": f"SF{ext}"}}).status_code == 201
    drain(hub)
    return order_id


def events(api: TestClient, order_id: str) -> list[tuple[str, str, str]]:
    return [(e["type"], e["source"], e["payload"].get("data", {}).get("recovered_by", ""))
            for e in api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
            if e["type"].startswith("wms.")]


def check_row(hub: Hub, order_id: str) -> tuple[str, str | None, int, int]:
    c = t.wms_checks.c
    with hub.db.read() as conn:
        row = conn.execute(sa.select(c.status, c.outcome, c.recovered, c.attempts)
                           .where(c.order_id == order_id)).one()
    return row.status, row.outcome, row.recovered, row.attempts


def look_ups(wms_sim: TestClient) -> int:
    return len(wms_sim.get("/_sim/wms/look-ups").json()["look_ups"])


def test_lost_callbacks_are_recovered_from_the_wms_once(api: TestClient, hub: Hub,
                                                        wms_sim: TestClient,
                                                        clock: FakeClock) -> None:
    order_id = shipped(api, hub, wms_sim, "CHK-1")
    checker = WmsChecker(hub.uow, HttpWmsStatus(WmsSimFeed(wms_sim)), hub.clock)
    assert checker.run_once() == 0  # a callback on its way has half an hour
    clock.advance(minutes=31)
    assert checker.run_once() == 1
    assert events(api, order_id) == [("wms.released", "wms", ""),
                                     ("wms.picked", "wms", "status_check"),
                                     ("wms.packed", "wms", "status_check")]
    assert check_row(hub, order_id) == ("done", "recovered", 2, 1)
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "shipped"
    # The lost callback turns up after all: a duplicate, nothing changes.
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "wms.picked", "source": "wms", "source_event_id": f"wms:wms.picked:{order_id}",
        "occurred_at": "2026-11-26T10:40:00+08:00"})
    assert r.status_code == 200 and r.json()["outcome"] == "duplicate", r.text
    clock.advance(hours=2)
    assert checker.run_once() == 0 and len(events(api, order_id)) == 3


def test_orders_whose_callbacks_came_or_that_the_wms_lacks_are_left_alone(
        api: TestClient, hub: Hub, wms_sim: TestClient, clock: FakeClock) -> None:
    told = shipped(api, hub, wms_sim, "CHK-2", told=("wms.released", "wms.picked",
                                                    "wms.packed"))
    unknown = shipped(api, hub, wms_sim, "CHK-3", pushed=False)
    checker = WmsChecker(hub.uow, HttpWmsStatus(WmsSimFeed(wms_sim)), hub.clock)
    clock.advance(minutes=31)
    assert checker.run_once() == 2
    assert check_row(hub, told) == ("done", "complete", 0, 1)
    assert look_ups(wms_sim) == 1  # only the order the WMS said nothing about was asked
    assert check_row(hub, unknown) == ("done", "unknown_at_wms", 0, 1)
    assert events(api, unknown) == [("wms.released", "wms", "")]  # nothing added


def test_a_wms_outage_is_asked_again_later(api: TestClient, hub: Hub, wms_sim: TestClient,
                                           clock: FakeClock) -> None:
    order_id = shipped(api, hub, wms_sim, "CHK-4")
    checker = WmsChecker(hub.uow, HttpWmsStatus(WmsSimFeed(wms_sim)), hub.clock)
    clock.advance(minutes=31)
    wms_sim.post("/_sim/wms/faults", json={"status": 503, "times": 1})
    assert checker.run_once() == 1
    assert check_row(hub, order_id) == ("due", None, 0, 1)
    assert checker.run_once() == 0  # waiting out the backoff
    clock.advance(minutes=6)
    assert checker.run_once() == 1
    assert check_row(hub, order_id) == ("done", "recovered", 2, 2)
