"""One Excel sheet as the console's downloads make it: a bold bilingual header row with column
widths, every text neutralised against formulas (adapters/cell_safety.py), number formats per
column, the header frozen; and the download's file name in ASCII and in Chinese."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from io import BytesIO
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from orderpilot.adapters.cell_safety import sheet_safe_row
from orderpilot.entrypoints.console.i18n import to_shanghai

TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MONEY_FORMAT = "#,##0.00"


def excel_time(value: str | None) -> datetime | None:
    """A stored time as Beijing wall time: Excel has no time zones."""
    moment = to_shanghai(value)
    return moment.replace(tzinfo=None) if moment else None


def sheet_bytes(title: str, columns: Sequence[tuple[str, int]], rows: Iterable[list[Any]],
                formats: Mapping[int, str], *, auto_filter: bool = False) -> bytes:
    """COLUMNS: (header, width); FORMATS: 1-based column -> number format."""
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook has one worksheet
    sheet.title = title
    sheet.append(sheet_safe_row(header for header, _ in columns))
    for i, (_, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
        cell = sheet.cell(row=1, column=i)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E79")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    sheet.row_dimensions[1].height = 32
    for values in rows:
        sheet.append(sheet_safe_row(values))  # a buyer's name is no formula
        row = sheet.max_row
        for column, number_format in formats.items():
            sheet.cell(row=row, column=column).number_format = number_format
    sheet.freeze_panes = "A2"
    if auto_filter:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(sheet.max_row, 1)}"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def attachment(stem: str, title: str, day: date) -> str:
    """An ASCII name for old clients and the Chinese one (RFC 6266 filename*) for the rest."""
    ascii_name = f"{stem}-{day.isoformat()}.xlsx"
    chinese = f"{title}-{day.isoformat()}.xlsx"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese)}"
