"""The Shopee client against the Shopee simulator: signatures, paging, faults, tokens, lost
pushes, and a signed push delivered to a live hook."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from orderpilot.adapters.channels.base import (
    Account,
    Hook,
    PlatformError,
    RateLimited,
    TokenExpired,
    Tokens,
)
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.shopee import INTEGRATION, PLATFORM
from orderpilot.integrations.shopee.client import ShopeeClient
from orderpilot.integrations.shopee.simulator import (
    SIM_CREDENTIALS,
    SIM_REGION,
    SIM_SHOP_ID,
)
from orderpilot.simulators.external.app import create_app

START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def sim() -> Iterator[TestClient]:
    app = create_app(integrations=IntegrationRegistry.of(INTEGRATION))
    with TestClient(app) as client:
        yield client


def account(**changes: Any) -> Account:
    base = Account(code="sg", platform="shopee", shop_id=SIM_SHOP_ID, region=SIM_REGION,
                   base_url="http://testserver/shopee",
                   callback_url="https://hub.example.com/hooks/sg",
                   credentials=dict(SIM_CREDENTIALS))
    return replace(base, **changes)


def client_for(sim: TestClient, **changes: Any) -> ShopeeClient:
    made = PLATFORM.client(account(**changes), sim, now)
    assert isinstance(made, ShopeeClient)
    return made


def generate(sim: TestClient, count: int, spread: int = 3600) -> list[str]:
    answer = sim.post("/_sim/shopee/generate", json={
        "count": count, "seed": 11, "start": START.isoformat(), "spread_seconds": spread})
    ids: list[str] = answer.json()["external_ids"]
    return ids


def list_all(client: ShopeeClient, since: datetime, until: datetime) -> tuple[list[str], int]:
    refs: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = client.list_orders(since, until, cursor)
        refs += page.refs
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            return refs, pages


def test_generate_list_get_round_trip_maps_every_order(sim: TestClient) -> None:
    ids = generate(sim, 230)
    client = client_for(sim)
    refs, pages = list_all(client, START, START + timedelta(hours=2))
    assert pages == 3 and sorted(refs) == sorted(ids)
    raws = [raw for i in range(0, len(refs), 50) for raw in client.get_orders(refs[i:i + 50])]
    assert len(raws) == 230
    for raw in raws:
        order = PLATFORM.map_order(raw, client.account)
        assert order.external_id == raw["order_sn"] and order.lines
        if raw["order_status"] != "UNPAID":  # paid: the escrow detail names every part
            assert "escrow_detail" in raw
            assert not [k for k, _ in order.adjustments if k == "other"]


def test_list_is_by_update_time_and_splits_windows_over_15_days(sim: TestClient) -> None:
    ids = generate(sim, 3, spread=60)
    client = client_for(sim)
    late = START + timedelta(days=20)
    sim.post("/_sim/shopee/status", json={"external_id": ids[0], "status": "SHIPPED",
                                          "at": late.isoformat()})
    refs, pages = list_all(client, START - timedelta(days=1), START + timedelta(days=25))
    assert sorted(refs) == sorted(ids) and pages == 2  # a 26-day span walked in two windows
    refs, _ = list_all(client, late - timedelta(hours=1), late + timedelta(hours=1))
    assert refs == [ids[0]]


def test_unknown_ids_are_left_out(sim: TestClient) -> None:
    [known] = generate(sim, 1)
    assert [o["order_sn"] for o in client_for(sim).get_orders([known, "260101NOTHERE"])] == [
        known]


def test_rate_limit_then_success(sim: TestClient) -> None:
    generate(sim, 2)
    client = client_for(sim)
    sim.post("/_sim/shopee/faults", json={"status": 429, "times": 1})
    with pytest.raises(RateLimited):
        client.list_orders(START, START + timedelta(hours=2), None)
    assert len(client.list_orders(START, START + timedelta(hours=2), None).refs) == 2


def test_server_error_is_transient(sim: TestClient) -> None:
    sim.post("/_sim/shopee/faults", json={"status": 503, "times": 1})
    with pytest.raises(PlatformError) as failed:
        client_for(sim).check()
    assert failed.value.transient and not isinstance(failed.value, TokenExpired)
    assert client_for(sim).check() == "Dolphin Baby Official Store SG"


def test_wrong_partner_key_is_a_permanent_sign_error(sim: TestClient) -> None:
    wrong = dict(SIM_CREDENTIALS, partner_key="not-the-key")
    with pytest.raises(PlatformError) as refused:
        client_for(sim, credentials=wrong).check()
    assert "error_sign" in refused.value.message and not refused.value.transient


def test_expired_token_then_refresh(sim: TestClient) -> None:
    client = client_for(sim)
    sim.post("/_sim/shopee/expire_tokens")
    with pytest.raises(TokenExpired):
        client.check()
    before = now()
    tokens = client.refresh()
    assert tokens is not None and tokens.access_token != SIM_CREDENTIALS["access_token"]
    assert tokens.expires_at is not None
    assert timedelta(hours=4) <= tokens.expires_at - before < timedelta(hours=4, seconds=30)
    assert client_for(sim, tokens=tokens).check()
    with pytest.raises(PlatformError):  # a refresh token works once
        client.refresh()
    assert client_for(sim, tokens=tokens).refresh() is not None


def test_lost_pushes_are_the_live_pushes_and_confirmed_only_when_all_taken(
        sim: TestClient) -> None:
    first, second = generate(sim, 2)
    client = client_for(sim)
    assert client.lost_pushes() == []
    for order_sn in (first, second):
        sim.post("/_sim/shopee/lose", json={"external_id": order_sn})
    notices = client.lost_pushes()
    assert [n.external_id for n in notices] == [first, second]
    assert all(n.kind == "order" and n.update_time for n in notices)
    client.confirm_lost(notices[:1])  # one not taken: the page stays
    assert len(client.lost_pushes()) == 2
    client.confirm_lost(notices)
    assert client.lost_pushes() == []
    other_shop = client_for(sim, shop_id="999")
    sim.post("/_sim/shopee/lose", json={"external_id": first})
    assert [n.kind for n in other_shop.lost_pushes()] == ["other"]


@pytest.fixture
def hook_server() -> Iterator[tuple[str, list[tuple[bytes, dict[str, str], str]]]]:
    received: list[tuple[bytes, dict[str, str], str]] = []
    app = FastAPI()

    @app.post("/hooks/sg")
    async def hook(request: Request) -> Response:
        received.append((await request.body(), dict(request.headers), str(request.url)))
        return Response(b"", 200)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/hooks/sg", received
    server.should_exit = True
    thread.join(5)


def test_signed_push_reaches_a_hook_and_replays_are_one_notice(
        sim: TestClient, hook_server: tuple[str, list[tuple[bytes, dict[str, str], str]]]
) -> None:
    url, received = hook_server
    [order_sn] = generate(sim, 1)
    answer = sim.post("/_sim/shopee/push", json={"hook_url": url, "external_id": order_sn,
                                                 "times": 2}).json()
    assert answer["status"] == 200 and answer["body"] == ""
    assert len(received) == 2
    shop = account(callback_url=url)
    keys = set()
    for body, headers, reached in received:
        hook = Hook(url=reached, headers=headers, query={})
        assert PLATFORM.verify_push(shop, hook, body)
        assert not PLATFORM.verify_push(shop, hook, body.replace(b'"code":3', b'"code":4'))
        [notice] = PLATFORM.read_push(body)
        assert notice.external_id == order_sn
        keys.add(notice.dedup_key)
    assert len(keys) == 1
    sim.post("/_sim/shopee/lose", json={"external_id": order_sn})
    assert client_for(sim).lost_pushes()[0].dedup_key in keys  # same key when drained later


def test_ten_thousand_generated_orders_page_by_one_hundred(sim: TestClient) -> None:
    started = time.perf_counter()
    assert len(generate(sim, 10_000, spread=86_400)) == 10_000
    elapsed = time.perf_counter() - started
    print(f"generated 10000 Shopee orders in {elapsed:.2f} s")
    assert PLATFORM.client(account(tokens=Tokens()), sim, now).list_orders(
        START, START + timedelta(days=1), None).next_cursor == f"{int(START.timestamp())}:100"


def test_a_stale_timestamp_is_refused_as_shopee_does(sim: TestClient) -> None:
    stale = PLATFORM.client(account(), sim, lambda: now() - timedelta(minutes=6))
    with pytest.raises(PlatformError) as refused:
        stale.check()
    assert "Timestamp is expired" in refused.value.message
