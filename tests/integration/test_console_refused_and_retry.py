"""The console's 被拒回报 page and the 重试分配 button, in zh-CN and English
(docs/exceptions-retry-and-refusals.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import order_body
from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_user

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery 9"


@pytest.fixture
def console(hub: Hub) -> Iterator[TestClient]:
    with hub.db.write() as conn:
        for login, role in (("ops", "ops"), ("viewer", "viewer")):
            create_user(AccountRepository(conn), login, PASSWORD, role, hub.clock)
    with TestClient(create_app(hub), follow_redirects=False) as client:
        yield client


def sign_in(client: TestClient, login: str, locale: str) -> str:
    client.cookies.clear()  # a new session
    found = CSRF.search(client.get("/console/login").text)
    assert found
    answer = client.post("/console/login", data={"username": login, "password": PASSWORD,
                                                 "csrf_token": found.group(1)})
    assert answer.status_code == 303, answer.text
    again = CSRF.search(client.get("/console", follow_redirects=True).text)
    assert again
    client.post("/console/locale", data={"locale": locale, "csrf_token": again.group(1)})
    return again.group(1)


def drain(hub: Hub) -> None:
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():
        pass


def test_the_refused_reports_page_per_system_in_both_languages(
        api: Any, hub: Hub, console: TestClient) -> None:
    order_id = api.post("/api/v1/orders", json=order_body("R1")).json()["id"]
    for n in range(2):
        assert api.post(f"/api/v1/orders/{order_id}/events", json={
            "type": "wms.packed", "source": "wms", "source_event_id": f"W-{n}",
            "occurred_at": "2026-11-26T10:05:00+08:00"}).status_code == 409
    assert api.post("/api/v1/orders/ghost/events", json={
        "type": "shipment.shipped", "source": "sf",
        "occurred_at": "2026-11-26T10:05:00+08:00"}).status_code == 404
    sign_in(console, "viewer", "zh_CN")
    page = console.get("/console/refused-reports").text
    assert "被拒回报" in page and "不允许的状态跳转" in page and "订单不存在" in page
    assert page.count('data-testid="refused-system"') == 2
    assert page.count('data-testid="refused-row"') == 3
    assert f'href="/console/orders/{order_id}"' in page  # each row links to its order
    assert "<code>ghost</code>" in page  # an unknown order has nothing to link to
    filtered = console.get("/console/refused-reports", params={"reason": "unknown_order"}).text
    assert filtered.count('data-testid="refused-row"') == 1
    sign_in(console, "viewer", "en")
    english = console.get("/console/refused-reports").text
    assert "Refused system reports" in english and "Illegal lifecycle step" in english
    assert "refused-reports-link" in console.get("/console/exceptions").text
    assert "/console/refused-reports" in console.get("/console/diagnosis").text


def test_the_retry_button_allocates_a_held_order(api: Any, hub: Hub,
                                                 console: TestClient) -> None:
    assert api.put("/api/v1/inventory/sources/NB", json={
        "kind": "bonded_spot", "name_zh": "宁波仓", "name_en": "Ningbo",
        "lead_time_days": 1}).status_code == 200
    assert api.put("/api/v1/inventory/levels", json={"source_event_id": "l0", "levels": [
        {"source": "NB", "sku": "DIAPER-L", "on_hand": 0}]}).status_code == 200
    order_id = api.post("/api/v1/orders", json=order_body("B1")).json()["id"]
    assert api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "shopee",
        "occurred_at": "2026-11-26T10:05:00+08:00"}).status_code == 201
    drain(hub)
    csrf = sign_in(console, "viewer", "zh_CN")
    assert 'data-testid="retry-allocation"' not in console.get(
        f"/console/orders/{order_id}").text  # viewers may not release holds
    csrf = sign_in(console, "ops", "zh_CN")
    page = console.get(f"/console/orders/{order_id}").text
    assert "重试分配" in page and 'data-testid="retry-allocation"' in page
    headers = {"HX-Request": "true", "X-CSRF-Token": csrf}
    short = console.post(f"/console/orders/{order_id}/allocation/retry", headers=headers)
    assert "仍然缺货：DIAPER-L × 2" in short.text
    with hub.db.write() as conn:
        conn.execute(t.inventory_levels.update().values(on_hand=5))
    done = console.post(f"/console/orders/{order_id}/allocation/retry", headers=headers)
    assert "已分配库存" in done.text and 'data-testid="retry-allocation"' not in done.text
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "allocated"
