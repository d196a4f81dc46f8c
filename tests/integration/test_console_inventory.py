"""The inventory console (issue 4) on both databases: three sources side by side, stock per
SKU refreshed in place, strategies and thresholds ops edit, and the promotion board."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from test_console_automation import HTMX, make_hub, sign_in

from conftest import FakeClock
from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.inventory import Source
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_user
from orderpilot.services.inventory import sync as inventory_sync
from orderpilot.services.inventory.sync import LevelReport

SOURCES = (
    Source("NB", "bonded_spot", "宁波北仑保税仓", "Ningbo Beilun bonded", "宁波北仑保税区", 1,
           sync_schedule="seconds", low_threshold=2),
    Source("HZ", "domestic_transfer", "杭州仓", "Hangzhou", "杭州", 2,
           sync_schedule="every_5_minutes"),
    Source("LA", "in_transit", "洛杉矶仓", "Los Angeles", "US", 20,
           sync_schedule="daily_0200"),
)


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock) -> Iterator[Hub]:
    made = make_hub(database_url, tmp_path / "data", clock)
    with made.db.write() as conn:
        create_user(AccountRepository(conn), "warehouse", "correct-horse-42", "warehouse",
                    made.clock)
    for source in SOURCES:
        inventory_sync.put_source(source, made.uow, made.clock)
    inventory_sync.apply_levels("wms-1", [
        LevelReport("NB", "MILK-900", 30), LevelReport("HZ", "MILK-900", 12),
        LevelReport("LA", "MILK-900", 500, expected_at=clock().date().replace(day=28)),
        LevelReport("NB", "DIAPER-L", 2)], made.uow, made.clock)
    yield made
    made.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), follow_redirects=False) as c:
        yield c


def test_the_inventory_page_shows_three_kinds_of_stock(client: TestClient) -> None:
    sign_in(client, "viewer")
    page = client.get("/console/inventory").text
    assert page.count('data-testid="source-card"') == 3
    for words in ("保税现货", "国内调拨", "海外在途", "宁波北仑保税区", "实时扣减", "预留 24 小时",
                  "不可售:仅展示预计到货日期", "秒级", "每 5 分钟", "每天 02:00"):
        assert words in page, words
    assert "MILK-900" in page and "DIAPER-L" in page
    assert "在途 500,预计 2026-11-28 到货" in page
    assert 'hx-trigger="every 5s' in page  # the stock refreshes itself
    assert "wms-1" not in page and "applied" in page  # the sync run, with its changes

    live = client.get("/console/inventory", params={"sku": "MILK-900"},
                      headers={**HTMX, "HX-Target": "live"})
    assert "<html" not in live.text and 'id="live"' in live.text
    assert "MILK-900" in live.text and "DIAPER-L" not in live.text


def test_the_page_shows_what_a_new_report_changed(client: TestClient, hub: Hub) -> None:
    sign_in(client, "viewer")
    inventory_sync.apply_levels("wms-2", [LevelReport("NB", "MILK-900", 7)], hub.uow, hub.clock)
    live = client.get("/console/inventory", params={"sku": "MILK-900"},
                      headers={**HTMX, "HX-Target": "live"}).text
    # Sellable now: 7 bonded + 12 transfer.
    assert re.search(r"当前可售: <strong[^>]*>19</strong>", live), live


def test_ops_change_a_channel_strategy_and_see_what_is_wrong(
        client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "ops")
    page = client.get("/console/inventory/strategies?channel=shopee").text
    assert "使用默认策略" in page and 'data-testid="strategy-form"' in page
    url = "/console/inventory/strategies/shopee"
    twice = client.post(url, data={"csrf_token": csrf, "tier1": "bonded_spot",
                                   "tier2": "bonded_spot", "allocate_on": "paid"})
    assert twice.status_code == 422 and "有层级重复出现" in twice.text
    assert "取货顺序" in twice.text and "未保存" in twice.text
    client.post("/console/locale", data={"locale": "en", "csrf_token": csrf})
    twice = client.post(url, data={"csrf_token": csrf, "tier1": "bonded_spot",
                                   "tier2": "bonded_spot", "allocate_on": "paid"})
    assert twice.status_code == 422 and "a tier appears twice" in twice.text
    client.post("/console/locale", data={"locale": "zh_CN", "csrf_token": csrf})
    bad_ttl = client.post(url, data={"csrf_token": csrf, "tier1": "bonded_spot",
                                     "allocate_on": "paid", "ttl_hours": "abc"})
    assert bad_ttl.status_code == 422 and "请输入 1 到 720 之间的整数" in bad_ttl.text
    with hub.db.read() as conn:
        assert InventoryRepository(conn).strategy("shopee") is None  # nothing saved

    saved = client.post(url, data={"csrf_token": csrf, "tier1": "domestic_transfer",
                                   "tier2": "bonded_spot", "allow_split": "1",
                                   "allocate_on": "placed", "ttl_hours": "12"})
    assert saved.status_code == 303
    with hub.db.read() as conn:
        strategy = InventoryRepository(conn).strategy("shopee")
    assert strategy is not None
    assert (strategy.tiers, strategy.allow_split, strategy.allocate_on,
            strategy.reservation_ttl_hours) == (("domestic_transfer", "bonded_spot"), True,
                                                "placed", 12)
    assert "已保存" in client.get(saved.headers["location"]).text
    assert client.post("/console/inventory/strategies/mars",
                       data={"csrf_token": csrf, "tier1": "bonded_spot"}).status_code == 404


def test_source_thresholds_are_edited_by_warehouse_but_not_by_a_viewer(
        client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "warehouse")
    url = "/console/inventory/sources/NB/thresholds"
    bad = client.post(url, data={"csrf_token": csrf, "safety_stock": "-1",
                                 "low_threshold": "5", "reservation_ttl_hours": "24"})
    assert bad.status_code == 422 and "请输入 0 到 1000000000 之间的整数" in bad.text
    ok = client.post(url, data={"csrf_token": csrf, "safety_stock": "3",
                                "low_threshold": "5", "reservation_ttl_hours": "24"})
    assert ok.status_code == 303
    with hub.db.read() as conn:
        source = InventoryRepository(conn).source("NB")
    assert source is not None and (source.safety_stock, source.low_threshold) == (3, 5)
    assert source.kind == "bonded_spot" and source.sync_schedule == "seconds"  # kept

    client.post("/console/logout", data={"csrf_token": csrf})
    viewer = sign_in(client, "viewer")
    assert 'name="safety_stock"' not in client.get("/console/inventory/strategies").text
    assert client.post(url, data={"csrf_token": viewer, "safety_stock": "0",
                                  "low_threshold": "0",
                                  "reservation_ttl_hours": "24"}).status_code == 403


def test_a_promotion_is_created_started_and_watched_live(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "ops")
    bad = client.post("/console/promotions", data={
        "csrf_token": csrf, "name": "直播间前 100 单送小样", "trigger_sku": "DIAPER-L",
        "gift_sku": "MILK-900", "gift_source": "NB", "quota": "0"})
    assert bad.status_code == 422 and "名额和赠品数量" in bad.text
    made = client.post("/console/promotions", data={
        "csrf_token": csrf, "name": "直播间前 10 单送小样", "trigger_sku": "DIAPER-L",
        "gift_sku": "MILK-900", "gift_source": "NB", "quota": "10", "gift_quantity": "1"})
    assert made.status_code == 303
    board_url = made.headers["location"]
    draft = client.get(board_url).text
    assert "草稿" in draft and "开始:锁定 10 件" in draft
    started = client.post(f"{board_url}/start", data={"csrf_token": csrf})
    assert started.status_code == 303
    live = client.get(board_url, headers={**HTMX, "HX-Target": "board"})
    assert "<html" not in live.text and 'data-chart="promotion-gauge"' in live.text
    assert '"type": "gauge"' in live.text and "进行中" in live.text
    assert 'data-testid="promo-remaining">10<' in live.text
    with hub.db.read() as conn:
        assert conn.execute(sa.select(t.inventory_levels.c.reserved).where(
            t.inventory_levels.c.source == "NB",
            t.inventory_levels.c.sku == "MILK-900")).scalar() == 10  # locked at once
    listing = client.get("/console/promotions").text
    assert "直播间前 10 单送小样" in listing and "0 / 10" in listing
    again = client.post(f"{board_url}/start", data={"csrf_token": csrf})
    assert again.status_code == 409
    assert client.get("/console/promotions/nope").status_code == 404
