"""Formula injection (issue 8, item 3): every sheet and CSV the hub writes keeps hostile text as
text behind a single quote, and never writes a formula. One test per export path; each plants
the OWASP triggers (= + - @ tab CR) in the data and reads the file back."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from test_console_automation import make_hub, sign_in
from test_import_export import HEADER, data_dir, invoke, order_row, stored_orders, summary

from conftest import FakeClock
from hostile_sheets import HOSTILE
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app
from orderpilot.entrypoints.console.inventory.sheets import levels_workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from console_seed import PASSWORD, _place  # noqa: E402
from console_seed import make_hub as seeded_hub  # noqa: E402

__all__ = ["data_dir"]  # the CLI tests' fixture
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def xlsx_texts(data: bytes) -> list[str]:
    """Every text cell of every sheet, after checking that no cell is a formula."""
    book = load_workbook(io.BytesIO(data))  # not data_only: a formula would show as one
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    return [c.value for c in cells if isinstance(c.value, str)]


def csv_texts(data: bytes) -> list[str]:
    return [v for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
            for v in row]


def assert_neutralised(texts: list[str], planted: list[str], *, xlsx: bool) -> None:
    assert [t for t in texts if t.startswith(TRIGGERS)] == []
    for text in planted:
        behind_quote = "'" + (text.replace("\r", "\n") if xlsx else text)  # XML: CR -> LF
        assert any(t.startswith(behind_quote) for t in texts), (text, texts)


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock) -> Iterator[Hub]:
    made = make_hub(database_url, tmp_path / "data", clock)
    yield made
    made.close()


def test_pending_shipment_exception_export(tmp_path: Path) -> None:
    from orderpilot.domain.commands import PlaceHold
    from orderpilot.services import ordering

    hub = seeded_hub(tmp_path / "seeded")
    hub.clock.at = datetime(2026, 11, 26, 2, tzinfo=UTC)  # type: ignore[attr-defined]
    try:
        for n, (name, note) in enumerate([(HOSTILE[0], HOSTILE[1]), (HOSTILE[2], HOSTILE[3]),
                                          ("@SUM(1)", "\t=1 \r=1")], start=1):
            order_id = _place(hub, "youzan", f"YZ-F{n}", hub.clock(), city="宁波市",
                              line1="鄞州区天童南路8号", phone="13800138000", name=name,
                              price="99.00")
            ordering.place_hold(PlaceHold(order_id, "customer_request", note, "ops", "user"),
                                hub.uow, hub.clock)
        with TestClient(create_app(hub), follow_redirects=False) as client:
            found = client.get("/console/login").text
            csrf = found.split('name="csrf_token" value="')[1].split('"')[0]
            client.post("/console/login", data={"username": "ops", "password": PASSWORD,
                                                "csrf_token": csrf})
            exported = client.get("/console/exports/pending-shipment-exceptions.xlsx")
    finally:
        hub.close()
    assert exported.status_code == 200
    texts = xlsx_texts(exported.content)
    assert_neutralised(texts, [*HOSTILE[:4], "@SUM(1)", "\t=1 \r=1"], xlsx=True)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_cli_order_export_and_rejects_file(data_dir: Path, tmp_path: Path, suffix: str) -> None:
    good = order_row("YZ-F1")
    good[HEADER.index("收货人")] = HOSTILE[0]
    good[HEADER.index("标签")] = HOSTILE[1]
    good[HEADER.index("地址")] = HOSTILE[2] + "号"
    bad = order_row("YZ-F2", quantity="两件")
    bad[HEADER.index("备注")] = HOSTILE[3]
    bad[HEADER.index("收货人")] = HOSTILE[4]
    bad[HEADER.index("商品名称")] = HOSTILE[5]
    source = tmp_path / "in.csv"  # plain text: the hostile cells arrive as they would typed
    with source.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *([_csv(v) for v in row] for row in (good, bad))])
    rejects = tmp_path / f"rejects{suffix}"
    imported = invoke("import", "orders", str(source), "--rejects", str(rejects))
    assert imported.exit_code == 1, imported.output
    exported = tmp_path / f"orders{suffix}"
    assert invoke("export", "orders", str(exported)).exit_code == 0

    read = xlsx_texts if suffix == ".xlsx" else csv_texts
    assert_neutralised(read(rejects.read_bytes()), HOSTILE[3:], xlsx=suffix == ".xlsx")
    assert_neutralised(read(exported.read_bytes()), [HOSTILE[0], HOSTILE[1], HOSTILE[2] + "号"],
                       xlsx=suffix == ".xlsx")

    # the quote is only how the file says it: importing the export finds the same order
    again = invoke("import", "orders", str(exported))
    assert again.exit_code == 0, again.output
    assert stored_orders(data_dir)["YZ-F1"]["customer"]["name"] == HOSTILE[0]
    assert summary(again.output)["already present / 已存在"] == "1"


def _csv(value: Any) -> Any:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


def grid_body() -> dict[str, Any]:
    return {"inputs": [{"field": "event.data.outlet_code", "label": HOSTILE[0]}],
            "outputs": [{"field": "centre", "label": "+1"}, {"field": "note", "label": "@x"}],
            "rows": [["SZ01", "-1+2", "@SUM(1)"], ["HZ02", "\t=1", "\r=1"]]}


def test_decision_table_exports_on_the_api_and_the_console(api: Any, hub: Hub) -> None:
    put = api.put("/api/v1/decision-tables/centres", json=grid_body())
    assert put.status_code == 200, put.text
    stored = put.json()
    planted = [stored["inputs"][0]["label"], *(c for row in stored["rows"] for c in row[1:]),
               "+1", "@x"]
    assert HOSTILE[0] in planted
    with TestClient(create_app(hub), follow_redirects=False) as console:
        sign_in(console, "ops")
        for fmt in ("xlsx", "csv"):
            files = [api.get(f"/api/v1/decision-tables/centres/export?format={fmt}"),
                     console.get(f"/console/decision-tables/centres/download.{fmt}")]
            for got in files:
                assert got.status_code == 200
                texts = (xlsx_texts if fmt == "xlsx" else csv_texts)(got.content)
                assert_neutralised(texts, planted, xlsx=fmt == "xlsx")
                back = api.post("/api/v1/decision-tables/centres/import",
                                files={"file": (f"centres.{fmt}", got.content)})
                assert back.status_code == 200, back.text
                assert back.json()["created"] is False  # the same grid, quotes and all


def test_inventory_levels_download() -> None:
    levels = [{"source": "=cmd|' /C calc'!A0", "sku": HOSTILE[0], "on_hand": -5,
               "expected_at": None},
              {"source": "+1", "sku": "\t=1", "on_hand": 3, "expected_at": "2026-12-01"}]
    data = levels_workbook(levels)
    assert_neutralised(xlsx_texts(data), ["=cmd|' /C calc'!A0", HOSTILE[0], "+1", "\t=1"],
                       xlsx=True)
    numbers = [c.value for row in load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(
        min_row=2, min_col=3, max_col=3) for c in row]
    assert sorted(numbers) == [-5, 3]  # a real number stays a number, sign and all
