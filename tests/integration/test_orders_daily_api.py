"""The orders list for daily work through the API, on SQLite and PostgreSQL: every filter,
buyer search and who may use it, total count, stable sorts and cursors, updated_since, notes,
release reasons and bulk actions with their preview count."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import FakeClock, order_body


def place(api: Any, external_id: str, **changes: Any) -> str:
    r = api.post("/api/v1/orders", json=order_body(external_id, **changes))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def hold(api: Any, order_id: str, reason: str = "stock_shortage") -> str:
    r = api.post(f"/api/v1/orders/{order_id}/holds", json={"reason": reason})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def listed(api: Any, **params: Any) -> list[str]:
    r = api.get("/api/v1/orders", params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    return [o["external_id"] for o in r.json()["items"]]


def as_role(api: Any, tokens: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


@pytest.fixture
def shop(api: Any, clock: FakeClock) -> dict[str, str]:
    """Five orders that differ in one thing each from the first."""
    ids = {"A": place(api, "A", tags=["vip"])}
    clock.advance(minutes=1)
    ids["B"] = place(api, "B", channel="lazada", shop_id="MY-02",
                     placed_at="2026-11-20T09:00:00+08:00", currency="MYR",
                     lines=[{"sku": "TEETHER-01", "quantity": 1, "unit_price": "35.50"}],
                     total="35.50", customer={"name": "李四", "phone": "+60123456789"})
    clock.advance(minutes=1)
    ids["C"] = place(api, "C", shipping_address={
        "country": "CN", "province": "广东省", "city": "深圳市", "district": "南山区",
        "line1": "科技园路88号", "postal_code": "518000"},
        customer={"name": "王五", "phone": "13911112222"}, tags=["vip_plus", "gift"])
    clock.advance(minutes=1)
    ids["D"] = place(api, "D", placed_at="2026-11-25T23:30:00+08:00",
                     lines=[{"sku": "DIAPER-L", "quantity": 4, "unit_price": "129.00"}],
                     total="516.00")
    clock.advance(minutes=1)
    ids["E"] = place(api, "E", tags=["保税"])
    hold(api, ids["D"], "stock_shortage")
    hold(api, ids["E"], "address_incomplete")
    return ids


def test_each_filter_narrows_the_list(api: Any, shop: dict[str, str]) -> None:
    assert listed(api) == ["E", "D", "C", "B", "A"]
    assert listed(api, channel="lazada") == ["B"]
    assert listed(api, shop="MY-02") == ["B"]
    assert listed(api, sku="TEETHER-01") == ["B"]
    assert listed(api, reason="stock_shortage") == ["D"]
    assert listed(api, held="yes") == ["E", "D"] and listed(api, held="no") == ["C", "B", "A"]
    assert listed(api, tag="vip") == ["A"]  # a whole tag: vip_plus is not vip
    assert listed(api, tag="保税") == ["E"]
    assert listed(api, placed_from="2026-11-26") == ["E", "C", "A"]
    # Beijing days: 23:30 on the 25th is the 25th, though it is 15:30 UTC.
    assert listed(api, placed_from="2026-11-25", placed_to="2026-11-25") == ["D"]
    assert listed(api, placed_to="2026-11-20") == ["B"]
    assert listed(api, currency="CNY", min_total="300") == ["D"]
    assert listed(api, currency="CNY", max_total="258.00") == ["E", "C", "A"]
    assert listed(api, currency="MYR", min_total="30", max_total="40") == ["B"]
    assert listed(api, status="placed", channel="shopee", held="no") == ["C", "A"]
    assert listed(api, q="D") == ["D"]


def test_bad_filters_are_422s_that_name_the_parameter(api: Any, shop: dict[str, str]) -> None:
    for params, field in (({"min_total": "100"}, "currency"),
                          ({"currency": "CNY", "min_total": "1e3"}, "min_total"),
                          ({"placed_from": "26/11/2026"}, "placed_from"),
                          ({"placed_from": "2026-11-26", "placed_to": "2026-11-01"}, "placed_to"),
                          ({"phone": "123"}, "phone"), ({"sort": "random"}, "sort"),
                          ({"updated_since": "2026-11-26T10:00:00"}, "updated_since"),
                          ({"status": "nowhere"}, "status"), ({"cursor": "bm9wZQ"}, "cursor")):
        r = api.get("/api/v1/orders", params=params)
        assert r.status_code == 422, (params, r.text)
        error = r.json()["error"]
        assert error["field"] == field, (params, error)
        assert error["message_zh"] and error["message_zh"] != error["message"]


def test_total_count_and_cursor_pages_cover_the_filter_once(api: Any,
                                                            shop: dict[str, str]) -> None:
    for sort in ("newest", "placed_desc", "placed_asc", "total_desc", "total_asc",
                 "updated_asc"):
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "sort": sort, "currency": "CNY"}
            if cursor:
                params["cursor"] = cursor
            body = api.get("/api/v1/orders", params=params).json()
            assert body["total"] == 4
            seen += [o["external_id"] for o in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == ["A", "C", "D", "E"], sort
    assert listed(api, sort="placed_asc") == ["B", "D", "A", "C", "E"]
    assert listed(api, sort="total_desc", currency="CNY")[0] == "D"
    other_sort = api.get("/api/v1/orders", params={"limit": 1, "sort": "total_asc"}).json()
    r = api.get("/api/v1/orders", params={"cursor": other_sort["next_cursor"]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "cursor"


def test_search_by_phone_tail_and_address_for_ops_only(api: Any, shop: dict[str, str],
                                                       tokens: dict[str, str]) -> None:
    assert listed(api, phone="2222") == ["C"]
    assert listed(api, phone="11112222") == ["C"]
    assert listed(api, phone="00002222") == []  # the tail's other digits count too
    assert listed(api, phone="6789") == ["B"]
    assert listed(api, address="科技园") == ["C"]
    assert listed(api, address="深圳") == ["C"]
    assert listed(api, address="100%") == []  # a % is text, not a wildcard
    for role in ("viewer", "finance", "warehouse"):
        for params in ({"phone": "2222"}, {"address": "科技园"}):
            r = api.get("/api/v1/orders", params=params, headers=as_role(api, tokens, role))
            assert r.status_code == 403, (role, r.text)
            assert r.json()["error"]["code"] == "search_not_allowed"
    viewer = api.get("/api/v1/orders", params={"channel": "lazada"},
                     headers=as_role(api, tokens, "viewer")).json()["items"][0]
    assert viewer["customer"]["phone"] != "+60123456789"
    assert "6789" in viewer["customer"]["phone"] or "****" in viewer["customer"]["phone"]


def test_updated_since_gives_changed_orders_in_change_order(api: Any, clock: FakeClock,
                                                            shop: dict[str, str]) -> None:
    start = "2026-11-26T02:00:00Z"  # the fake clock's start: before every order
    clock.advance(minutes=5)
    mark = clock().isoformat()
    api.post(f"/api/v1/orders/{shop['A']}/events", json={
        "type": "payment.succeeded", "source": "shopee", "occurred_at": mark})
    clock.advance(minutes=1)
    hold(api, shop["C"])
    body = api.get("/api/v1/orders", params={"updated_since": mark}).json()
    assert [o["external_id"] for o in body["items"]] == ["A", "C"]
    assert body["items"][0]["updated_at"] <= body["items"][1]["updated_at"]
    assert body["total"] == 2
    page = api.get("/api/v1/orders", params={"updated_since": start, "limit": 3}).json()
    rest = api.get("/api/v1/orders", params={"updated_since": start, "limit": 3,
                                             "cursor": page["next_cursor"]}).json()
    every = [o["external_id"] for o in page["items"] + rest["items"]]
    # B placed, D and E held (the same moment: arrival order), A paid, C held.
    assert every == ["B", "D", "E", "A", "C"]


def test_notes_are_kept_with_who_and_when_and_shown_on_the_timeline(
        api: Any, shop: dict[str, str], tokens: dict[str, str]) -> None:
    order_id = shop["A"]
    r = api.post(f"/api/v1/orders/{order_id}/notes", json={"text": " 买家要求周五后发货 "})
    assert r.status_code == 201 and r.json()["by"] == "ops-token"
    api.post(f"/api/v1/orders/{order_id}/notes", json={"text": "second"},
             headers=as_role(api, tokens, "warehouse"))
    notes = api.get(f"/api/v1/orders/{order_id}/notes").json()["items"]
    assert [(n["by"], n["text"]) for n in notes] == [("ops-token", "买家要求周五后发货"),
                                                      ("warehouse-token", "second")]
    assert notes[0]["at"]
    timeline = api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
    assert [e["payload"]["text"] for e in timeline if e["type"] == "order.note_added"] == [
        "买家要求周五后发货", "second"]
    assert api.post(f"/api/v1/orders/{order_id}/notes", json={"text": "   "}).status_code == 422
    assert api.post(f"/api/v1/orders/{order_id}/notes", json={"text": "x"},
                    headers=as_role(api, tokens, "viewer")).status_code == 403
    missing = api.post("/api/v1/orders/nope/notes", json={"text": "x"})
    assert missing.status_code == 404


def test_releasing_a_hold_needs_a_reason_that_is_recorded(api: Any,
                                                          shop: dict[str, str]) -> None:
    order_id = shop["D"]
    hold_id = api.get(f"/api/v1/orders/{order_id}").json()["holds"][0]["id"]
    url = f"/api/v1/orders/{order_id}/holds/{hold_id}"
    for body, field in (({}, "reason"), ({"reason": "because"}, "reason"),
                        ({"reason": "other"}, "note")):
        r = api.request("DELETE", url, json=body)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
    assert api.get(f"/api/v1/orders/{order_id}").json()["held"]
    r = api.request("DELETE", url, json={"reason": "stock_arrived", "note": "到货 20 箱"})
    assert r.status_code == 200 and r.json()["released_at"]
    order = api.get(f"/api/v1/orders/{order_id}").json()
    assert not order["held"]
    assert (order["holds"][0]["release_reason"], order["holds"][0]["release_note"]) == (
        "stock_arrived", "到货 20 箱")
    released = [e for e in api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
                if e["type"] == "hold.released"]
    assert released[0]["payload"]["release_reason"] == "stock_arrived"


def test_bulk_release_on_a_filter_says_how_many_then_needs_that_number(
        api: Any, shop: dict[str, str], tokens: dict[str, str]) -> None:
    bulk = {"action": "release_holds", "filter": {"channel": "shopee"},
            "reason": "verified_with_buyer"}
    preview = api.post("/api/v1/orders/bulk/preview", json=bulk).json()
    assert preview == {"action": "release_holds", "orders": 4, "expected_count": 2}
    refused = api.post("/api/v1/orders/bulk", json={**bulk, "expected_count": 3})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "count_changed"
    assert api.post("/api/v1/orders/bulk", json=bulk).status_code == 409  # no count given
    assert listed(api, held="yes") == ["E", "D"]
    assert api.post("/api/v1/orders/bulk", json={**bulk, "reason": ""}).status_code == 422
    viewer = api.post("/api/v1/orders/bulk", json={**bulk, "expected_count": 2},
                      headers=as_role(api, tokens, "warehouse"))
    assert viewer.status_code == 403
    done = api.post("/api/v1/orders/bulk", json={**bulk, "expected_count": 2}).json()
    assert sorted(done["changed"]) == sorted([shop["D"], shop["E"]])
    assert sorted(done["unchanged"]) == sorted([shop["A"], shop["C"]]) and not done["failed"]
    assert listed(api, held="yes") == []
    order = api.get(f"/api/v1/orders/{shop['E']}").json()
    assert order["holds"][0]["release_reason"] == "verified_with_buyer"
    assert order["holds"][0]["released_by"] == "ops-token"


def test_bulk_tag_on_a_selection(api: Any, shop: dict[str, str],
                                 tokens: dict[str, str]) -> None:
    chosen = [shop["A"], shop["B"], "not-an-order"]
    bulk = {"action": "add_tag", "order_ids": chosen, "tag": "vip"}
    preview = api.post("/api/v1/orders/bulk/preview", json=bulk).json()
    assert preview["expected_count"] == 2
    done = api.post("/api/v1/orders/bulk", json={**bulk, "expected_count": 2}).json()
    assert done["changed"] == [shop["B"]] and done["unchanged"] == [shop["A"]]
    assert listed(api, tag="vip") == ["B", "A"]
    tagged = [e for e in api.get(f"/api/v1/orders/{shop['B']}/events").json()["items"]
              if e["type"] == "order.tagged"]
    assert tagged[0]["payload"]["added"] == ["vip"]
    assert api.post("/api/v1/orders/bulk/preview", json={**bulk, "tag": ""}).status_code == 422
    assert api.post("/api/v1/orders/bulk/preview", json=bulk,
                    headers=as_role(api, tokens, "finance")).status_code == 403
