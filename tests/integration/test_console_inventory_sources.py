"""Stock sources and stock-level sheets in the console (issue 4, item 6) on both databases:
add and change a source with per-field errors, pull now, and download / upload levels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from test_console_automation import HTMX, make_hub, sign_in
from test_console_inventory import SOURCES

from conftest import FakeClock
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.bootstrap import Hub
from orderpilot.domain.inventory import Source
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_user
from orderpilot.services.inventory import sync as inventory_sync
from orderpilot.services.inventory.sync import LevelReport
from orderpilot.simulators.external.server import SimServer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NEW_SOURCE = {"code": "SH-FTZ", "kind": "bonded_spot", "name_zh": "上海外高桥保税仓",
              "name_en": "Shanghai Waigaoqiao bonded", "region": "上海自贸区",
              "lead_time_days": "1", "lead_times": "上海=0\n北京：3",
              "reservation_ttl_hours": "24", "sync_kind": "every_n", "sync_seconds": "30",
              "safety_stock": "2", "low_threshold": "5"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock,
        sim: SimServer) -> Iterator[Hub]:
    made = make_hub(database_url, tmp_path / "data", clock, sim_url=sim.url,
                    outbound_timeout_seconds=2)
    with made.db.write() as conn:
        create_user(AccountRepository(conn), "warehouse", "correct-horse-42", "warehouse",
                    made.clock)
    for source in SOURCES:
        inventory_sync.put_source(source, made.uow, made.clock)
    inventory_sync.apply_levels("wms-1", [
        LevelReport("NB", "MILK-900", 30), LevelReport("HZ", "MILK-900", 12),
        LevelReport("LA", "MILK-900", 500, expected_at=date(2026, 11, 28)),
        LevelReport("NB", "DIAPER-L", 2)], made.uow, made.clock)
    yield made
    made.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub), follow_redirects=False) as c:
        yield c


def source(hub: Hub, code: str) -> Source | None:
    with hub.db.read() as conn:
        return InventoryRepository(conn).source(code)


def on_hand(hub: Hub, code: str, sku: str) -> int:
    with hub.db.read() as conn:
        return int(InventoryRepository(conn).level(code, sku).on_hand)


def sheet(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    for row in [["仓库", "SKU", "在库", "预计到货"], *rows]:
        ws.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client: TestClient, csrf: str, name: str, content: bytes,
           dry_run: bool = False) -> httpx.Response:
    return client.post("/console/inventory/levels/upload",
                       headers={**HTMX, "X-CSRF-Token": csrf},
                       files={"file": (name, content, XLSX)},
                       data={"dry_run": "1"} if dry_run else {})


def test_ops_add_a_source_and_see_it_on_both_pages(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "ops")
    assert 'data-testid="sources-link"' in client.get("/console/inventory").text
    added = client.post("/console/inventory/sources", data={"csrf_token": csrf, **NEW_SOURCE})
    assert added.status_code == 303, added.text
    made = source(hub, "SH-FTZ")
    assert made == Source("SH-FTZ", "bonded_spot", "上海外高桥保税仓",
                          "Shanghai Waigaoqiao bonded", "上海自贸区", 1, 24,
                          {"上海": 0, "北京": 3}, "every_30s", 2, 5)
    listing = client.get(added.headers["location"]).text
    assert "库存来源 SH-FTZ 已保存" in listing
    row = listing.split('id="source-SH-FTZ"')[1].split("</tr>")[0]
    for words in ("保税现货", "上海外高桥保税仓", "上海自贸区", "1 天", "北京: 3 天", "每 30 秒",
                  "立即拉取"):
        assert words in row, words
    assert "每天 02:00(北京时间)" in listing.split('id="source-LA"')[1].split("</tr>")[0]
    assert client.get("/console/inventory").text.count('data-testid="source-card"') == 4

    again = client.post("/console/inventory/sources", data={"csrf_token": csrf, **NEW_SOURCE,
                                                            "name_zh": "别的仓"})
    assert again.status_code == 409 and "该代码的库存来源已存在" in again.text
    assert source(hub, "SH-FTZ") == made


def test_a_bad_value_is_shown_at_its_field_and_changes_nothing(client: TestClient,
                                                               hub: Hub) -> None:
    csrf = sign_in(client, "warehouse")
    before = source(hub, "HZ")
    form = client.get("/console/inventory/sources?edit=HZ").text
    assert 'data-testid="source-form"' in form and 'value="杭州仓"' in form
    assert 'name="code"' not in form  # the code is shown, not posted: it cannot be renamed
    url = "/console/inventory/sources/HZ"
    good = {"kind": "domestic_transfer", "name_zh": "杭州仓", "name_en": "Hangzhou",
            "region": "杭州", "lead_time_days": "2", "lead_times": "",
            "reservation_ttl_hours": "24", "sync_kind": "every_5_minutes",
            "safety_stock": "0", "low_threshold": "0"}
    bad = client.post(url, data={"csrf_token": csrf, **good, "lead_time_days": "-1",
                                 "sync_kind": "every_n", "sync_seconds": "3",
                                 "lead_times": "上海 1", "name_en": ""})
    assert bad.status_code == 422
    errors = dict(re.findall(r'data-testid="error-(\w+)">([^<]*)<', bad.text))
    assert errors == {"name_en": "必填，最多 100 个字符。",
                      "lead_time_days": "请输入 0 到 1000000000 之间的整数。",
                      "lead_times": "第 1 行：请写成 地区=天数，例如 上海=1。",
                      "sync_seconds": "请输入 5 到 86400 之间的整数。"}
    assert 'value="-1"' in bad.text  # the form comes back as it was typed
    assert source(hub, "HZ") == before

    saved = client.post(url, data={"csrf_token": csrf, **good, "code": "HZ2",
                                   "reservation_ttl_hours": "12", "name_zh": "杭州萧山仓"})
    assert saved.status_code == 303
    changed = source(hub, "HZ")
    assert changed is not None and source(hub, "HZ2") is None
    assert (changed.name_zh, changed.reservation_ttl_hours) == ("杭州萧山仓", 12)
    assert client.post("/console/inventory/sources/NOPE",
                       data={"csrf_token": csrf, **good}).status_code == 404


def test_a_viewer_reads_sources_but_may_not_change_them(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "viewer")
    page = client.get("/console/inventory/sources")
    assert page.status_code == 200 and "宁波北仑保税仓" in page.text
    assert 'data-testid="source-form"' not in page.text and "立即拉取" not in page.text
    assert 'data-testid="levels-excel"' not in client.get("/console/inventory").text
    for url, data in (("/console/inventory/sources", NEW_SOURCE),
                      ("/console/inventory/sources/NB", NEW_SOURCE),
                      ("/console/inventory/sources/NB/pull", {})):
        assert client.post(url, data={"csrf_token": csrf, **data}).status_code == 403, url
    assert upload(client, csrf, "levels.xlsx", sheet([["NB", "MILK-900", 1]])).status_code == 403
    assert source(hub, "SH-FTZ") is None and on_hand(hub, "NB", "MILK-900") == 30


def test_pull_now_records_the_sync_run_and_shows_it(client: TestClient, hub: Hub,
                                                    sim: SimServer) -> None:
    with sim.admin() as wms:
        wms.delete("/_sim/wms").raise_for_status()
        wms.put("/_sim/wms/stock", json={"warehouse": "NB", "items": [
            {"sku": "MILK-900", "on_hand": 44}]}).raise_for_status()
    csrf = sign_in(client, "ops")
    pulled = client.post("/console/inventory/sources/NB/pull", data={"csrf_token": csrf})
    assert pulled.status_code == 303
    assert on_hand(hub, "NB", "MILK-900") == 44
    page = client.get(pulled.headers["location"]).text
    run = page.split('data-testid="pulled-run"')[1].split("</tr>")[0]
    assert "NB" in run and "拉取" in run and "已应用" in run

    inventory_sync.put_source(Source("MAN", "bonded_spot", "手动仓", "Manual", "", 1),
                              hub.uow, hub.clock)
    manual = client.post("/console/inventory/sources/MAN/pull", data={"csrf_token": csrf})
    assert manual.status_code == 409 and "同步方式为手动" in manual.text


def test_a_levels_file_with_one_bad_row_changes_nothing(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "warehouse")
    content = "仓库,SKU,在库\nNB,MILK-900,50\nHZ,MILK-900,abc\nXX,MILK-900,1\n"
    refused = client.post("/console/inventory/levels/upload",
                          headers={**HTMX, "X-CSRF-Token": csrf},
                          files={"file": ("levels.csv", content.encode("utf-8-sig"),
                                          "text/csv")})
    assert refused.status_code == 422 and "<html" not in refused.text
    assert "2 行有问题，未导入任何数据" in refused.text
    rows = re.findall(r'data-testid="row-error"><td class="num">(\d+)</td><td>([^<]*)</td>',
                      refused.text)
    assert rows == [("3", "在库"), ("4", "仓库")]
    assert on_hand(hub, "NB", "MILK-900") == 30
    with_form = client.post("/console/inventory/levels/upload",  # no header: a forged form
                            files={"file": ("levels.csv", content.encode(), "text/csv")},
                            data={"csrf_token": csrf})
    assert with_form.status_code == 403


def test_a_dry_run_shows_the_changes_then_the_upload_applies_them(client: TestClient,
                                                                 hub: Hub) -> None:
    csrf = sign_in(client, "warehouse")
    content = sheet([["NB", "MILK-900", 50], ["NB", "DIAPER-L", 2],
                     ["LA", "MILK-900", 500, date(2026, 12, 5)], ["HZ", "NEW-SKU", 7]])
    dry = upload(client, csrf, "levels.xlsx", content, dry_run=True)
    assert dry.status_code == 200 and "4 行全部正确，将有 3 条库存变化" in dry.text
    changes = re.findall(r'data-testid="dry-run-change"><td class="mono small">(\w+)</td>'
                         r'<td class="mono">([\w-]+)</td>\s*<td class="num">([^<]+)</td>'
                         r'<td class="num strong">(\d+)</td>', dry.text)
    assert changes == [("NB", "MILK-900", "30", "50"), ("LA", "MILK-900", "500", "500"),
                       ("HZ", "NEW-SKU", "新增", "7")]
    assert "2026-11-28 → 2026-12-05" in dry.text
    assert on_hand(hub, "NB", "MILK-900") == 30  # a dry run writes nothing

    applied = upload(client, csrf, "levels.xlsx", content)
    assert applied.status_code == 200 and "已导入：4 行，3 条库存有变化" in applied.text
    assert on_hand(hub, "NB", "MILK-900") == 50 and on_hand(hub, "HZ", "NEW-SKU") == 7
    again = upload(client, csrf, "levels.xlsx", content)
    assert "之前已导入过，没有变化" in again.text


def test_the_downloaded_levels_upload_again(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, "warehouse")
    download = client.get("/console/inventory/levels.xlsx")
    assert download.status_code == 200 and download.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    book = load_workbook(BytesIO(download.content))
    ws = book.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == ["仓库", "SKU", "在库", "预计到货"]
    assert [r[:3] for r in rows[1:]] == [["HZ", "MILK-900", 12], ["LA", "MILK-900", 500],
                                         ["NB", "DIAPER-L", 2], ["NB", "MILK-900", 30]]
    assert rows[2][3].date() == date(2026, 11, 28)

    unchanged = upload(client, csrf, "库存.xlsx", download.content)
    assert "已导入：4 行，0 条库存有变化" in unchanged.text
    ws.cell(row=4, column=3).value = 9  # NB / DIAPER-L
    edited = BytesIO()
    book.save(edited)
    applied = upload(client, csrf, "库存.xlsx", edited.getvalue())
    assert "已导入：4 行，1 条库存有变化" in applied.text
    assert on_hand(hub, "NB", "DIAPER-L") == 9 and on_hand(hub, "NB", "MILK-900") == 30
