"""The public order API on SQLite and on PostgreSQL (the same tests run on both)."""

from __future__ import annotations

import threading
from typing import Any

from conftest import order_body


def count_orders(api: Any) -> int:
    return len(api.get("/api/v1/orders", params={"limit": 500}).json()["items"])


def test_new_order_is_placed_with_bonded_zone_flag(api: Any) -> None:
    r = api.post("/api/v1/orders", json=order_body(), headers={"Idempotency-Key": "k-1"})
    assert r.status_code == 201
    order = r.json()
    assert order["status"] == "placed" and order["id"]
    assert order["total"] == "258.00"
    assert order["shipping_address"]["flags"] == ["bonded_zone"]
    assert order["raw_payloads"][0]["payload"]["external_id"] == "230101ABC"
    fetched = api.get(f"/api/v1/orders/{order['id']}").json()
    assert fetched["lines"][0] == {"line_no": 1, "sku": "DIAPER-L", "name": "", "quantity": 2,
                                   "unit_price": "129.00", "discount": "0.00",
                                   "cancelled_quantity": 0}
    assert fetched["holds"] == [] and fetched["status"] == "placed"


def test_the_same_order_twice_is_one_order(api: Any) -> None:
    first = api.post("/api/v1/orders", json=order_body(), headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/v1/orders", json=order_body(), headers={"Idempotency-Key": "k-1"})
    other_key = api.post("/api/v1/orders", json=order_body(), headers={"Idempotency-Key": "k-2"})
    no_key = api.post("/api/v1/orders", json=order_body())
    assert first.status_code == 201
    assert {again.status_code, other_key.status_code, no_key.status_code} == {200}
    assert {again.json()["id"], other_key.json()["id"], no_key.json()["id"]} == {
        first.json()["id"]}
    assert count_orders(api) == 1


def test_reusing_a_key_for_another_order_is_a_conflict(api: Any) -> None:
    api.post("/api/v1/orders", json=order_body("A1"), headers={"Idempotency-Key": "k-1"})
    r = api.post("/api/v1/orders", json=order_body("A2"), headers={"Idempotency-Key": "k-1"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "idempotency_key_reused"
    assert count_orders(api) == 1


def test_concurrent_duplicates_make_one_order(api: Any) -> None:
    results: list[int] = []

    def post(i: int) -> None:
        r = api.post("/api/v1/orders", json=order_body("RACE-1"),
                     headers={"Idempotency-Key": f"race-{i}"})
        results.append(r.status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] * 7 + [201]
    assert count_orders(api) == 1


def test_bad_input_is_a_422_naming_the_field_and_is_quarantined(api: Any) -> None:
    bad = order_body(lines=[{"sku": "DIAPER-L", "quantity": 2, "unit_price": 129.0}],
                     total="258.00")
    r = api.post("/api/v1/orders", json=bad)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "lines[0].unit_price"
    r = api.post("/api/v1/orders", json=order_body(total="1.00"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "total"
    assert "does not match" in r.json()["error"]["message"]
    r = api.post("/api/v1/orders", content=b'{"channel": ', headers={
        "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_json"
    assert count_orders(api) == 0
    kept = api.get("/api/v1/quarantine").json()["items"]
    assert len(kept) == 3
    assert {k["field"] for k in kept} == {"lines[0].unit_price", "total", "body"}
    assert kept[-1]["payload"].startswith("{") and kept[-1]["source"] == "shopee"


def test_reports_advance_the_lifecycle_and_update_system_views(api: Any) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "youzan", "source_event_id": "p-1",
        "occurred_at": "2026-11-26T10:01:00+08:00", "data": {"amount": "258.00"}})
    assert r.status_code == 201 and r.json() == {**r.json(), "outcome": "moved",
                                                  "status": "paid"}
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "erp.booked", "source": "kingdee", "source_event_id": "erp-9",
        "occurred_at": "2026-11-26T10:13:00+08:00"})
    assert r.json()["status"] == "erp_booked"
    order = api.get(f"/api/v1/orders/{order_id}").json()
    assert order["system_views"]["storefront"]["status"] == "paid"
    erp = order["system_views"]["erp"]
    assert erp["status"] == "erp_booked" and erp["occurred_at"].startswith("2026-11-26T02:13")
    assert erp["received_at"]  # both clocks on every view


def test_the_same_report_twice_is_recorded_once(api: Any) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    report = {"type": "payment.succeeded", "source": "youzan", "source_event_id": "p-1",
              "occurred_at": "2026-11-26T10:01:00+08:00"}
    first = api.post(f"/api/v1/orders/{order_id}/events", json=report)
    second = api.post(f"/api/v1/orders/{order_id}/events", json=report)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["event_id"] == first.json()["event_id"]
    types = [e["type"] for e in api.get(f"/api/v1/orders/{order_id}/events").json()["items"]]
    assert types == ["order.placed", "payment.succeeded"]


def test_shipped_before_paid_is_refused_and_changes_nothing(api: Any) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "shipment.shipped", "source": "sf", "source_event_id": "s-1",
        "occurred_at": "2026-11-26T10:01:00+08:00"})
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "illegal_transition"
    assert "Placed" in error["message"] and "Shipped" in error["message"]
    order = api.get(f"/api/v1/orders/{order_id}").json()
    assert order["status"] == "placed" and order["system_views"] == {}
    assert len(api.get(f"/api/v1/orders/{order_id}/events").json()["items"]) == 1


def test_timeline_keeps_occurred_and_recorded_times(api: Any) -> None:
    order_id = api.post("/api/v1/orders", json=order_body(),
                        headers={"X-Correlation-Id": "live-0611"}).json()["id"]
    api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "system.status", "source": "crm", "source_event_id": "c-1",
        "occurred_at": "2026-11-25T09:00:00+08:00", "data": {"status": "VIP"}})
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
    crm = events[-1]
    assert events[0]["correlation_id"] == "live-0611"
    assert crm["system"] == "crm" and crm["occurred_at"].startswith("2026-11-25T01:00")
    assert crm["recorded_at"].startswith("2026-11-26T02:00")
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "placed"


def test_holds_block_release_to_warehouse_until_all_are_released(api: Any) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "shopee", "occurred_at": "2026-11-26T10:01:00Z"})
    a = api.post(f"/api/v1/orders/{order_id}/holds",
                 json={"reason": "address_incomplete", "note": "缺门牌号"}).json()
    b = api.post(f"/api/v1/orders/{order_id}/holds", json={"reason": "fraud_check"}).json()
    release = {"type": "wms.released", "source": "wms", "occurred_at": "2026-11-26T10:05:00Z"}
    refused = api.post(f"/api/v1/orders/{order_id}/events", json=release)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "order_on_hold"
    released = api.request("DELETE", f"/api/v1/orders/{order_id}/holds/{a['id']}",
                           json={"reason": "verified_with_buyer"})
    assert released.status_code == 200 and released.json()["released_at"]
    order = api.get(f"/api/v1/orders/{order_id}").json()
    assert order["held"] and order["hold_reasons"] == ["fraud_check"]
    assert {h["id"]: h["released_at"] is None for h in order["holds"]} == {
        a["id"]: False, b["id"]: True}
    assert api.post(f"/api/v1/orders/{order_id}/events", json=release).status_code == 409
    api.request("DELETE", f"/api/v1/orders/{order_id}/holds/{b['id']}",
                json={"reason": "false_alarm"})
    assert api.post(f"/api/v1/orders/{order_id}/events", json=release).json()["status"] == \
        "released_to_wms"


def test_list_filters_and_cursor_pages_are_stable(api: Any) -> None:
    ids = [api.post("/api/v1/orders", json=order_body(f"E{i}", channel=ch)).json()["id"]
           for i, ch in enumerate(["shopee", "lazada"] * 4)]
    api.post(f"/api/v1/orders/{ids[0]}/holds", json={"reason": "fraud_check"})
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/api/v1/orders", params=params).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    lazada = api.get("/api/v1/orders", params={"channel": "lazada"}).json()["items"]
    assert len(lazada) == 4 and {o["channel"] for o in lazada} == {"lazada"}
    held = api.get("/api/v1/orders", params={"held": "true"}).json()["items"]
    assert [o["id"] for o in held] == [ids[0]] and held[0]["hold_reasons"] == ["fraud_check"]
    assert api.get("/api/v1/orders", params={"q": "E3"}).json()["items"][0]["id"] == ids[3]
    bad = api.get("/api/v1/orders", params={"cursor": "nonsense"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"
    assert api.get("/api/v1/orders", params={"status": "flying"}).status_code == 422


def test_tokens_and_roles(api: Any, tokens: dict[str, str]) -> None:
    bare = {"Authorization": ""}
    assert api.get("/api/v1/orders", headers=bare).status_code == 401
    assert api.get("/api/v1/orders", headers={"Authorization": "Bearer nope"}).status_code == 401
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert api.get("/api/v1/orders", headers=viewer).status_code == 200
    r = api.post("/api/v1/orders", json=order_body(), headers=viewer)
    assert r.status_code == 403 and "viewer" in r.json()["error"]["message"]
    assert count_orders(api) == 0
    assert api.get("/healthz", headers=bare).status_code == 200
    assert api.get("/metrics", headers=bare).status_code == 401
    assert "orderpilot_orders_placed_total" in api.get("/metrics").text


def test_unknown_order_is_404(api: Any) -> None:
    r = api.get("/api/v1/orders/does-not-exist")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api.post("/api/v1/orders/does-not-exist/events", json={
        "type": "payment.succeeded", "source": "shopee", "occurred_at": "2026-11-26T10:01:00Z"})
    assert r.status_code == 404
