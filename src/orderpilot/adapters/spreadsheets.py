"""Reading and writing the sheets staff exchange: Excel (.xlsx, openpyxl) and CSV.

Rows are numbered as Excel shows them (the header is row 1), so a reported row number is the
one staff find in their file. CSV is written UTF-8 with a byte-order mark, which Excel needs
to show Chinese; CSV from Chinese Excel (GB18030) is read too.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMATS = {"money": "0.00", "time": "yyyy-mm-dd hh:mm:ss", "text": "@", "int": "0"}
WIDTHS = {"money": 12, "time": 20, "text": 18, "int": 8}


class UnreadableSheet(Exception):
    """The file is not a sheet we can read; the message says what to do."""


@dataclass(frozen=True)
class Sheet:
    header: list[Any]
    rows: list[tuple[int, tuple[Any, ...]]]  # (row number as Excel shows it, cells)
    source: str  # excel | csv


def sheet_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "excel"
    if suffix == ".csv":
        return "csv"
    if suffix == ".xls":
        raise UnreadableSheet(f"{path.name}: the old .xls format is not supported; "
                              "save it as .xlsx in Excel")
    raise UnreadableSheet(f"{path.name}: use an .xlsx or a .csv file")


def _blank(cells: Sequence[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def read_sheet(path: Path) -> Sheet:
    """The first sheet of a workbook, or a CSV file; blank rows are skipped, not reported."""
    kind = sheet_kind(path)
    try:
        table = _read_xlsx(path) if kind == "excel" else _read_csv(path)
    except (OSError, ValueError, KeyError) as error:
        raise UnreadableSheet(f"{path.name}: cannot be read ({error})") from error
    if not table:
        raise UnreadableSheet(f"{path.name}: is empty; the first row must be the header")
    rows = [(n, tuple(cells)) for n, cells in enumerate(table[1:], start=2) if not _blank(cells)]
    return Sheet(list(table[0]), rows, kind)


def _read_xlsx(path: Path) -> list[tuple[Any, ...]]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _read_csv(path: Path) -> list[tuple[Any, ...]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")  # what Chinese Excel writes for "CSV"
    return [tuple(row) for row in csv.reader(io.StringIO(text, newline=""))]


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
    return "" if value is None else value


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
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
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    count = 0
    for row in rows:
        out = []
        for i, value in enumerate(row):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula stays text
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


def sheet_from_bytes(data: bytes, filename: str) -> Sheet:
    """Read an uploaded .xlsx or .csv (UnreadableSheet says what is wrong)."""
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(filename).name or f"upload{suffix}")
        path.write_bytes(data)
        return read_sheet(path)


def sheet_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str,
                title: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sheet.{fmt}"
        write_sheet(path, header, rows, ["text"] * len(header), title=title[:31] or "sheet")
        return path.read_bytes()
