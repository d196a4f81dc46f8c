"""Reading hostile sheets: every one refused with a 4xx-able UnreadableSheet that says where,
early, without reading what lies past the limit (issue 8, items 8 and 9)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from hostile_sheets import (
    HOSTILE,
    billion_laughs,
    broken_xml,
    csv_with_long_field,
    dimension_bomb,
    many_parts,
    many_rows,
    with_sheet_xml,
    workbook,
    zip_bomb,
)
from orderpilot.adapters import sheet_reading
from orderpilot.adapters.cell_safety import formula_safe, sheet_safe, unquoted
from orderpilot.adapters.sheet_reading import SheetLimits, UnreadableSheet
from orderpilot.adapters.spreadsheets import read_sheet, sheet_from_bytes, write_sheet

HEADER = ["仓库", "SKU", "在库"]


@pytest.fixture
def cells_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many cells the reader took from the sheet XML (one entry per cell)."""
    seen: list[int] = []
    original = sheet_reading._cell_value

    def counting(*args: Any) -> Any:
        seen.append(1)
        return original(*args)

    monkeypatch.setattr(sheet_reading, "_cell_value", counting)
    return seen


def refusal(data: bytes, name: str, limits: SheetLimits | None = None) -> UnreadableSheet:
    with pytest.raises(UnreadableSheet) as caught:
        sheet_from_bytes(data, name, limits or SheetLimits())
    assert name in str(caught.value)  # every message names the file
    return caught.value


def test_formula_safe_and_unquoted_are_inverse_and_leave_numbers_alone() -> None:
    for text in [*HOSTILE, "'=1", "''-2", "普通文本", "a=b", "'quoted'", "", "-"]:
        written = formula_safe(text)
        assert not (isinstance(written, str) and written[:1] in "=+-@\t\r" and written)
        assert unquoted(written) == text
    assert formula_safe(-5) == -5 and formula_safe(-1.5) == -1.5 and formula_safe(None) is None
    assert formula_safe("=1") == "'=1" and formula_safe("'=1") == "''=1"


def test_control_characters_are_written_visibly_in_every_xlsx_writer(tmp_path: Path) -> None:
    """A worksheet cannot hold C0 controls (openpyxl refuses the whole file): shown as \\xNN,
    tab and line feed kept, formulas still neutralised."""
    assert sheet_safe("a\x13b\x00") == "a\\x13b\\x00" and sheet_safe("a\tb\nc") == "a\tb\nc"
    assert sheet_safe("=\x01") == "'=\\x01" and sheet_safe(7) == 7
    path = tmp_path / "out.xlsx"
    assert write_sheet(path, ["名称\x1f"], [["促销\x13规则"]]) == 1
    assert read_sheet(path).rows == [(2, ("促销\\x13规则",))]


def test_a_dimension_bomb_is_refused_from_its_declared_range(cells_read: list[int]) -> None:
    error = refusal(dimension_bomb(HEADER), "bomb.xlsx")
    assert error.code == "declared_range" and "A1:XFD1048576" in str(error)
    assert cells_read == []  # refused before a single cell was read


def test_a_lying_dimension_does_not_make_the_reader_pad_to_the_last_row(
        cells_read: list[int]) -> None:
    bomb = zipfile.ZipFile(io.BytesIO(dimension_bomb(HEADER)))
    xml = bomb.read("xl/worksheets/sheet1.xml").replace(b"A1:XFD1048576", b"A1:C1")
    error = refusal(with_sheet_xml(workbook([HEADER]), xml), "liar.xlsx")
    assert error.code == "too_many_columns" and error.params["row"] == 1048576
    assert "XFD" in str(error)
    assert len(cells_read) == len(HEADER) + 1
    cells_read.clear()
    undeclared = re.sub(rb"<dimension[^>]*>", b"", xml).replace(b"XFD1048576", b"A1048576")
    far = refusal(with_sheet_xml(workbook([HEADER]), undeclared), "far.xlsx")
    assert far.code == "row_too_far" and far.params["row"] == 1048576
    assert len(cells_read) == len(HEADER) + 1


def test_rows_past_the_limit_are_never_read(cells_read: list[int]) -> None:
    limits = SheetLimits(max_rows=50)
    undeclared = refusal(many_rows(HEADER, 400_000), "big.xlsx", limits)
    assert undeclared.code == "too_many_rows" and "more than 50 rows" in str(undeclared)
    assert len(cells_read) == 3 * 52  # the header, 50 rows and the one past the limit
    cells_read.clear()
    declared = refusal(many_rows(HEADER, 60, declare_rows=400_000), "big.xlsx", limits)
    assert declared.code == "declared_range" and "A1:C400001" in str(declared)
    assert cells_read == []


def test_blank_rows_count_toward_the_last_row_read() -> None:
    limits = SheetLimits(max_rows=3)
    xml_rows = many_rows(HEADER, 2)
    assert len(sheet_from_bytes(xml_rows, "ok.xlsx", limits).rows) == 2
    far = workbook([HEADER, ["NB", "A", 1]] + [[None]] * 10 + [["NB", "B", 2]])
    assert refusal(far, "far.xlsx", limits).code == "declared_range"


def test_bytes_that_are_no_zip_are_refused_by_name() -> None:
    error = refusal(b"\x00\x01 not a workbook at all", "levels.xlsx")
    assert error.code == "not_xlsx" and "not a zip archive" in str(error)


def test_broken_sheet_xml_is_refused() -> None:
    error = refusal(broken_xml(HEADER), "broken.xlsx")
    assert error.code == "broken"


def test_nested_xml_entities_are_refused_by_the_parser() -> None:
    assert refusal(billion_laughs(), "laughs.xlsx").code == "broken"


def test_zip_bombs_are_refused_from_the_zip_directory() -> None:
    small = SheetLimits(max_unzipped_bytes=8 * 1024 * 1024)
    assert refusal(zip_bomb(), "bomb.xlsx", small).code == "zip_size"
    assert refusal(zip_bomb(), "ratio.xlsx").code == "zip_ratio"
    assert refusal(many_parts(), "parts.xlsx").code == "zip_parts"


def test_csv_fields_over_the_limits_name_the_row_and_column() -> None:
    huge = refusal(csv_with_long_field(), "levels.csv")
    assert huge.code == "csv_cell_too_long" and huge.params["row"] == 3
    long = refusal(csv_with_long_field(40_000), "levels.csv")
    assert long.code == "cell_too_long" and (long.params["row"], long.params["column"]) == (
        3, "B")


def test_a_csv_past_the_row_limit_stops_at_the_limit() -> None:
    text = "仓库,SKU,在库\n" + "".join(f"NB,S{n},1\n" for n in range(400_000))
    assert refusal(text.encode(), "big.csv", SheetLimits(max_rows=10)).code == "too_many_rows"


def test_values_outside_the_column_limit_are_refused_with_their_place() -> None:
    wide = workbook([HEADER, ["NB", "A", 1, *([None] * 10), "far"]])
    error = refusal(wide, "wide.xlsx", SheetLimits(max_columns=5))
    assert error.code in ("declared_range", "too_many_columns")


def test_written_hostile_text_reads_back_unchanged(tmp_path: Path) -> None:
    for suffix in ("xlsx", "csv"):
        path = tmp_path / f"round.{suffix}"
        write_sheet(path, [*HOSTILE[:2], "n"], [[*HOSTILE[2:4], -5], [*HOSTILE[4:6], 3]])
        sheet = read_sheet(path)
        assert sheet.header == [*HOSTILE[:2], "n"]
        # XML turns a carriage return into a line feed; the quote in front stays either way
        cr = "\n" if suffix == "xlsx" else "\r"
        number: Any = (lambda n: n) if suffix == "xlsx" else str  # CSV has text only
        assert [list(r) for _, r in sheet.rows] == [[*HOSTILE[2:4], number(-5)],
                                                    ["\t=1", cr + "=1", number(3)]]


def test_numbers_dates_and_odd_cells_read_as_excel_shows_them() -> None:
    from datetime import datetime

    data = workbook([["a", "b", "c", "d"], [-5, 2.5, datetime(2026, 11, 26, 10, 30), True]])
    sheet = sheet_from_bytes(data, "ok.xlsx")
    assert sheet.rows == [(2, (-5, 2.5, datetime(2026, 11, 26, 10, 30), True))]
    huge_date = workbook([["a"], [datetime(2026, 1, 1)]])
    xml = zipfile.ZipFile(io.BytesIO(huge_date)).read("xl/worksheets/sheet1.xml")
    xml = re.sub(rb"<v>[^<]+</v></c></row></sheetData>", b"<v>1e300</v></c></row></sheetData>",
                 xml)
    assert refusal(with_sheet_xml(huge_date, xml), "date.xlsx").code == "broken"
    assert refusal(b"\x81\x30\xff\xfe,\xff\n", "bytes.csv").code == "broken"
