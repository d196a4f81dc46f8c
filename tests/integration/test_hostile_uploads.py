"""Hostile files on every way in (issue 8, items 8 and 9): the decision-table import on the API
and the console, the levels upload in the console (with dry run) and the CLI imports. Each is a
4xx (or a clear CLI error, exit 2) that names the file, nothing changes, and the reader stops
early instead of reading what lies past its limits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_console_automation import HTMX, make_hub, sign_in
from test_import_export import data_dir, invoke

from conftest import FakeClock
from hostile_sheets import (
    broken_xml,
    csv_with_long_field,
    dimension_bomb,
    many_rows,
    workbook,
    zip_bomb,
)
from orderpilot.adapters import sheet_reading
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app

__all__ = ["data_dir"]  # the CLI tests' fixture
TABLE_HEADER = ["网点 [in:event.data.outlet_code]", "中心 [out:centre]", "名称 [out:name]"]
LEVELS_HEADER = ["仓库", "SKU", "在库"]
URL = "/api/v1/decision-tables/centres"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock) -> Iterator[Hub]:
    made = make_hub(database_url, tmp_path / "data", clock)
    yield made
    made.close()


@pytest.fixture
def cells_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    original = sheet_reading._cell_value

    def counting(*args: Any) -> Any:
        seen.append(1)
        return original(*args)

    monkeypatch.setattr(sheet_reading, "_cell_value", counting)
    return seen


def hostile_tables() -> dict[str, tuple[bytes, str]]:
    return {"bomb.xlsx": (dimension_bomb(TABLE_HEADER), "A1:XFD1048576"),
            "plain.xlsx": (b"PK? no, just bytes named .xlsx", "not a zip archive"),
            "broken.xlsx": (broken_xml(TABLE_HEADER), "cannot be read"),
            "zeros.xlsx": (zip_bomb(), "compressed more than"),
            "long.csv": (csv_with_long_field(), "row 3 holds a cell of more than")}


def test_the_api_refuses_hostile_decision_table_files(api: Any, cells_read: list[int]) -> None:
    for name, (data, says) in hostile_tables().items():
        sent = api.post(f"{URL}/import", files={"file": (name, data)})
        assert sent.status_code == 422, (name, sent.text)
        error = sent.json()["error"]
        assert error["code"] == "unreadable_sheet" and error["field"] == "file"
        assert name in error["message"] and says in error["message"], error
        if name == "bomb.xlsx":
            assert cells_read == []  # refused from its declared range
    cells_read.clear()

    big = many_rows(TABLE_HEADER, 20_000)  # no <dimension>: only reading shows its size
    sent = api.post(f"{URL}/import", files={"file": ("big.xlsx", big)})
    assert sent.status_code == 422 and "more than 5000 rows" in sent.json()["error"]["message"]
    assert len(cells_read) == 3 * 5002  # the header, 5000 rows and the one past the limit
    assert api.get(URL).status_code == 404  # nothing was published


def test_the_api_refuses_jdm_json_nested_too_deep(api: Any) -> None:
    for body in (b"[" * 100_000, json.dumps(
            {"nodes": [{"type": "inputNode", "a": _nested(40)}]}).encode()):
        sent = api.post(f"{URL}/import", files={"file": ("deep.json", body)})
        assert sent.status_code == 422, sent.text
        assert "deeper than" in sent.json()["error"]["message"]
    assert api.get(URL).status_code == 404


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


def test_the_console_says_why_in_chinese(client_hub: tuple[TestClient, Hub]) -> None:
    client, _ = client_hub
    csrf = sign_in(client, "ops")
    headers = {**HTMX, "X-CSRF-Token": csrf}
    bomb = client.post("/console/decision-tables/centres/upload", headers=headers,
                       files={"file": ("bomb.xlsx", dimension_bomb(TABLE_HEADER), XLSX)},
                       data={"csrf_token": csrf})
    assert bomb.status_code == 422
    assert "bomb.xlsx 声明的区域为 A1:XFD1048576" in bomb.text
    long = client.post("/console/decision-tables/centres/upload", headers=headers,
                       files={"file": ("long.csv", csv_with_long_field(), "text/csv")},
                       data={"csrf_token": csrf})
    assert long.status_code == 422 and "long.csv：第 3 行有单元格超过" in long.text
    client.post("/console/locale", data={"locale": "en", "next": "/console",
                                         "csrf_token": csrf})
    english = client.post("/console/decision-tables/centres/upload", headers=headers,
                          files={"file": ("bomb.xlsx", dimension_bomb(TABLE_HEADER), XLSX)},
                          data={"csrf_token": csrf})
    assert english.status_code == 422
    assert "bomb.xlsx declares the range A1:XFD1048576; at most 10001 rows" in english.text


@pytest.fixture
def client_hub(hub: Hub) -> Iterator[tuple[TestClient, Hub]]:
    with TestClient(create_app(hub), follow_redirects=False) as client:
        yield client, hub


def test_the_levels_upload_refuses_hostile_files_and_changes_nothing(
        client_hub: tuple[TestClient, Hub]) -> None:
    client, hub = client_hub
    csrf = sign_in(client, "ops")
    files = {"bomb.xlsx": dimension_bomb(LEVELS_HEADER), "plain.xlsx": b"not a zip",
             "broken.xlsx": broken_xml(LEVELS_HEADER), "long.csv": csv_with_long_field(),
             "big.xlsx": many_rows(LEVELS_HEADER, 6000),
             "wide.xlsx": workbook([LEVELS_HEADER, ["NB", "A", 1, *([None] * 60), "far"]])}
    for name, data in files.items():
        for dry_run in ({"dry_run": "1"}, {}):
            sent = client.post("/console/inventory/levels/upload",
                               headers={**HTMX, "X-CSRF-Token": csrf},
                               files={"file": (name, data, XLSX)}, data=dry_run)
            assert sent.status_code == 422, (name, sent.text)
            assert name in sent.text
    with hub.db.read() as conn:
        from orderpilot.adapters.inventory import InventoryRepository

        assert InventoryRepository(conn).levels(limit=10) == []


def test_the_cli_imports_say_what_is_wrong_without_a_traceback(data_dir: Path,
                                                               tmp_path: Path) -> None:
    cases = {"orders.xlsx": (b"not a zip", "not a zip archive"),
             "bomb.xlsx": (dimension_bomb(LEVELS_HEADER), "A1:XFD1048576"),
             "long.csv": (csv_with_long_field(), "row 3 holds a cell of more than 32767"),
             "broken.xlsx": (broken_xml(LEVELS_HEADER), "cannot be read")}
    for command in (("import", "orders"), ("import", "levels")):
        for name, (data, says) in cases.items():
            path = tmp_path / name
            path.write_bytes(data)
            result = invoke(*command, str(path))
            assert result.exit_code == 2, (command, name, result.output)
            assert says in result.output and name in result.output
            assert "Traceback" not in result.output
            assert isinstance(result.exception, SystemExit)


def test_cli_output_shows_file_data_as_text_not_markup(data_dir: Path, tmp_path: Path) -> None:
    """Rich reads [..] as markup; a cell like [/red] used to crash the report (traceback)."""
    header = "渠道,店铺,平台订单号,下单时间,收货人,手机,省,市,区,地址,SKU,商品名称,数量,单价,[/x]\n"
    row = "有赞,wx,YZ-M1,2026-11-26 10:30:00,王芳,13800138000,浙江省,宁波市,鄞州区,路8号," \
          "DIAPER-L,纸尿裤,[/red],129,\n"
    path = tmp_path / "orders.csv"
    path.write_text(header + row, encoding="utf-8")
    result = invoke("import", "orders", str(path))
    assert result.exit_code == 1, result.output
    assert "[/red]" in result.output and "[/x]" in result.output
    assert isinstance(result.exception, SystemExit)
