"""Returns through the public API on SQLite and PostgreSQL: partial and second returns, refused
quantities and tags, replays, exact refunds with discounts, vouchers and shipping, restock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import order_body
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.services import ordering
from orderpilot.services.inventory import sync as inventory_sync

SHIPPED_AT = "2026-11-26T10:05:00+08:00"


def _event(api: Any, order_id: str, type_: str, source: str) -> None:
    r = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": type_, "source": source, "source_event_id": f"{order_id}:{type_}",
        "occurred_at": SHIPPED_AT})
    assert r.status_code in (200, 201), r.text


def ship(api: Any, order_id: str) -> None:
    for type_, source in (("payment.succeeded", "shopee"), ("wms.released", "wms"),
                          ("shipment.shipped", "sf")):
        _event(api, order_id, type_, source)


def voucher_order(hub: Hub) -> str:
    """A: 3 x 100.00 - 10.00 = 290.00, B: 1 x 50.00 = 50.00; shipping 12.00; voucher -20.00;
    total 332.00. Shares by paid amount (290:50): voucher -17.06 / -2.94 (largest remainder),
    shipping 10.24 / 1.76; so A totals 283.18 and B 48.82 (sum 332.00)."""
    placed = ordering.place_order(PlaceOrder(
        channel="shopee", shop_id="SG-01", external_id="V1",
        placed_at=datetime(2026, 11, 26, 1, 0, tzinfo=UTC), currency="CNY",
        customer_name="张三", customer_phone="13800000000",
        address={"country": "CN", "province": "浙江省", "city": "宁波市", "district": "北仑区",
                 "line1": "保税区港城大道1号", "postal_code": "315800"},
        lines=(LineInput("A", 3, "100.00", "", "10.00"), LineInput("B", 1, "50.00")),
        total="332.00", shipping_fee="12.00", adjustments=(("voucher", "-20.00"),)),
        hub.uow, hub.clock)
    return placed.order_id


def _return(api: Any, order_id: str, lines: list[tuple[str, int]], **extra: Any) -> Any:
    body = {"lines": [{"sku": s, "quantity": q} for s, q in lines],
            "reason_tags": ["quality_issue"], **extra}
    return api.post(f"/api/v1/orders/{order_id}/returns", json=body)


def test_partial_and_second_returns_up_to_what_shipped(api: Any, hub: Hub) -> None:
    order_id = voucher_order(hub)
    ship(api, order_id)
    first = _return(api, order_id, [("A", 2)], source="shopee", source_event_id="R-1")
    assert first.status_code == 201, first.text
    ret = first.json()
    assert (ret["status"], ret["lines"][0]["quantity"], ret["reason_tags"]) == (
        "requested", 2, ["quality_issue"])
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "return_requested"
    over = _return(api, order_id, [("A", 2)])
    assert over.status_code == 422
    error = over.json()["error"]
    assert (error["field"], error["code"]) == ("lines[0].quantity", "quantity_over_returnable")
    assert "最多可退 1 件" in error["message_zh"]
    second = _return(api, order_id, [("A", 1), ("B", 1)], source="shopee",
                     source_event_id="R-2")
    assert second.status_code == 201, second.text
    # the second return's report is recorded too (the order had moved already: late)
    requested = [e for e in api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
                 if e["type"] == "return.requested"]
    assert [e["payload"]["outcome"] for e in requested] == ["moved", "late"]
    assert requested[1]["payload"]["data"] == {
        "return_id": second.json()["id"], "lines": [{"sku": "A", "quantity": 1},
                                                    {"sku": "B", "quantity": 1}],
        "reason_tags": ["quality_issue"], "reason_text": "", "customer_address": None}
    assert _return(api, order_id, [("B", 1)]).status_code == 422
    # a rejected return frees its units for another
    assert api.post(f"/api/v1/returns/{second.json()['id']}/reject", json={}).status_code == 200
    assert _return(api, order_id, [("B", 1)]).status_code == 201
    listed = api.get("/api/v1/returns", params={"order_id": order_id}).json()
    assert listed["total"] == 3
    assert api.get("/api/v1/returns", params={"status": "rejected"}).json()["total"] == 1


def test_bad_returns_are_refused_and_change_nothing(api: Any, hub: Hub) -> None:
    unshipped = api.post("/api/v1/orders", json=order_body("U1")).json()["id"]
    r = _return(api, unshipped, [("DIAPER-L", 1)])
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_shipped")
    order_id = api.post("/api/v1/orders", json=order_body("U2")).json()["id"]
    ship(api, order_id)
    r = _return(api, order_id, [("DIAPER-L", 1)], reason_tags=["bored"])
    assert (r.status_code, r.json()["error"]["field"]) == (422, "reason_tags[0]")
    assert r.json()["error"]["code"] == "unknown_reason_tag"
    r = _return(api, order_id, [("NOPE", 1)])
    assert (r.status_code, r.json()["error"]["field"]) == (422, "lines[0].sku")
    r = _return(api, order_id, [("DIAPER-L", 3)])
    assert (r.status_code, r.json()["error"]["field"]) == (422, "lines[0].quantity")
    r = _return(api, "00000000-0000-0000-0000-000000000000", [("DIAPER-L", 1)])
    assert r.status_code == 404
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.returns)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(t.events).where(
            t.events.c.type == "return.requested")).scalar() == 0


def test_the_same_report_again_is_the_same_return(api: Any, hub: Hub) -> None:
    order_id = api.post("/api/v1/orders", json=order_body("D1")).json()["id"]
    ship(api, order_id)
    first = _return(api, order_id, [("DIAPER-L", 1)], source="shopee", source_event_id="X")
    again = _return(api, order_id, [("DIAPER-L", 1)], source="shopee", source_event_id="X")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["duplicate"] is True
    other = api.post("/api/v1/orders", json=order_body("D2")).json()["id"]
    ship(api, other)
    clash = _return(api, other, [("DIAPER-L", 1)], source="shopee", source_event_id="X")
    assert (clash.status_code, clash.json()["error"]["field"]) == (409, "source_event_id")
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.returns)).scalar() == 1


def _walk_to_inspected(api: Any, return_id: str, lines: list[dict[str, Any]],
                       source: str | None = None) -> None:
    for step in ("approve", "in-transit", "received"):
        r = api.post(f"/api/v1/returns/{return_id}/{step}", json={})
        assert r.status_code == 200, (step, r.text)
    body: dict[str, Any] = {"lines": lines}
    if source:
        body["stock_source"] = source
    r = api.post(f"/api/v1/returns/{return_id}/inspect", json=body)
    assert r.status_code == 200, r.text


def test_refunds_are_exact_with_discounts_vouchers_and_shipping(
        api: Any, hub: Hub, tokens: dict[str, str]) -> None:
    order_id = voucher_order(hub)
    ship(api, order_id)
    finance = {"Authorization": f"Bearer {tokens['finance']}"}
    amounts = []
    for n, (sku, qty) in enumerate((("A", 1), ("A", 2), ("B", 1))):
        ret = _return(api, order_id, [(sku, qty)]).json()
        _walk_to_inspected(api, ret["id"], [{"sku": sku, "damaged": qty}])
        assert api.post(f"/api/v1/returns/{ret['id']}/refund", json={}).status_code == 403
        refunded = api.post(f"/api/v1/returns/{ret['id']}/refund", json={}, headers=finance)
        assert refunded.status_code == 200, refunded.text
        amounts.append(refunded.json()["refund"]["amount_cents"])
        if n == 0:
            assert refunded.json()["status"] == "refunded"
            assert api.post(f"/api/v1/returns/{ret['id']}/close", json={}).json()[
                "status"] == "closed"
    # A: 283.18 over 3 units -> 94.39 then 188.79 (floor of the running share); B: 48.82
    assert amounts == [9439, 18879, 4882]
    assert sum(amounts) == 33200  # the whole order back, not a cent more
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
    refunds = [e["payload"]["data"] for e in events if e["type"] == "refund.succeeded"]
    assert [(d["amount"], d["amount_cents"]) for d in refunds] == [
        ("94.39", 9439), ("188.79", 18879), ("48.82", 4882)]
    assert all(d["return_id"] for d in refunds)


def test_restockable_units_go_back_to_the_chosen_source_at_once(api: Any, hub: Hub) -> None:
    inventory_sync.put_source(inventory_sync.build_source(
        code="NB", kind="bonded_spot", name_zh="宁波仓", name_en="Ningbo", region="浙江省",
        lead_time_days=1), hub.uow, hub.clock)
    inventory_sync.apply_levels("seed", [inventory_sync.LevelReport("NB", "DIAPER-L", 5)],
                                hub.uow, hub.clock)
    body = order_body("R1", lines=[{"sku": "DIAPER-L", "quantity": 3, "unit_price": "10.00"}],
                      total="30.00")
    order_id = api.post("/api/v1/orders", json=body).json()["id"]
    ship(api, order_id)
    before = api.get("/api/v1/availability", params={"sku": "DIAPER-L", "quantity": 1}).json()
    ret = _return(api, order_id, [("DIAPER-L", 3)]).json()
    mismatch = {"lines": [{"sku": "DIAPER-L", "restockable": 2, "damaged": 0}],
                "stock_source": "NB"}
    for step in ("approve", "received"):
        api.post(f"/api/v1/returns/{ret['id']}/{step}", json={})
    r = api.post(f"/api/v1/returns/{ret['id']}/inspect", json=mismatch)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "inspection_mismatch")
    r = api.post(f"/api/v1/returns/{ret['id']}/inspect",
                 json={"lines": [{"sku": "DIAPER-L", "restockable": 2, "damaged": 1}]})
    assert (r.status_code, r.json()["error"]["field"]) == (422, "stock_source")
    r = api.post(f"/api/v1/returns/{ret['id']}/inspect",
                 json={"lines": [{"sku": "DIAPER-L", "restockable": 2, "damaged": 1}],
                       "stock_source": "NB"})
    assert r.status_code == 200, r.text
    after = api.get("/api/v1/availability", params={"sku": "DIAPER-L", "quantity": 1}).json()
    assert after["available"] == before["available"] + 2
    detail = api.get(f"/api/v1/returns/{ret['id']}").json()
    assert detail["restock_source"] == "NB"
    inspected = [e for e in detail["timeline"] if e["type"] == "return.inspected"]
    assert inspected[0]["data"]["lines"] == [
        {"sku": "DIAPER-L", "quantity": 2, "condition": "restockable"},
        {"sku": "DIAPER-L", "quantity": 1, "condition": "damaged"}]
    assert [e["type"] for e in detail["timeline"]] == [
        "return.requested", "return.approved", "return.received", "return.inspected"]


def test_roles_and_masking(api: Any, hub: Hub, tokens: dict[str, str]) -> None:
    order_id = api.post("/api/v1/orders", json=order_body("M1")).json()["id"]
    ship(api, order_id)
    address = {"country": "CN", "province": "浙江省", "city": "宁波市", "district": "北仑区",
               "line1": "新碶街道明州路88号", "postal_code": "315800"}
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    r = api.post(f"/api/v1/orders/{order_id}/returns", headers=viewer,
                 json={"lines": [{"sku": "DIAPER-L", "quantity": 1}]})
    assert r.status_code == 403
    ret = _return(api, order_id, [("DIAPER-L", 1)], customer_address=address).json()
    assert ret["customer_address"]["line1"] == "新碶街道明州路88号"  # ops read personal data
    seen = api.get(f"/api/v1/returns/{ret['id']}", headers=viewer).json()
    assert seen["customer_address"]["line1"] != "新碶街道明州路88号"
    assert api.post(f"/api/v1/returns/{ret['id']}/approve", headers=viewer,
                    json={}).status_code == 403
    warehouse = {"Authorization": f"Bearer {tokens['warehouse']}"}
    assert api.post(f"/api/v1/returns/{ret['id']}/approve", headers=warehouse,
                    json={}).status_code == 403
    api.post(f"/api/v1/returns/{ret['id']}/approve", json={})
    assert api.post(f"/api/v1/returns/{ret['id']}/received", headers=warehouse,
                    json={}).status_code == 200
    illegal = api.post(f"/api/v1/returns/{ret['id']}/refund", json={},
                       headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert (illegal.status_code, illegal.json()["error"]["code"]) == (409,
                                                                       "illegal_return_move")


@pytest.mark.parametrize(("text", "tags"), [
    ("盒子压坏了，里面的瓶子也碎了", ["damaged_packaging"]),
    ("尺码偏小，穿不上", ["wrong_size"]),
    ("我不想要了", ["changed_mind"]),
    ("收到的颜色和图片完全不一样啊", ["other"]),
])
def test_free_text_is_classified_and_kept(api: Any, hub: Hub, text: str,
                                          tags: list[str]) -> None:
    order_id = api.post("/api/v1/orders", json=order_body("T1")).json()["id"]
    ship(api, order_id)
    r = api.post(f"/api/v1/orders/{order_id}/returns",
                 json={"lines": [{"sku": "DIAPER-L", "quantity": 1}], "reason_text": text})
    assert r.status_code == 201, r.text
    assert (r.json()["reason_tags"], r.json()["reason_text"], r.json()["reasons_from"]) == (
        tags, text, "keywords")


def test_ops_edit_the_keyword_table(api: Any, hub: Hub, tokens: dict[str, str]) -> None:
    text = "收到的颜色和图片完全不一样啊"
    bad = api.put("/api/v1/returns/reason-keywords", json={"keywords": {"颜色": "nope"}})
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "keywords.颜色")
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert api.put("/api/v1/returns/reason-keywords", headers=viewer,
                   json={"keywords": {"颜色": "not_as_described"}}).status_code == 403
    ok = api.put("/api/v1/returns/reason-keywords",
                 json={"keywords": {"颜色": "not_as_described", "图片": "not_as_described"}})
    assert ok.status_code == 200, ok.text
    assert api.get("/api/v1/returns/reason-keywords").json()["keywords"] == {
        "颜色": "not_as_described", "图片": "not_as_described"}
    order_id = api.post("/api/v1/orders", json=order_body("K1")).json()["id"]
    ship(api, order_id)
    r = api.post(f"/api/v1/orders/{order_id}/returns",
                 json={"lines": [{"sku": "DIAPER-L", "quantity": 1}], "reason_text": text})
    assert r.json()["reason_tags"] == ["not_as_described"]


def test_the_route_block_comes_from_the_routing_module(api: Any, hub: Hub,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from orderpilot.adapters.views import returns as views

    order_id = api.post("/api/v1/orders", json=order_body("W1")).json()["id"]
    ship(api, order_id)
    ret = _return(api, order_id, [("DIAPER-L", 1)]).json()
    assert ret["route"] is None or "return_centre" in ret["route"] \
        or ret["route"].get("decision_required") is True
    asked = []

    def route_of(conn: Any, return_id: str) -> dict[str, Any]:
        asked.append(return_id)
        return {"decision_required": True, "exception": {
            "reason": "no_outlet", "message_zh": "没有网点", "message_en": "No outlet"}}

    monkeypatch.setattr(views, "route_reader", lambda: route_of)
    shown = api.get(f"/api/v1/returns/{ret['id']}").json()
    assert asked == [ret["id"]]
    assert shown["route"]["exception"]["reason"] == "no_outlet"
