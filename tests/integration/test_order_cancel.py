"""A person cancels an order from the hub (docs/exceptions.md "Cancelling orders"): the
company's own order at once, with its stock released, its queued outbound order withdrawn and
its exceptions resolved; an order that shipped or that the WMS has is refused with the reason;
the workbench's bulk cancel says how many orders it touches and cancels them all or none. On
SQLite and PostgreSQL. (A channel order is cancelled at its platform:
tests/channels/test_shopee_cancel.py.)"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from conftest import order_body
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub

NB = {"kind": "bonded_spot", "name_zh": "宁波仓", "name_en": "Ningbo", "region": "浙江省",
      "lead_time_days": 1}


def drain(hub: Hub) -> None:
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():
        pass


def paid_order(api: Any, hub: Hub, ext: str, channel: str = "own_store") -> str:
    body = order_body(ext, channel=channel,
                      lines=[{"sku": "DIAPER-L", "quantity": 2, "unit_price": "10.00"}],
                      total="20.00")
    order_id: str = api.post("/api/v1/orders", json=body).json()["id"]
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": channel,
        "occurred_at": "2026-11-26T10:30:00+08:00"})
    assert r.status_code == 201, r.text
    drain(hub)
    return order_id


def stock(api: Any, on_hand: int) -> None:
    assert api.put("/api/v1/inventory/sources/NB", json=NB).status_code == 200
    r = api.put("/api/v1/inventory/levels", json={"source_event_id": f"count-{on_hand}",
                                                   "levels": [{"source": "NB", "sku": "DIAPER-L",
                                                               "on_hand": on_hand}]})
    assert r.status_code == 200, r.text


def reserved(hub: Hub) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(
            t.inventory_levels.c.reserved), 0))).scalar_one())


def outbound(hub: Hub, order_id: str) -> str | None:
    with hub.db.read() as conn:
        return conn.execute(sa.select(t.wms_outbound.c.status).where(
            t.wms_outbound.c.order_id == order_id)).scalar()


def exceptions_of(hub: Hub, order_id: str) -> list[tuple[str, str, str]]:
    e = t.exceptions.c
    with hub.db.read() as conn:
        return sorted((r.reason, r.status, r.resolution or "") for r in conn.execute(
            sa.select(e.reason, e.status, e.resolution).where(e.order_id == order_id)))


def test_an_own_order_is_cancelled_at_once_its_stock_and_outbound_given_back(
        api: Any, hub: Hub, tokens: dict[str, str]) -> None:
    stock(api, 10)
    order_id = paid_order(api, hub, "OWN-1")
    assert reserved(hub) == 2 and outbound(hub, order_id) == "due"
    r = api.post(f"/api/v1/orders/{order_id}/cancel",
                 json={"reason": "customer_request", "note": "买家来电取消"})
    assert r.status_code == 200, r.text
    assert r.json() == {"order_id": order_id, "outcome": "cancelled", "through": None,
                        "status": "cancelled"}
    drain(hub)
    assert reserved(hub) == 0
    assert outbound(hub, order_id) == "withdrawn"  # never sent to the WMS
    timeline = api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
    cancelled = [e for e in timeline if e["type"] == "order.cancelled"]
    assert len(cancelled) == 1 and cancelled[0]["source"] == "hub", cancelled
    assert cancelled[0]["payload"]["data"]["reason"] == "customer_request"
    again = api.post(f"/api/v1/orders/{order_id}/cancel", json={"reason": "customer_request"})
    assert again.status_code == 200 and again.json()["outcome"] == "already"
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    trail = api.get("/api/v1/audit-log", params={"action": "order.cancel"},
                    headers=admin).json()["items"]
    assert len(trail) == 1 and trail[0]["order_id"] == order_id
    assert trail[0]["before"] == {"status": "allocated"}
    assert trail[0]["after"]["outcome"] == "cancelled"


def test_orders_that_cannot_be_cancelled_are_refused_with_the_reason_and_left_alone(
        api: Any, hub: Hub, tokens: dict[str, str]) -> None:
    stock(api, 10)
    shipped = paid_order(api, hub, "OWN-2")
    for type_, source in (("wms.released", "wms"), ("shipment.shipped", "sf")):
        assert api.post(f"/api/v1/orders/{shipped}/events", json={
            "type": type_, "source": source,
            "occurred_at": "2026-11-26T12:00:00+08:00"}).status_code == 201
    r = api.post(f"/api/v1/orders/{shipped}/cancel", json={"reason": "customer_request"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "order_not_cancellable", r.text
    assert "open a return" in r.json()["error"]["message"]
    at_wms = paid_order(api, hub, "OWN-3")
    with hub.db.write() as conn:  # the pusher sent it to the WMS
        conn.execute(t.wms_outbound.update().where(t.wms_outbound.c.order_id == at_wms)
                     .values(status="sent"))
    r = api.post(f"/api/v1/orders/{at_wms}/cancel", json={"reason": "out_of_stock"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "in_warehouse", r.text
    assert api.get(f"/api/v1/orders/{at_wms}").json()["status"] == "allocated"
    bad = {"reason": "changed_mind"}, {"reason": "other"}, {"reason": ""}
    for body in bad:
        r = api.post(f"/api/v1/orders/{at_wms}/cancel", json=body)
        assert r.status_code == 422 and r.json()["error"]["field"] in ("reason", "note"), r.text
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert api.post(f"/api/v1/orders/{at_wms}/cancel", json={"reason": "out_of_stock"},
                    headers=viewer).status_code == 403
    assert api.post("/api/v1/orders/nope/cancel",
                    json={"reason": "out_of_stock"}).status_code == 404
    assert reserved(hub) == 2  # the unshipped order keeps its stock (the shipped one used it)


def test_bulk_cancel_from_the_workbench_confirms_the_count_and_resolves_the_exceptions(
        api: Any, hub: Hub) -> None:
    stock(api, 0)
    ids = [paid_order(api, hub, f"OOS-{i}") for i in range(3)]
    queue = api.get("/api/v1/exceptions", params={"reason": "out_of_stock"}).json()["items"]
    picked = [x["id"] for x in queue if x["order_id"] in ids[:2]]
    assert len(picked) == 2
    preview = api.post("/api/v1/exceptions/bulk", json={
        "action": "cancel", "ids": picked, "preview": True}).json()["preview"]
    assert preview["orders"] == 2
    no_reason = api.post("/api/v1/exceptions/bulk", json={
        "action": "cancel", "ids": picked, "confirm": 2})
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    done = api.post("/api/v1/exceptions/bulk", json={
        "action": "cancel", "ids": picked, "confirm": 2, "reason": "out_of_stock",
        "note": "停产"})
    assert done.status_code == 200, done.text
    assert done.json()["changed"] == 2
    drain(hub)
    for order_id in ids[:2]:
        assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "cancelled"
        assert exceptions_of(hub, order_id) == [("out_of_stock", "resolved", "cancelled")]
    assert api.get(f"/api/v1/orders/{ids[2]}").json()["status"] == "paid"
    assert exceptions_of(hub, ids[2])[0][1] in ("open", "decision_required")


def test_one_order_that_cannot_be_cancelled_refuses_the_whole_bulk_cancel(
        api: Any, hub: Hub) -> None:
    stock(api, 10)
    ids = [paid_order(api, hub, f"HELD-{i}") for i in range(2)]
    for order_id in ids:
        assert api.post(f"/api/v1/orders/{order_id}/holds",
                        json={"reason": "address_unverified"}).status_code == 201
    drain(hub)
    with hub.db.write() as conn:  # the WMS has the second one already
        conn.execute(t.wms_outbound.update().where(t.wms_outbound.c.order_id == ids[1])
                     .values(status="sent"))
    queue = api.get("/api/v1/exceptions", params={"reason": "address_unverified"}).json()
    picked = [x["id"] for x in queue["items"]]
    r = api.post("/api/v1/exceptions/bulk", json={
        "action": "cancel", "ids": picked, "confirm": 2, "reason": "undeliverable"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "in_warehouse", r.text
    assert ids[1] in r.json()["error"]["message"]
    for order_id in ids:  # all or none
        assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "allocated"
    assert outbound(hub, ids[0]) == "due"


class _Wms:
    """A WMS that records what it is sent."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def http_call(self, method: str, url: str | None = None, *, connector: str | None = None,
                  path: str = "", json_body: Any = None, idempotency_key: str) -> Any:
        self.sent.append(json_body["order_id"])

        class Answer:
            response = {"status": "accepted"}

        return Answer()


def test_an_order_its_platform_cancelled_is_never_pushed_to_the_wms(api: Any,
                                                                    hub: Hub) -> None:
    from orderpilot.services.wms_outbound import OutboundPusher

    stock(api, 10)
    kept, gone = paid_order(api, hub, "KEEP-1"), paid_order(api, hub, "GONE-1")
    assert api.post(f"/api/v1/orders/{gone}/holds",
                    json={"reason": "address_unverified"}).status_code == 201
    r = api.post(f"/api/v1/orders/{gone}/events", json={
        "type": "order.cancelled", "source": "own_store",
        "occurred_at": "2026-11-26T11:00:00+08:00"})
    assert r.status_code == 201, r.text
    drain(hub)  # the stock released, the hold's exception resolved as cancelled
    wms = _Wms()
    OutboundPusher(hub.uow, wms, hub.clock).run_once()
    assert wms.sent == [kept]
    assert outbound(hub, gone) == "withdrawn" and outbound(hub, kept) == "sent"
    assert exceptions_of(hub, gone) == [("address_unverified", "resolved", "cancelled")]
    assert reserved(hub) == 2
