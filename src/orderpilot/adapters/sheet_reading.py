"""Reading sheets that strangers send: streamed, with hard limits, refusing early.

An .xlsx is a zip of XML. Before anything is unpacked the zip's directory is checked (parts,
unpacked size, compression ratio: a zip bomb is refused from its directory alone); then the
sheet's declared range (<dimension>); then, while the sheet XML streams past one cell at a
time, rows (stopping at the limit + 1, never reading the rest), columns, cell length and the
number of cells, blank ones included. openpyxl reads the workbook parts (shared strings,
styles for dates) but not the sheet: its read-only worksheet pads every gap up to the declared
range, which is how a 4.7 KB file declaring ``A1:XFD1048576`` kept a core busy for minutes.
CSV is streamed the same way. XML entity expansion is bounded by expat itself.

Every refusal is an :class:`UnreadableSheet` with a stable ``code`` and the ``params`` its
message needs, so the console can say it in Chinese; ``str()`` is the English message.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError, iterparse

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.utils.exceptions import InvalidFileException

from orderpilot.adapters.cell_safety import unquoted
from orderpilot.domain.errors import UnreadableSheet
from orderpilot.domain.messages import CATALOGUE
from orderpilot.domain.sheet_limits import EXCEL_CELL_LIMIT, MIB, SheetLimits

__all__ = ["EXCEL_CELL_LIMIT", "MESSAGES", "MIB", "Sheet", "SheetLimits", "UnreadableSheet",
           "read_limited"]

# The English form of each refusal (domain/messages.py holds it with the Chinese one).
MESSAGES = {key.removeprefix("sheet."): texts[0] for key, texts in CATALOGUE.items()
            if key.startswith("sheet.")}


@dataclass(frozen=True)
class Sheet:
    header: list[Any]
    rows: list[tuple[int, tuple[Any, ...]]]  # (row number as Excel shows it, cells)
    source: str  # excel | csv


class _Collector:
    """Gathers rows cell by cell from a stream, refusing as soon as a limit is passed."""

    def __init__(self, name: str, limits: SheetLimits) -> None:
        self.name, self.limits = name, limits
        self.header: list[Any] | None = None
        self.rows: list[tuple[int, tuple[Any, ...]]] = []
        self.cells_seen = 0
        self._number = 0
        self._cells: dict[int, Any] = {}

    def start_row(self, number: int) -> None:
        self._number = number
        self._cells = {}

    def cell(self, column: int, value: Any) -> None:
        """A cell of the current row; columns count from 1. Blank cells are counted too, so a
        sheet of millions of styled empty cells is refused as early as one with values."""
        limits = self.limits
        self.cells_seen += 1
        if self.cells_seen > limits.last_row * limits.max_columns:
            raise UnreadableSheet("too_many_cells", file=self.name,
                                  limit=limits.last_row * limits.max_columns)
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        if column > limits.max_columns:
            raise UnreadableSheet("too_many_columns", file=self.name, row=self._number,
                                  column=_letter(column), limit=limits.max_columns)
        if isinstance(value, str) and len(value) > limits.max_cell:
            raise UnreadableSheet("cell_too_long", file=self.name, row=self._number,
                                  column=_letter(column), limit=limits.max_cell)
        if self._number > limits.last_row:
            raise UnreadableSheet("row_too_far", file=self.name, row=self._number,
                                  limit=limits.last_row)
        self._cells[column] = unquoted(value)

    def end_row(self) -> None:
        if not self._cells:
            return
        values: list[Any] = [None] * max(self._cells)
        for column, value in self._cells.items():
            values[column - 1] = value
        self._cells = {}
        if self.header is None:
            self.header = values
            return
        if len(self.rows) == self.limits.max_rows:
            raise UnreadableSheet("too_many_rows", file=self.name, limit=self.limits.max_rows)
        values.extend([None] * (len(self.header) - len(values)))  # as wide as the header
        self.rows.append((self._number, tuple(values)))

    def sheet(self, source: str) -> Sheet:
        if self.header is None:
            raise UnreadableSheet("empty", file=self.name)
        return Sheet(self.header, self.rows, source)


def _letter(column: int) -> str:
    return get_column_letter(column) if 1 <= column <= 18278 else str(column)


def read_limited(path: Path, kind: str, limits: SheetLimits, name: str | None = None) -> Sheet:
    name = name or path.name
    if path.stat().st_size > limits.max_file_bytes:
        raise UnreadableSheet("too_large", file=name, limit=limits.max_file_bytes // MIB)
    collector = _Collector(name, limits)
    if kind == "excel":
        _read_xlsx(path, collector)
    else:
        _read_csv(path, collector)
    return collector.sheet(kind)


def _check_zip(path: Path, name: str, limits: SheetLimits) -> None:
    """Refuse a zip bomb from its directory, before anything is unpacked. Python's zipfile
    never unpacks more than the size a part declares, so the declared sizes bound the work."""
    if not zipfile.is_zipfile(path):
        raise UnreadableSheet("not_xlsx", file=name)
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise UnreadableSheet("broken", file=name, detail=_detail(error)) from error
    if len(parts) > limits.max_zip_parts:
        raise UnreadableSheet("zip_parts", file=name, limit=limits.max_zip_parts)
    if sum(p.file_size for p in parts) > limits.max_unzipped_bytes:
        raise UnreadableSheet("zip_size", file=name, limit=limits.max_unzipped_bytes // MIB)
    for part in parts:
        if part.file_size > MIB and part.file_size > limits.max_zip_ratio * max(
                part.compress_size, 1):
            raise UnreadableSheet("zip_ratio", file=name, part=part.filename,
                                  limit=limits.max_zip_ratio)


# What a malformed workbook makes openpyxl, zipfile, zlib or the XML parser raise.
_BROKEN = (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, EOFError,
           ArithmeticError, ParseError, InvalidFileException, zipfile.BadZipFile, zlib.error)


def _read_xlsx(path: Path, collector: _Collector) -> None:
    name, limits = collector.name, collector.limits
    _check_zip(path, name, limits)
    # openpyxl's workbook-level reading (3.1), without its worksheet loading: in read-only
    # mode that reads a sheet without a <dimension> to its end just to learn its size.
    reader: Any = ExcelReader(path, read_only=True, data_only=True)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        targets = [rel.target for _, rel in reader.parser.find_sheets()
                   if rel.target in reader.valid_files and "chartsheet" not in rel.Type]
        if not targets:
            raise UnreadableSheet("no_sheet", file=name)
        with reader.archive.open(targets[0]) as source:
            _check_declared_range(source, name, limits)
        with reader.archive.open(targets[0]) as source:
            _stream_cells(source, reader.shared_strings, reader.wb, collector)
    except _BROKEN as error:
        raise UnreadableSheet("broken", file=name, detail=_detail(error)) from error
    finally:
        reader.archive.close()


def _check_declared_range(source: IO[bytes], name: str, limits: SheetLimits) -> None:
    """The <dimension> a sheet declares comes before its cells; a range past the limits is
    refused before one cell is read."""
    for _, element in iterparse(source, events=("start",)):
        if element.tag == _DATA:
            return
        if element.tag == _DIMENSION:
            columns, rows = range_boundaries(element.get("ref", "A1"))[2:]
            if (rows or 0) > limits.last_row or (columns or 0) > limits.max_columns:
                raise UnreadableSheet("declared_range", file=name, range=element.get("ref"),
                                      rows=limits.last_row, columns=limits.max_columns)
            return


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _CELL, _DATA = f"{_MAIN}row", f"{_MAIN}c", f"{_MAIN}sheetData"
_DIMENSION = f"{_MAIN}dimension"
_VALUE, _TEXT = f"{_MAIN}v", f"{_MAIN}t"
_COLUMN = re.compile(r"\$?([A-Za-z]{1,3})")


def _stream_cells(source: IO[bytes], shared: Sequence[Any], book: Any,
                  collector: _Collector) -> None:
    """The sheet XML, one cell at a time, each element dropped once read. openpyxl's own row
    iterator pads every gap up to the declared range and builds a whole row before looking at
    it, so neither bounds the work; this does, cell by cell."""
    data: Any = None
    number = column = 0
    for event, element in iterparse(source, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == _DATA:
                data = element
            elif tag == _ROW:
                given = element.get("r")
                number = int(given) if given else number + 1
                column = 0
                collector.start_row(number)
            continue
        if tag == _CELL:
            ref = element.get("r")
            match = _COLUMN.match(ref) if ref else None
            column = column_index_from_string(match.group(1)) if match else column + 1
            collector.cell(column, _cell_value(element, shared, book))
            element.clear()
        elif tag == _ROW:
            collector.end_row()
            if data is not None:
                data.clear()


def _cell_value(element: Any, shared: Sequence[Any], book: Any) -> Any:
    kind = element.get("t", "n")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in element.iter(_TEXT)) or None
    raw = element.findtext(_VALUE)
    if raw is None or raw == "":
        return None
    if kind == "s":
        text = shared[int(raw)]
        return str(text) if text is not None else None
    if kind == "b":
        return raw.strip() in ("1", "true")
    if kind in ("str", "e"):
        return raw
    if kind == "d":
        parse_iso: Any = from_ISO8601  # untyped in openpyxl
        return parse_iso(raw)
    number: int | float = float(raw) if any(c in raw for c in ".eE") else int(raw)
    style = int(element.get("s", 0) or 0)
    if style in book._date_formats:
        return from_excel(number, book.epoch)
    if style in book._timedelta_formats:
        return from_excel(number, book.epoch, timedelta=True)
    return number


def _detail(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= 200 else text[:200] + "..."


def _read_csv(path: Path, collector: _Collector) -> None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # what Chinese Excel writes for "CSV"
        except UnicodeDecodeError as error:
            raise UnreadableSheet("broken", file=collector.name,
                                  detail="neither UTF-8 nor GB18030 text") from error
    reader = csv.reader(io.StringIO(text, newline=""))
    number = 0
    while True:
        number += 1  # a record is one row in Excel, even with line breaks inside a cell
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                raise UnreadableSheet("csv_cell_too_long", file=collector.name, row=number,
                                      limit=collector.limits.max_cell) from error
            raise UnreadableSheet("bad_csv", file=collector.name, row=number,
                                  detail=_detail(error)) from error
        collector.start_row(number)
        for column, value in enumerate(row, start=1):
            collector.cell(column, value)
        collector.end_row()
