"""The audit trail as an Excel sheet (API and console): bilingual header, Beijing times, before
and after as JSON text, every cell neutralised against formulas by the console's workbook
helper (entrypoints/console/workbooks.py, adapters/cell_safety.py)."""

from __future__ import annotations

import json
from typing import Any

from orderpilot.entrypoints.console.workbooks import TIME_FORMAT, excel_time, sheet_bytes

SHEET_TITLE = "操作审计"
FILE_STEM = "audit-log"
MAX_ROWS = 50_000  # an export is one filter's entries; narrow the dates for more

COLUMNS: tuple[tuple[str, int], ...] = (
    ("序号 / Seq", 9),
    ("时间(北京时间) / At (UTC+8)", 21),
    ("操作人 / Actor", 16),
    ("角色 / Role", 10),
    ("方式 / Via", 9),
    ("操作 / Action", 22),
    ("对象类型 / Subject type", 14),
    ("对象 / Subject", 30),
    ("订单ID / Order ID", 38),
    ("之前 / Before", 40),
    ("之后 / After", 40),
    ("详情 / Detail", 40),
)


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def workbook(entries: list[dict[str, Any]]) -> bytes:
    rows = [[e["seq"], excel_time(e["at"]), e["actor"], e["role"], e["via"], e["action"],
             e["subject_type"], e["subject_id"], e["order_id"] or "", _json(e["before"]),
             _json(e["after"]), _json(e["detail"])] for e in entries]
    return sheet_bytes(SHEET_TITLE, COLUMNS, rows, {2: TIME_FORMAT}, auto_filter=True)
