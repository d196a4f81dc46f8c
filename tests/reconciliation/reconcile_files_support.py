"""The three files of the known history (reconcile_history.py), written in the test: a Kingdee
receivable export (.xlsx, Chinese headers), a WMS outbound sheet (.csv, English headers) and a
platform settlement CSV (Chinese headers), each with known bad rows."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from reconcile_history import CLEAN

CLEAN_REFS = [f"C{n:02d}" for n in range(1, CLEAN + 1)]


def erp_xlsx(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["单据编号", "源单编号", "客户", "价税合计", "业务日期", "物料编码", "数量",
                  "核销状态"])
    for ref in CLEAN_REFS:  # rows 2-12; C01 in 元, C02 as a number cell
        amount: object = {"C01": "258.00元", "C02": 258}.get(ref, "258.00")
        sheet.append([f"AR-{ref}", ref, "张三", amount, "2026-11-26", "DIAPER-L", 2, "A"])
    for bill, ref, amount, status in (  # rows 13-20
            ("AR-E2", "E2", "258.00", "A"), ("AR-E3", "E3", "250.00", "A"),
            ("AR-E4", "E4", "258.00", "A"), ("AR-E6", "E6", "258.00", "A"),
            ("AR-E7", "E7", "258.00", "B"), ("AR-E8", "E8", "258.00", "A"),
            ("AR-E8-2", "E8", "258.00", "A"), ("AR-E9", "E9", "258.00", "C")):
        sheet.append([bill, ref, "张三", amount, "2026-11-26", "DIAPER-L", 2, status])
    sheet.append(["AR-G1", "GHOST-1", "李四", "99.00", "2026-11-26", "DIAPER-L", 1, "A"])  # 21
    sheet.append(["AR-OUT1", "OUT1", "张三", "258.00", "2026-11-27", "DIAPER-L", 2, "A"])  # 22
    sheet.append(["AR-BAD1", "C01", "张三", "12,34.5", "2026-11-26", "DIAPER-L", 2, "A"])  # 23
    sheet.append(["AR-BAD2", "C01", "张三", "258.00", "2026-13-01", "DIAPER-L", 2, "A"])  # 24
    sheet.append(["AR-C05", "C05", "张三", "258.00", "2026-11-26", "DIAPER-L", 2, "A"])  # 25
    book.save(path)
    return path


def wms_csv(path: Path) -> Path:
    lines = ["outbound_no,order_no,SKU,quantity,shipped_at"]
    for ref in [*CLEAN_REFS, "E3", "E5", "E7", "E8", "E9"]:  # rows 2-17
        lines.append(f"OB-{ref},{ref},DIAPER-L,2,2026-11-26 12:00:00")
    lines.append("OB-E4,E4,DIAPER-L,1,2026-11-26 12:00")  # 18: one short
    lines.append("OB-G2,GHOST-2,DIAPER-L,1,2026/11/26")  # 19
    lines.append("OB-X1,C01,DIAPER-M,two,2026-11-26")  # 20
    lines.append("OB-X2,C02,DIAPER-M,1,yesterday")  # 21
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def storefront_csv(path: Path) -> Path:
    lines = ["订单号,金额,结算时间"]
    for ref in [*CLEAN_REFS, "E2", "E3", "E4", "E5", "E7", "E8", "E9"]:  # rows 2-19
        amount = '"1,258.00"' if ref == "C02" else "258.00"
        lines.append(f"{ref},{amount},2026-11-28 09:00:00")
    lines.append("C04,abc,2026-11-28 09:00:00")  # 20
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
