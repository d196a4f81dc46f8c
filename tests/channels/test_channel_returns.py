"""The shared return intake on the fake platform (tests/channels/fake_platform.py): return
notices in pushes (carrying the return or not), taken once; the order fetched when it is not
in yet and the return waiting for it; later statuses moving the hub's return; the scheduled
pull listing returns from the watermark; refunds through the channel exactly once, a refusal
shown and asked anew. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_platform import FakeShop, integration, sign
from fastapi.testclient import TestClient

from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.services.accounts import create_token

SECRET = "whsec-test"
CODE = "own-store"


@pytest.fixture
def shop() -> FakeShop:
    return FakeShop()


@pytest.fixture
def chub(database_url: str | None, tmp_path: Path, clock: Any, shop: FakeShop) -> Iterator[Hub]:
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url,
                             outbound_allowlist="https://fake.example",
                             _env_file=None),  # type: ignore[call-arg]
                    clock=clock, integrations=IntegrationRegistry.of(integration(shop)))
    migrations.upgrade(hub.db)
    yield hub
    hub.close()


@pytest.fixture
def capi(chub: Hub) -> Iterator[TestClient]:
    with chub.db.write() as conn:
        token = create_token(AccountRepository(conn), "admin-t", "admin", chub.clock,
                             sources=("wms", "sf"))[1]
    with TestClient(create_app(chub, with_console=False)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        put = client.put(f"/api/v1/channels/{CODE}", json={
            "platform": "shopify", "shop_id": "acme", "region": "SG",
            "credentials": {"access_token": "shpat_x", "webhook_secret": SECRET}})
        assert put.status_code == 201, put.text
        yield client


def push(capi: TestClient, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    r = capi.post(f"/hooks/{CODE}", content=raw,
                  headers={"x-fake-signature": sign(SECRET, raw), "Authorization": ""})
    assert r.status_code == 200, r.text


def drain(hub: Hub) -> None:
    worker = hub.channel_worker("test")
    while worker.run_once():
        pass


def shipped_order(capi: TestClient, chub: Hub, shop: FakeShop, oid: str) -> str:
    shop.order(oid, lines=(("SKU-A", 2, "10.00"), ("SKU-B", 1, "5.00")))
    push(capi, {"order_id": oid})
    drain(chub)
    (found,) = capi.get("/api/v1/orders", params={"q": oid}).json()["items"]
    for type_, source in (("wms.released", "wms"), ("shipment.shipped", "sf")):
        r = capi.post(f"/api/v1/orders/{found['id']}/events", json={
            "type": type_, "source": source, "source_event_id": f"{oid}:{type_}",
            "occurred_at": "2026-11-26T12:00:00+08:00"})
        assert r.status_code in (200, 201), r.text
    return str(found["id"])


def returns_of(capi: TestClient, order_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = capi.get("/api/v1/returns",
                                           params={"order_id": order_id}).json()["items"]
    return items


def test_a_return_notice_is_taken_once_and_follows_the_platform(
        capi: TestClient, chub: Hub, shop: FakeShop) -> None:
    order_id = shipped_order(capi, chub, shop, "1001")
    raw = shop.a_return("R-1", "1001", lines=(("SKU-A", 1),), reason="WRONG", text="颜色不对")
    push(capi, {"return_id": "R-1", "return": raw})
    push(capi, {"return_id": "R-1", "return": raw})  # the same push again
    push(capi, {"return_id": "R-1"})  # a notice without the return: fetched
    drain(chub)
    (ret,) = returns_of(capi, order_id)
    assert (ret["source"], ret["source_event_id"], ret["status"]) == (CODE, "R-1", "requested")
    assert [(ln["sku"], ln["quantity"]) for ln in ret["lines"]] == [("SKU-A", 1)]
    assert ret["reason_tags"] == ["wrong_item"] and ret["reason_text"] == "颜色不对"
    cancelled = shop.a_return("R-1", "1001", status="cancelled", lines=(("SKU-A", 1),),
                              updated="2026-11-27T11:00:00+08:00")
    push(capi, {"return_id": "R-1", "return": cancelled})
    drain(chub)
    shown = capi.get(f"/api/v1/returns/{ret['id']}").json()
    assert shown["status"] == "closed"
    assert [e["type"] for e in shown["timeline"]].count("return.rejected") == 1


def test_a_return_for_an_unknown_order_fetches_it_and_waits(
        capi: TestClient, chub: Hub, shop: FakeShop, clock: Any) -> None:
    shop.order("2001", lines=(("SKU-A", 1, "10.00"),))
    push(capi, {"return_id": "R-2", "return": shop.a_return("R-2", "2001")})
    drain(chub)  # the order is fetched (an order job), the return waits: not shipped
    (found,) = capi.get("/api/v1/orders", params={"q": "2001"}).json()["items"]
    assert returns_of(capi, found["id"]) == []
    for type_, source in (("wms.released", "wms"), ("shipment.shipped", "sf")):
        capi.post(f"/api/v1/orders/{found['id']}/events", json={
            "type": type_, "source": source, "source_event_id": f"2001:{type_}",
            "occurred_at": "2026-11-26T12:00:00+08:00"})
    clock.advance(seconds=5)  # past the job's backoff
    drain(chub)
    (ret,) = returns_of(capi, found["id"])
    assert ret["source_event_id"] == "R-2"


def test_a_bad_return_is_quarantined_and_nothing_is_half_written(
        capi: TestClient, chub: Hub, shop: FakeShop) -> None:
    order_id = shipped_order(capi, chub, shop, "3001")
    push(capi, {"return_id": "R-3", "return": shop.a_return(
        "R-3", "3001", lines=(("SKU-A", 3),))})
    push(capi, {"return_id": "R-4", "return": {"return_id": "R-4", "status": "weird"}})
    drain(chub)
    assert returns_of(capi, order_id) == []
    held = capi.get(f"/api/v1/channels/{CODE}/quarantine").json()["items"]
    reasons = {i["external_id"]: (i["field"], i["reason"]) for i in held}
    assert reasons["R-3"][0] == "lines[0].quantity" and "2" in reasons["R-3"][1]
    assert reasons["R-4"][0] == "status"


def test_the_scheduled_pull_lists_returns_from_the_watermark(
        capi: TestClient, chub: Hub, shop: FakeShop, clock: Any) -> None:
    order_id = shipped_order(capi, chub, shop, "4001")
    shop.a_return("R-5", "4001", updated=(clock.now - timedelta(minutes=30)).isoformat())
    chub.channel_worker("sched").run_schedule()
    (ret,) = returns_of(capi, order_id)
    assert ret["source_event_id"] == "R-5"
    with chub.uow() as uow:
        assert uow.channels.returns_watermark(CODE) is not None


def _inspected(capi: TestClient, return_id: str) -> None:
    for step in ("approve", "in-transit", "received"):
        assert capi.post(f"/api/v1/returns/{return_id}/{step}", json={}).status_code == 200
    r = capi.post(f"/api/v1/returns/{return_id}/inspect",
                  json={"lines": [{"sku": "SKU-A", "damaged": 1}]})
    assert r.status_code == 200, r.text


def test_a_refund_goes_through_the_channel_once(capi: TestClient, chub: Hub,
                                                shop: FakeShop) -> None:
    order_id = shipped_order(capi, chub, shop, "5001")
    push(capi, {"return_id": "R-6", "return": shop.a_return("R-6", "5001")})
    drain(chub)
    (ret,) = returns_of(capi, order_id)
    _inspected(capi, ret["id"])
    shop.refuse_refund = "the buyer opened a dispute"
    assert capi.post(f"/api/v1/returns/{ret['id']}/refund", json={}).status_code == 202
    drain(chub)
    shown = capi.get(f"/api/v1/returns/{ret['id']}").json()
    assert shown["status"] == "inspected" and shown["channel_refund"]["status"] == "failed"
    assert "dispute" in shown["channel_refund"]["error"] and shop.refunded == []
    shop.refuse_refund = ""
    for _ in range(2):  # asked anew (twice: one job)
        assert capi.post(f"/api/v1/returns/{ret['id']}/refund", json={}).status_code == 202
    drain(chub)
    shown = capi.get(f"/api/v1/returns/{ret['id']}").json()
    assert shown["status"] == "refunded" and shop.refunded == ["R-6"]
    (event,) = [e for e in shown["timeline"] if e["type"] == "refund.succeeded"]
    assert event["data"]["via"] == "shopify"


def test_a_refund_the_platform_paid_is_recorded_once_inspected(
        capi: TestClient, chub: Hub, shop: FakeShop) -> None:
    order_id = shipped_order(capi, chub, shop, "6001")
    push(capi, {"return_id": "R-7", "return": shop.a_return("R-7", "6001")})
    drain(chub)
    (ret,) = returns_of(capi, order_id)
    _inspected(capi, ret["id"])
    paid = shop.a_return("R-7", "6001", status="refunded", updated="2026-11-27T12:00:00+08:00")
    push(capi, {"return_id": "R-7", "return": paid})
    push(capi, {"return_id": "R-7", "return": paid, "again": 1})
    drain(chub)
    shown = capi.get(f"/api/v1/returns/{ret['id']}").json()
    assert shown["status"] == "refunded" and shop.refunded == []
    assert [e["data"].get("via") for e in shown["timeline"]
            if e["type"] == "refund.succeeded"] == ["shopify"]
