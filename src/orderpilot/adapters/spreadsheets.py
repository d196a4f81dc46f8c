"""Reading and writing the sheets staff exchange: Excel (.xlsx, openpyxl) and CSV.

Rows are numbered as Excel shows them (the header is row 1), so a reported row number is the
one staff find in their file. Reading is bounded (sheet_reading); every writer here and in the
console passes its cells through cell_safety.formula_safe, so no exported text runs as a
formula. CSV is written UTF-8 with a byte-order mark, which Excel needs to show Chinese; CSV
from Chinese Excel (GB18030) is read too.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from orderpilot.adapters.cell_safety import formula_safe, formula_safe_row, sheet_safe
from orderpilot.adapters.sheet_reading import (
    Sheet,
    SheetLimits,
    UnreadableSheet,
    read_limited,
)

__all__ = ["Sheet", "SheetLimits", "UnreadableSheet", "formula_safe", "formula_safe_row",
           "read_sheet", "sheet_bytes", "sheet_from_bytes", "sheet_kind", "write_sheet"]
DEFAULT_LIMITS = SheetLimits()

FORMATS = {"money": "0.00", "time": "yyyy-mm-dd hh:mm:ss", "text": "@", "int": "0"}
WIDTHS = {"money": 12, "time": 20, "text": 18, "int": 8}


def sheet_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "excel"
    if suffix == ".csv":
        return "csv"
    if suffix == ".xls":
        raise UnreadableSheet("old_xls", file=path.name)
    raise UnreadableSheet("wrong_type", file=path.name)


def read_sheet(path: Path, limits: SheetLimits = DEFAULT_LIMITS, *,
               name: str | None = None) -> Sheet:
    """The first sheet of a workbook, or a CSV file; blank rows are skipped, not reported.
    Reading stops at the first limit passed (UnreadableSheet says which, and where)."""
    return read_limited(path, sheet_kind(path), limits, name)


def write_sheet(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]],
                kinds: Sequence[str] | None = None, *, title: str = "orders") -> int:
    """Write a header and rows; ``kinds`` (text/money/time/int per column) sets Excel formats.
    Returns how many data rows were written. Rows may be a generator (streamed)."""
    kind = sheet_kind(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        return _write_csv(path, header, rows)
    return _write_xlsx(path, header, rows, kinds, title)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "" if value is None else formula_safe(value)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(formula_safe_row(header))
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
            count += 1
    return count


def _write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]],
                kinds: Sequence[str] | None, title: str) -> int:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    for i, _ in enumerate(header, start=1):
        kind = kinds[i - 1] if kinds else "text"
        sheet.column_dimensions[get_column_letter(i)].width = WIDTHS.get(kind, 18)
    bold = Font(bold=True)
    head = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=sheet_safe(text))
        cell.data_type = "s"
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    count = 0
    for row in rows:
        out = []
        for i, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value=sheet_safe(value))
            if isinstance(value, str):
                cell.data_type = "s"  # text is never written as a formula
            if kinds and i < len(kinds):
                cell.number_format = FORMATS.get(kinds[i], "General")
            out.append(cell)
        sheet.append(out)
        count += 1
    # Write to a sibling file first so an interrupted export never leaves half a workbook.
    partial = path.with_name(path.name + ".part")
    book.save(partial)
    partial.replace(path)
    return count


def sheet_from_bytes(data: bytes, filename: str,
                     limits: SheetLimits = DEFAULT_LIMITS) -> Sheet:
    """Read an uploaded .xlsx or .csv (UnreadableSheet says what is wrong)."""
    name = Path(filename).name or "upload"
    kind = sheet_kind(Path(name))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload.{'xlsx' if kind == 'excel' else 'csv'}"
        path.write_bytes(data)
        return read_sheet(path, limits, name=name)


def sheet_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str,
                title: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sheet.{fmt}"
        write_sheet(path, header, rows, ["text"] * len(header), title=title[:31] or "sheet")
        return path.read_bytes()
