"""A token reports only as the systems it was issued for; a person only as themself (issue 8)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import order_body
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.errors import InvalidInput
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token, create_user

PAID = {"type": "payment.succeeded", "source": "youzan", "source_event_id": "pay-1",
        "occurred_at": "2026-11-26T10:01:00+08:00", "data": {"amount": "258.00"}}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_for(hub: Hub, role: str, *sources: str) -> dict[str, str]:
    with hub.db.write() as conn:
        token = create_token(AccountRepository(conn), f"{role}-{'-'.join(sources) or 'none'}",
                             role, hub.clock, sources)[1]
    return {"Authorization": f"Bearer {token}"}


def state(api: Any, order_id: str) -> tuple[str, list[str], dict[str, Any]]:
    order = api.get(f"/api/v1/orders/{order_id}").json()
    events = api.get(f"/api/v1/orders/{order_id}/events").json()["items"]
    return order["status"], [e["type"] for e in events], order["system_views"]


def test_a_warehouse_token_cannot_report_a_payment_as_a_storefront(hub: Hub, api: Any) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    before = state(api, order_id)
    wms = token_for(hub, "warehouse", "wms")
    refused = api.post(f"/api/v1/orders/{order_id}/events", json=PAID, headers=wms)
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "source_not_allowed" and error["field"] == "source"
    assert "'youzan'" in error["message"] and "source:" not in error["message"]
    assert error["message"].endswith("its sources: wms")
    # Even as its own source, a WMS does not report payments.
    as_wms = api.post(f"/api/v1/orders/{order_id}/events", json={**PAID, "source": "wms"},
                      headers=wms)
    assert as_wms.status_code == 403
    assert as_wms.json()["error"]["code"] == "event_not_from_this_system"
    assert "storefront" in as_wms.json()["error"]["message"]
    assert state(api, order_id) == before
    assert before[0] == "placed"


def test_a_finance_token_cannot_cancel_an_order_as_shopee(hub: Hub, api: Any) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    before = state(api, order_id)
    cancel = {"type": "order.cancelled", "source": "shopee", "source_event_id": "c-1",
              "occurred_at": "2026-11-26T10:02:00+08:00", "data": {"reason": "太贵"}}
    for finance, allowed in ((token_for(hub, "finance"), "none (the token has no"),
                             (token_for(hub, "finance", "kingdee"), "its sources: kingdee")):
        refused = api.post(f"/api/v1/orders/{order_id}/events", json=cancel, headers=finance)
        assert refused.status_code == 403, refused.text
        message = refused.json()["error"]["message"]
        assert "'shopee'" in message and allowed in message
    assert state(api, order_id) == before
    # The storefront's own token may cancel it.
    shopee = token_for(hub, "ops", "shopee")
    assert api.post(f"/api/v1/orders/{order_id}/events", json=cancel,
                    headers=shopee).json()["status"] == "cancelled"


def test_a_token_without_sources_reports_as_nobody(hub: Hub, api: Any) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    admin = token_for(hub, "admin")
    refused = api.post(f"/api/v1/orders/{order_id}/events", json=PAID, headers=admin)
    assert refused.status_code == 403
    assert "none (the token has no source:<name> scope)" in refused.json()["error"]["message"]
    assert api.get(f"/api/v1/orders/{order_id}", headers=admin).status_code == 200
    assert state(api, order_id)[0] == "placed"


def test_a_wms_token_reports_the_warehouse_steps_as_wms(hub: Hub, api: Any) -> None:
    order_id = api.post("/api/v1/orders", json=order_body()).json()["id"]
    youzan = token_for(hub, "ops", "youzan")
    assert api.post(f"/api/v1/orders/{order_id}/events", json=PAID,
                    headers=youzan).status_code == 201
    wms = token_for(hub, "warehouse", "WMS")  # names are not case-sensitive
    for n, type_ in enumerate(("wms.released", "wms.picked", "wms.packed", "shipment.shipped")):
        r = api.post(f"/api/v1/orders/{order_id}/events", headers=wms, json={
            "type": type_, "source": "wms", "source_event_id": f"w-{n}",
            "occurred_at": f"2026-11-26T11:0{n}:00+08:00"})
        assert r.status_code == 201 and r.json()["outcome"] == "moved", r.text
    status, types, views = state(api, order_id)
    assert status == "shipped" and types[-1] == "shipment.shipped"
    assert views["wms"]["status"] == "shipped"
    # The same token may not speak for the courier.
    r = api.post(f"/api/v1/orders/{order_id}/events", headers=wms, json={
        "type": "shipment.delivered", "source": "sf", "occurred_at": "2026-11-27T11:00:00Z"})
    assert r.status_code == 403 and state(api, order_id)[0] == "shipped"


def test_stock_levels_are_pushed_only_for_the_tokens_stock_sources(hub: Hub, api: Any) -> None:
    assert api.put("/api/v1/inventory/sources/NB", json={
        "kind": "bonded_spot", "name_zh": "宁波", "name_en": "Ningbo",
        "lead_time_days": 2}).status_code == 200
    push = {"source_event_id": "lv-1", "levels": [{"source": "NB", "sku": "BIB",
                                                   "on_hand": 7}]}
    other = token_for(hub, "warehouse", "hz")
    refused = api.put("/api/v1/inventory/levels", json=push, headers=other)
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "levels[0].source"
    assert api.get("/api/v1/inventory/levels?source=NB").json()["items"] == []
    mine = token_for(hub, "warehouse", "nb")
    assert api.put("/api/v1/inventory/levels", json=push, headers=mine).status_code == 200
    assert [lv["on_hand"] for lv in api.get(
        "/api/v1/inventory/levels?source=NB").json()["items"]] == [7]


def test_token_sources_are_checked_when_issued(hub: Hub) -> None:
    with hub.db.write() as conn:
        repo = AccountRepository(conn)
        for bad in ("hub", "user:alice", "", "a b"):
            with pytest.raises(InvalidInput):
                create_token(repo, "bad", "ops", hub.clock, [bad])


def test_a_person_reports_under_their_own_name_never_as_a_platform(hub: Hub) -> None:
    with hub.db.write() as conn:
        create_user(AccountRepository(conn), "li.ops", "s3cret-pass", "ops", hub.clock)
    with TestClient(create_app(hub), follow_redirects=False) as browser:
        page = browser.get("/console/login").text
        browser.post("/console/login", data={"username": "li.ops", "password": "s3cret-pass",
                                              "csrf_token": CSRF.search(page).group(1)})
        found = CSRF.search(browser.get("/console").text)
        assert found is not None
        csrf = {"X-CSRF-Token": found.group(1)}
        order_id = browser.post("/api/v1/orders", json=order_body(), headers=csrf).json()["id"]
        as_platform = browser.post(f"/api/v1/orders/{order_id}/events", json=PAID, headers=csrf)
        assert as_platform.status_code == 403
        assert "user:li.ops" in as_platform.json()["error"]["message"]
        mine = browser.post(f"/api/v1/orders/{order_id}/events", headers=csrf,
                            json={**PAID, "source": "user:li.ops"})
        assert mine.status_code == 201 and mine.json()["status"] == "paid"
        events = browser.get(f"/api/v1/orders/{order_id}/events").json()["items"]
        assert [(e["type"], e["source"]) for e in events] == [
            ("order.placed", "shopee"), ("payment.succeeded", "user:li.ops")]
