"""`orderpilot import orders` / `export orders` through the CLI, on a real SQLite data dir."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from orderpilot.adapters.views import orders as read_models
from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.cli.main import app

HEADER = ["渠道", "店铺", "平台订单号", "下单时间", "收货人", "手机", "省", "市", "区", "地址",
          "SKU", "商品名称", "数量", "单价", "运费", "实付总额", "标签", "备注"]
runner = CliRunner()


def order_row(external_id: str, *, sku: str = "DIAPER-L", quantity: Any = 2,
              unit_price: Any = 129, total: Any = 258, phone: Any = 13800138000,
              line1: str = "鄞州区天童南路8号") -> list[Any]:
    return ["有赞", "wx-mini", external_id, datetime(2026, 11, 26, 10, 30), "王芳", phone,
            "浙江省", "宁波市", "鄞州区", line1, sku, "纸尿裤L码", quantity, unit_price, 0, total,
            "直播间", ""]


def second_line(external_id: str, sku: str = "WIPES-80", quantity: Any = 2) -> list[Any]:
    return [None, "wx-mini", external_id, None, None, None, None, None, None, None, sku,
            "婴儿湿巾80抽", quantity, 19.9, None, None, None, None]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.setenv("ORDERPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables unwrapped, so output lines are whole
    return tmp_path / "data"


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path


def stored_orders(data_dir: Path) -> dict[str, dict[str, Any]]:
    """Every order in the data dir, by external id, as the API would show it."""
    hub = bootstrap(Settings(data_dir=data_dir))
    try:
        with hub.db.read() as conn:
            items, cursor = read_models.list_orders(conn, limit=500)
            assert cursor is None
            return {i["external_id"]: read_models.order_detail(conn, i["id"])  # type: ignore[misc]
                    for i in items}
    finally:
        hub.close()


def comparable(order: dict[str, Any]) -> dict[str, Any]:
    keep = ("channel", "shop_id", "external_id", "placed_at", "currency", "total", "customer",
            "shipping_fee", "shipping_address", "lines", "tags", "status")
    return {k: order[k] for k in keep}


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


def table_rows(output: str) -> list[list[str]]:
    """The cells of every rich table row in the output."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in output.splitlines() if line.strip().startswith("│")]


def reported(output: str) -> dict[int, str]:
    return {int(cells[0]): " ".join(cells[1:]) for cells in table_rows(output)
            if cells[0].isdigit()}


def summary(output: str) -> dict[str, str]:
    return {cells[0]: cells[1] for cells in table_rows(output) if " / " in cells[0]}


@pytest.fixture
def mixed_file(tmp_path: Path) -> Iterator[Path]:
    yield write_xlsx(tmp_path / "orders.xlsx", [
        order_row("YZ-1", total=297.8), second_line("YZ-1"),        # rows 2-3: good, two lines
        order_row("YZ-2", line1="宁波北仑保税区港东大道1号"),          # row 4: good, bonded zone
        order_row("YZ-3", quantity="两件"),                          # row 5: bad quantity
        order_row("YZ-4", total=999),                                # row 6: bad total
        order_row("YZ-5", total=297.8), second_line("YZ-5", sku="湿巾"),  # rows 7-8: bad SKU
        order_row("YZ-6", phone="打电话"),                           # row 9: bad phone
        order_row("YZ-7"),                                           # row 10: good
    ])


def test_import_keeps_good_orders_and_reports_bad_rows(data_dir: Path, mixed_file: Path,
                                                       tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.xlsx"
    result = invoke("import", "orders", str(mixed_file), "--rejects", str(rejects))
    assert result.exit_code == 1, result.output
    orders = stored_orders(data_dir)
    assert sorted(orders) == ["YZ-1", "YZ-2", "YZ-7"]
    assert [ln["sku"] for ln in orders["YZ-1"]["lines"]] == ["DIAPER-L", "WIPES-80"]
    assert orders["YZ-2"]["shipping_address"]["flags"] == ["bonded_zone"]
    assert orders["YZ-1"]["placed_at"] == "2026-11-26T02:30:00+00:00"
    raw = orders["YZ-1"]["raw_payloads"][0]
    assert (raw["source"], raw["version"]) == ("excel", "sheet-v1")
    assert [r["row"] for r in raw["payload"]["rows"]] == [2, 3]
    shown = reported(result.output)
    assert sorted(shown) == [5, 6, 7, 8, 9]
    for number, label in ((5, "数量 / quantity"), (6, "实付总额 / total"), (8, "SKU / sku"),
                          (9, "手机 / phone")):
        assert label in shown[number], shown[number]
    assert summary(result.output)["imported / 已导入"] == "3"
    sheet = load_workbook(rejects).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][-2:] == ("原因 / reason", "原行号 / source_row")
    assert [r[-1] for r in rows[1:]] == [5, 6, 7, 8, 9]
    assert [r[2] for r in rows[1:]] == ["YZ-3", "YZ-4", "YZ-5", "YZ-5", "YZ-6"]
    assert "row 8" in rows[3][-2] and "数量 / quantity" in rows[1][-2]


def test_reimport_creates_no_duplicates_and_a_fixed_rejects_file_imports(
        data_dir: Path, mixed_file: Path, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.xlsx"
    invoke("import", "orders", str(mixed_file), "--rejects", str(rejects))
    again = invoke("import", "orders", str(mixed_file))
    assert again.exit_code == 1
    counts = summary(again.output)
    assert (counts["imported / 已导入"], counts["already present / 已存在"]) == ("0", "3")
    assert len(stored_orders(data_dir)) == 3

    book = load_workbook(rejects)  # staff fix the cells the reasons point at
    sheet = book.worksheets[0]
    sheet["M2"], sheet["P3"], sheet["K5"], sheet["F6"] = 2, 258, "WIPES-80", "13900000000"
    book.save(rejects)
    fixed = invoke("import", "orders", str(rejects))
    assert fixed.exit_code == 0, fixed.output
    assert sorted(stored_orders(data_dir)) == [f"YZ-{i}" for i in range(1, 8)]


def test_dry_run_imports_nothing(data_dir: Path, mixed_file: Path) -> None:
    result = invoke("import", "orders", str(mixed_file), "--dry-run")
    assert result.exit_code == 1 and "dry run" in result.output
    assert stored_orders(data_dir) == {}


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_reimports_into_a_fresh_data_dir_as_the_same_orders(
        data_dir: Path, mixed_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        suffix: str) -> None:
    invoke("import", "orders", str(mixed_file))
    exported = tmp_path / f"export{suffix}"
    result = invoke("export", "orders", str(exported))
    assert result.exit_code == 0, result.output
    assert "exported 3 orders (4 lines)" in result.output
    if suffix == ".xlsx":
        cell = load_workbook(exported).worksheets[0]["Q2"]
        assert cell.number_format == "0.00" and isinstance(cell.value, int | float)

    fresh = tmp_path / "fresh"
    monkeypatch.setenv("ORDERPILOT_DATA_DIR", str(fresh))
    result = invoke("import", "orders", str(exported))
    assert result.exit_code == 0, result.output
    before, after = stored_orders(data_dir), stored_orders(fresh)
    assert {k: comparable(v) for k, v in after.items()} == {
        k: comparable(v) for k, v in before.items()}
    assert after["YZ-1"]["raw_payloads"][0]["source"] == suffix.strip(".").replace("xlsx",
                                                                                    "excel")


def test_export_filters(data_dir: Path, mixed_file: Path, tmp_path: Path) -> None:
    invoke("import", "orders", str(mixed_file))
    out = tmp_path / "one.csv"
    result = invoke("export", "orders", str(out), "--q", "YZ-2", "--channel", "youzan",
                    "--not-held", "--status", "placed")
    assert result.exit_code == 0, result.output
    assert "exported 1 orders" in result.output
    result = invoke("export", "orders", str(out), "--held")
    assert "exported 0 orders" in result.output
