"""The cells and files reconciliation reads: amounts with thousands separators or 元 taken,
garbage refused; dates; quantities; headers in Chinese or English; each problem by file, row
and field."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from orderpilot.adapters.analytics.reconcile_files import read_file
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.reconciliation import per_mille, period, utc_bounds
from orderpilot.domain.reconciliation_cells import CellProblem, amount_cents, moment, quantity
from orderpilot.domain.times import SHANGHAI


@pytest.mark.parametrize(("value", "cents"), [
    ("1234.50", 123450), ("1,234.50", 123450), ("1234.50元", 123450), ("¥1,234.50", 123450),
    ("￥ 12", 1200), ("1,234,567.5", 123456750), (258, 25800), (258.5, 25850),
    (Decimal("0.01"), 1), ("-5.00", -500)])
def test_amounts_people_write_are_taken(value: object, cents: int) -> None:
    assert amount_cents(value) == cents


@pytest.mark.parametrize("value", ["12,34.5", "1.234,50", "abc", "1e3", "12.345", "", None,
                                   "NaN", "1,2345.00", "元", 1.005, float("inf"), True])
def test_garbage_amounts_are_refused(value: object) -> None:
    with pytest.raises(CellProblem) as refused:
        amount_cents(value)
    assert refused.value.zh and refused.value.en


def test_times_quantities_and_the_period() -> None:
    assert moment("2026/11/26") == datetime(2026, 11, 26, tzinfo=SHANGHAI)
    assert moment("2026-11-26 10:05") == datetime(2026, 11, 26, 10, 5, tzinfo=SHANGHAI)
    for bad in ("2026-13-01", "yesterday", "26.11.2026", "0001-01-01"):
        with pytest.raises(CellProblem):
            moment(bad)
    assert [quantity(v) for v in ("3", 2, 2.0, "4.0")] == [3, 2, 2, 4]
    for bad in ("two", "1.5", "0", "-1", ""):
        with pytest.raises(CellProblem):
            quantity(bad)
    first, last = period("2026-11-01", "2026-11-30")
    start, end = utc_bounds(first, last)
    assert (start.isoformat(), end.isoformat()) == ("2026-10-31T16:00:00+00:00",
                                                    "2026-11-30T16:00:00+00:00")
    assert per_mille(3, 10_000) == Decimal("0.300") and per_mille(0, 0) == Decimal("0.000")
    assert per_mille(1, 3) == Decimal("333.333")


def test_an_english_erp_export_with_its_status_column(tmp_path: Path) -> None:
    path = tmp_path / "ar.csv"
    path.write_text("FBillNo,FORDERNUMBER,FALLAMOUNTFOR,FDATE,FWRITTENOFFSTATUS,Channel\n"
                    "AR-1,A1,\"1,258.00\",2026-11-26,C,shopee\n"
                    "AR-2,A2,10.00,2026-11-26,X,\n"
                    "AR-3,A3,10.00,2026-11-26,,\n", encoding="utf-8")
    rows = read_file("erp", path)
    assert [(r["bill_no"], r["order_ref"], r["amount"], r["closed"], r["channel"])
            for r in rows.rows] == [("AR-1", "A1", 125800, True, "shopee"),
                                    ("AR-3", "A3", 1000, False, "")]
    assert [(f.row, f.field, f.code) for f in rows.findings] == [(3, "status", "bad_status")]


def test_a_bill_with_two_totals_and_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "ar.csv"
    path.write_text("单据编号,订单号,价税合计,业务日期,物料编码,数量\n"
                    "AR-1,A1,10.00,2026-11-26,SKU-1,1\n"
                    "AR-1,A1,12.00,2026-11-26,SKU-2,1\n"
                    "AR-2,,10.00,2026-11-26,SKU-1,\n", encoding="utf-8")
    rows = read_file("erp", path)
    assert [(f.file, f.row, f.field, f.code) for f in rows.findings] == [
        ("ar.csv", 4, "order_ref", "missing"), ("ar.csv", 4, "quantity", "missing"),
        ("ar.csv", 3, "amount", "amount_differs_in_bill")]
    assert [r["row"] for r in rows.rows] == [2]
    bad = tmp_path / "wms.csv"
    bad.write_text("出库单号,订单号,数量\nOB-1,A1,1\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        read_file("wms", bad)
    assert refused.value.field == "wms"
    assert refused.value.params["columns"] == ["sku", "shipped_at"]
    assert "出库时间" in (refused.value.zh or "")
