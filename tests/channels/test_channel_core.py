"""The channel core on a fake platform: accounts, pushes, fetch jobs, applying versions of an
order, quarantine and replay, pulls with paging, rate limits and token refresh. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_platform import FakeShop, integration, sign
from fastapi.testclient import TestClient

from orderpilot.adapters import migrations
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.integrations.registry import IntegrationRegistry

SECRET = "whsec-test"


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
def capi(chub: Hub, tokens: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(chub, with_console=False)) as client:
        client.headers["Authorization"] = f"Bearer {tokens['admin']}"
        put = client.put("/api/v1/channels/own-store", json={
            "platform": "shopify", "shop_id": "acme", "region": "SG",
            "credentials": {"access_token": "shpat_x", "webhook_secret": SECRET}})
        assert put.status_code == 201, put.text
        yield client


@pytest.fixture
def tokens(chub: Hub) -> dict[str, str]:
    from orderpilot.adapters.accounts import AccountRepository
    from orderpilot.services.accounts import create_token
    made = {}
    with chub.db.write() as conn:
        for role in ("admin", "ops", "viewer"):
            made[role] = create_token(AccountRepository(conn), f"{role}-t", role, chub.clock)[1]
    return made


def push(capi: TestClient, body: dict[str, Any], secret: str = SECRET) -> Any:
    raw = json.dumps(body).encode()
    return capi.post("/hooks/own-store", content=raw,
                     headers={"x-fake-signature": sign(secret, raw), "Authorization": ""})


def drain(hub: Hub) -> int:
    worker = hub.channel_worker("test")
    done = 0
    while (n := worker.run_once()):
        done += n
    return done


def orders(capi: TestClient) -> list[dict[str, Any]]:
    return capi.get("/api/v1/orders", params={"channel": "shopify"}).json()["items"]


def test_account_secrets_are_never_returned_and_need_admin(capi: TestClient,
                                                           tokens: dict[str, str]) -> None:
    got = capi.get("/api/v1/channels/own-store").json()
    assert got["credentials"] == {"access_token": "set", "webhook_secret": "set"}
    assert SECRET not in json.dumps(got) and "shpat_x" not in json.dumps(got)
    assert got["hook_url"].endswith("/hooks/own-store")
    ops = {"Authorization": f"Bearer {tokens['ops']}"}
    assert capi.get("/api/v1/channels", headers=ops).status_code == 200
    assert capi.put("/api/v1/channels/x", headers=ops, json={
        "platform": "shopify", "shop_id": "b", "credentials": {}}).status_code == 403
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
    assert capi.get("/api/v1/channels", headers=viewer).status_code == 403


@pytest.mark.parametrize(("body", "field"), [
    ({"platform": "ebay", "shop_id": "a"}, "platform"),
    ({"platform": "shopify", "shop_id": "a b"}, "shop_id"),
    ({"platform": "shopify", "shop_id": "a", "credentials": {"partner_key": "x"}},
     "credentials.partner_key"),
    ({"platform": "shopify", "shop_id": "a"}, "credentials.access_token"),
    ({"platform": "shopify", "shop_id": "a", "base_url": "http://169.254.169.254",
      "credentials": {"access_token": "t"}}, "base_url"),
    ({"platform": "shopify", "shop_id": "acme", "credentials": {"access_token": "t"}},
     "shop_id"),  # another account has this shop
])
def test_bad_accounts_are_refused_with_the_field(capi: TestClient, body: dict[str, Any],
                                                 field: str) -> None:
    answer = capi.put("/api/v1/channels/second", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and error["message_zh"]
    assert capi.get("/api/v1/channels/second").status_code == 404


def test_a_push_is_kept_fetched_once_and_mapped_exactly(capi: TestClient, chub: Hub,
                                                        shop: FakeShop) -> None:
    shop.order("9007199254740993", voucher="1.25",
               lines=(("SKU-A", 2, "10.00"), ("SKU-B", 1, "5.05")))
    answer = push(capi, {"order_id": 9007199254740993})
    assert answer.status_code == 200 and answer.content == b""
    assert push(capi, {"order_id": 9007199254740993}).status_code == 200  # replayed push
    drain(chub)
    assert shop.calls.count("get") == 1
    [row] = orders(capi)
    detail = capi.get(f"/api/v1/orders/{row['id']}").json()
    assert detail["external_id"] == "9007199254740993"
    assert detail["total"] == "26.30" and detail["shipping_fee"] == "2.50"
    assert detail["adjustments"] == {"platform_voucher": "-1.25"}
    assert [ln["sku"] for ln in detail["lines"]] == ["SKU-A", "SKU-B"]
    assert detail["status"] == "paid"
    assert detail["customer"]["phone"] == "******64"
    raw = capi.get(f"/api/v1/orders/{row['id']}/raw").json()["items"]
    assert raw[0]["payload"]["id"] == 9007199254740993
    timeline = capi.get(f"/api/v1/orders/{row['id']}/events").json()["items"]
    placed = timeline[0]
    assert placed["type"] == "order.placed" and placed["source"] == "shopify"
    assert placed["occurred_at"].startswith("2026-11-26T02:00:00")


def test_bad_signature_unknown_account_and_truncated_push(capi: TestClient, chub: Hub) -> None:
    assert push(capi, {"order_id": 1}, secret="wrong").status_code == 401
    raw = b'{"order_id": 1'
    unknown = capi.post("/hooks/nobody", content=raw,
                        headers={"x-fake-signature": sign(SECRET, raw)})
    assert unknown.status_code == 401 and unknown.json()["error"]["message_zh"]
    truncated = capi.post("/hooks/own-store", content=raw,
                          headers={"x-fake-signature": sign(SECRET, raw)})
    assert truncated.status_code == 200  # kept, acknowledged, never retried forever
    health = capi.get("/api/v1/channels/own-store").json()["health"]
    assert health["pushes_refused"] == 1 and health["errors"] == 1
    [kept] = capi.get("/api/v1/channels/own-store/quarantine").json()["items"]
    assert kept["raw"] == raw.decode() and kept["reason"].startswith("push:")
    assert drain(chub) == 0 and orders(capi) == []


def test_later_versions_update_with_events_and_older_ones_change_nothing(
        capi: TestClient, chub: Hub, shop: FakeShop) -> None:
    shop.order("100", updated="2026-11-26T10:05:00+08:00", status="pending")
    push(capi, {"order_id": 100})
    drain(chub)
    [row] = orders(capi)
    assert row["status"] == "placed"
    newer = shop.order("100", updated="2026-11-26T11:00:00+08:00", status="paid",
                       line1="9 Raffles Pl", lines=(("SKU-A", 2, "10.00"),),
                       cancelled={"SKU-A": 1})
    push(capi, {"order_id": 100, "order": json.loads(json.dumps(newer, default=str))})
    drain(chub)
    detail = capi.get(f"/api/v1/orders/{row['id']}").json()
    assert detail["status"] == "paid"
    assert detail["shipping_address"]["line1"] == "9 Raffles Pl"
    assert detail["lines"][0]["cancelled_quantity"] == 1
    types = [e["type"] for e in capi.get(f"/api/v1/orders/{row['id']}/events").json()["items"]]
    assert types.count("order.address_changed") == 1
    assert types.count("order.lines_cancelled") == 1
    assert types.count("payment.succeeded") == 1
    older = shop.order("100", updated="2026-11-26T10:30:00+08:00", status="cancelled",
                       line1="Old St")
    push(capi, {"order_id": 100, "order": json.loads(json.dumps(older, default=str))})
    drain(chub)
    again = capi.get(f"/api/v1/orders/{row['id']}").json()
    assert again["status"] == "paid" and again["shipping_address"]["line1"] == "9 Raffles Pl"
    assert len(capi.get(f"/api/v1/orders/{row['id']}/events").json()["items"]) == len(types)


def test_unmappable_orders_go_to_quarantine_and_replay_after_a_fix(
        capi: TestClient, chub: Hub, shop: FakeShop) -> None:
    shop.order("200", currency="USD")  # a currency this SG shop does not sell in
    shop.order("201", status="weird")
    shop.order("202")
    for oid in ("200", "201", "202", "201"):  # the bad one twice: still one quarantine row
        push(capi, {"order_id": oid, "again": oid == "201"})
        drain(chub)
    assert [o["external_id"] for o in orders(capi)] == ["202"]
    held = capi.get("/api/v1/channels/own-store/quarantine").json()["items"]
    assert sorted((h["external_id"], h["field"]) for h in held) == [("200", "currency"),
                                                                    ("201", "status")]
    assert all(h["reason_zh"] for h in held)
    # the fix: the shop is set to sell in USD too -> replay maps it
    fixed = capi.put("/api/v1/channels/own-store", json={
        "platform": "shopify", "shop_id": "acme", "region": "SG", "currency": "USD"})
    assert fixed.status_code == 200, fixed.text
    usd = next(h for h in held if h["external_id"] == "200")
    replayed = capi.post(f"/api/v1/channels/own-store/quarantine/{usd['seq']}/replay")
    assert replayed.json()["outcome"] == "created", replayed.text
    assert capi.post(f"/api/v1/channels/own-store/quarantine/{usd['seq']}/replay"
                     ).status_code == 409


def test_pull_pages_waits_out_rate_limits_refreshes_tokens_and_moves_the_watermark(
        capi: TestClient, chub: Hub, shop: FakeShop) -> None:
    for i in range(8):
        shop.order(str(300 + i), updated=f"2026-11-26T10:{10 + i}:00+08:00")
    shop.rate_limit_next, shop.expire_next = 2, 1
    summary = capi.post("/api/v1/channels/own-store/pull", json={
        "since": "2026-11-26T00:00:00+08:00", "until": "2026-11-27T00:00:00+08:00"}).json()
    assert summary["created"] == 8 and summary["pages"] == 3, summary
    assert summary["rate_limited"] == 2 and summary["token_refreshed"] == 1
    assert datetime.fromisoformat(summary["watermark"]) \
        == datetime.fromisoformat("2026-11-27T00:00:00+08:00")
    again = capi.post("/api/v1/channels/own-store/pull", json={
        "since": "2026-11-26T00:00:00+08:00", "until": "2026-11-27T00:00:00+08:00"}).json()
    assert again["created"] == 0 and again["unchanged"] == 8
    assert len(orders(capi)) == 8
    assert chub.channel_accounts.get("own-store") is not None
    bad = capi.post("/api/v1/channels/own-store/pull", json={"since": "2026-11-26T00:00:00"})
    assert bad.status_code == 422 and bad.json()["error"]["message_zh"]


def test_scheduled_catch_up_pulls_from_the_watermark(capi: TestClient, chub: Hub,
                                                     shop: FakeShop, clock: Any) -> None:
    clock.now = datetime.fromisoformat("2026-11-26T12:00:00+08:00")
    shop.order("400", updated="2026-11-26T11:00:00+08:00")
    worker = chub.channel_worker("sched")
    [first] = worker.run_schedule()
    assert first["created"] == 1
    assert worker.run_schedule() == []  # not due again yet
    clock.advance(minutes=11)
    shop.order("401", updated="2026-11-26T12:05:00+08:00")
    [second] = worker.run_schedule()
    assert second["created"] == 1 and second["unchanged"] == 0
    assert datetime.fromisoformat(second["since"]) <= clock.now - timedelta(minutes=15)


def test_the_console_page_shows_health_tests_pulls_replays_and_saves(
        capi: TestClient, chub: Hub, shop: FakeShop) -> None:
    import re

    from orderpilot.adapters.accounts import AccountRepository
    from orderpilot.services.accounts import create_user
    with chub.db.write() as conn:
        for role in ("admin", "viewer"):
            create_user(AccountRepository(conn), role, "pass-word-1", role, chub.clock)
    shop.order("500", status="weird")
    push(capi, {"order_id": 500})
    drain(chub)
    with TestClient(create_app(chub), follow_redirects=False) as web:
        def csrf(path: str) -> str:
            found = re.search(r'name="csrf_token" value="([^"]+)"', web.get(path).text)
            assert found
            return found.group(1)

        def sign_in(user: str) -> str:
            assert web.post("/console/login", data={"username": user, "password": "pass-word-1",
                                                    "csrf_token": csrf("/console/login")}
                            ).status_code == 303
            return csrf("/console")

        sign_in("viewer")
        assert web.get("/console/channels").status_code == 403
        web.cookies.clear()
        token = sign_in("admin")
        page = web.get("/console/channels").text
        assert "渠道与系统" in page and "http://testserver/hooks/own-store" in page
        assert "shpat_x" not in page and SECRET not in page
        assert "1 个订单无法映射" in page and "未知状态" in page
        tested = web.post("/console/channels/own-store/test", data={"csrf_token": token})
        assert tested.status_code == 200 and "已连接" in tested.text
        pulled = web.post("/console/channels/own-store/pull",
                          data={"csrf_token": token, "hours": "24"})
        assert pulled.status_code == 200 and "共拉取" in pulled.text
        saved = web.post("/console/channels", data={
            "csrf_token": token, "code": "lazada-my", "platform": "shopify",
            "shop_id": "other", "cred_shopify_access_token": "tok-2",
            "cred_lazada_access_token": "not-this-one"})
        assert saved.status_code == 303, saved.text
        refused = web.post("/console/channels", data={
            "csrf_token": token, "code": "BAD CODE", "platform": "shopify", "shop_id": "x"})
        assert refused.status_code == 422 and "渠道代码" in refused.text
    assert capi.get("/api/v1/channels/lazada-my").json()["credentials"]["access_token"] == "set"
