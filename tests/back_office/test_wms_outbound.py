"""WMS outbound orders: a paid order (no stock sources, so nothing allocates it) is pushed to
the WMS once, outside any transaction; a repeat is one outbound order at the WMS; a WMS
outage is retried with backoff."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient

from back_office.conftest import SQLITE_ONLY, WmsSimFeed, drain
from conftest import order_body
from orderpilot.bootstrap import Hub
from orderpilot.domain.errors import TransientError
from orderpilot.services.wms_outbound import OutboundPusher, PusherSettings


def paid_order(api: TestClient, hub: Hub, ext: str) -> str:
    order_id: str = api.post("/api/v1/orders", json=order_body(ext)).json()["id"]
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "shopee",
        "occurred_at": "2026-11-26T10:01:00+08:00"})
    assert r.status_code == 201, r.text
    drain(hub)
    return order_id


def outbound(wms_sim: TestClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = wms_sim.get("/_sim/wms/outbound-orders").json()[
        "outbound_orders"]
    return found


def test_a_paid_order_is_pushed_once_with_its_lines(api: TestClient, hub: Hub,
                                                    wms_sim: TestClient) -> None:
    order_id = paid_order(api, hub, "WMS-1")
    pusher = OutboundPusher(hub.uow, WmsSimFeed(wms_sim), hub.clock)
    assert pusher.run_once() == 1
    assert pusher.run_once() == 0  # sent: not again
    [sent] = outbound(wms_sim)
    assert sent["order_id"] == order_id and sent["status"] == "accepted"
    assert sent["body"]["lines"] == [{"line_no": 1, "sku": "DIAPER-L", "quantity": 2,
                                      "name": ""}]
    assert sent["body"]["ship_to"]["city"] == "宁波市"
    with hub.uow() as uow:
        row = uow.wms_outbound.status(order_id)
    assert row is not None and row["status"] == "sent"
    assert row["answer"]["outbound_id"] == sent["outbound_id"]


@SQLITE_ONLY
def test_a_repeated_push_is_one_outbound_order(api: TestClient, hub: Hub,
                                               wms_sim: TestClient) -> None:
    order_id = paid_order(api, hub, "WMS-2")
    pusher = OutboundPusher(hub.uow, WmsSimFeed(wms_sim), hub.clock)
    pusher.push(order_id, 0)
    pusher.push(order_id, 1)  # sent again, as after a crash between the call and the mark
    assert [o["order_id"] for o in outbound(wms_sim)] == [order_id]
    with hub.uow() as uow:
        row = uow.wms_outbound.status(order_id)
        assert uow.wms_outbound.make_due(order_id, hub.clock()) is False  # queued once
    [sent] = outbound(wms_sim)
    assert row is not None and row["answer"]["outbound_id"] == sent["outbound_id"]
    other_key = wms_sim.post("/wms/api/outbound-orders", json=sent["body"],
                             headers={"Idempotency-Key": "another-key"})
    assert other_key.json() == {**row["answer"], "duplicate": True}  # one per order id
    assert len(outbound(wms_sim)) == 1
    assert pusher.run_once() == 0


@SQLITE_ONLY
def test_a_wms_outage_is_retried_with_backoff(api: TestClient, hub: Hub, wms_sim: TestClient,
                                              clock: Any) -> None:
    order_id = paid_order(api, hub, "WMS-3")
    wms_sim.post("/_sim/wms/faults", json={"status": 503, "times": 1})
    pusher = OutboundPusher(hub.uow, WmsSimFeed(wms_sim), hub.clock)
    assert pusher.run_once() == 1 and outbound(wms_sim) == []
    assert pusher.run_once() == 0  # waiting out the backoff
    clock.advance(seconds=31)
    assert pusher.run_once() == 1
    assert [o["order_id"] for o in outbound(wms_sim)] == [order_id]
    with hub.uow() as uow:
        row = uow.wms_outbound.status(order_id)
    assert row is not None and (row["status"], row["attempts"]) == ("sent", 2)


class SlowWms:
    """A WMS that answers only once ``together`` pushes are waiting at once (a barrier):
    pushes sent one after another would each time out instead."""

    def __init__(self, together: int) -> None:
        self.barrier = threading.Barrier(together, timeout=10)
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def http_call(self, method: str, url: str | None = None, *, connector: str | None = None,
                  path: str = "", json_body: Any = None, idempotency_key: str) -> Any:
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError as error:
            raise TransientError("the WMS did not answer") from error
        with self.lock:
            self.sent.append(json_body["order_id"])
        return type("Answer", (), {"response": {"outbound_id": f"OB-{json_body['order_id']}",
                                                "status": "accepted"}})()


@SQLITE_ONLY
def test_a_slow_wms_gets_a_batch_of_outbound_orders_at_once(api: TestClient, hub: Hub) -> None:
    """One at a time, a WMS answering in 100 ms capped the pusher at 10 orders a second;
    a batch is now sent several at once, each order still exactly once."""
    orders = [paid_order(api, hub, f"WMS-SLOW-{i}") for i in range(8)]
    wms = SlowWms(together=4)
    pusher = OutboundPusher(hub.uow, wms, hub.clock, PusherSettings(concurrency=4))
    assert pusher.run_once() == 8
    assert sorted(wms.sent) == sorted(orders)  # two rounds of four, none timed out
    assert pusher.run_once() == 0
    with hub.uow() as uow:
        assert all(row is not None and row["status"] == "sent"
                   for row in (uow.wms_outbound.status(o) for o in orders))
