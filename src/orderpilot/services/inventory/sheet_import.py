"""Stock levels from a sheet staff keep (Excel or CSV): one row per warehouse and SKU.

Headers may be Chinese or English: 仓库/source, SKU, 在库/on_hand, 预计到货/expected_at. Every
row is checked before anything is written, and a file with any bad row changes nothing: each
problem is reported with the row number Excel shows and the column's header.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from orderpilot.domain.errors import InvalidInput, is_chinese
from orderpilot.domain.inventory import CODE
from orderpilot.domain.sheet_limits import SheetLimits
from orderpilot.services.inventory.sync import MAX_LEVELS, LevelReport, apply_levels
from orderpilot.services.unit_of_work import Clock, UowFactory

HEADERS: dict[str, tuple[str, ...]] = {
    "source": ("仓库", "仓库代码", "source", "warehouse"),
    "sku": ("sku", "商品编码"),
    "on_hand": ("在库", "在库数量", "库存", "on_hand"),
    "expected_at": ("预计到货", "预计到货日期", "expected_at"),
}
REQUIRED = ("sku", "on_hand")
MAX_FILE_BYTES = 5 * 1024 * 1024
SHEET_LIMITS = SheetLimits(max_rows=MAX_LEVELS, max_columns=50, max_file_bytes=MAX_FILE_BYTES,
                           max_unzipped_bytes=32 * 2**20)
DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


@dataclass(frozen=True)
class RowError:
    row: int
    field: str  # the file's own header, or the canonical name when the column is missing
    message: str
    zh: str = ""

    def in_language(self, locale: str | None) -> str:
        return (self.zh or self.message) if is_chinese(locale) else self.message


@dataclass
class LevelImport:
    levels: list[LevelReport] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # the sheet row of each level
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def source_event_id(content: bytes, default_source: str | None) -> str:
    """The same file (with the same --source) is the same report: importing it again is a
    no-op answered as a duplicate."""
    digest = hashlib.sha256(content + b"\0" + (default_source or "").encode()).hexdigest()
    return f"import:{digest[:40]}"


def _columns(header: Sequence[object]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    by_alias = {alias.lower(): name for name, aliases in HEADERS.items() for alias in aliases}
    where: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored = []
    for i, cell in enumerate(header):
        text = "" if cell is None else str(cell).strip()
        name = by_alias.get(text.lower())
        if name is None or name in where:
            if text:
                ignored.append(text)
            continue
        where[name], labels[name] = i, text
    return where, labels, ignored


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _count(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        number = int(value)
    else:
        text = str(value).strip().replace(",", "")
        if not text.isdigit():
            raise ValueError
        number = int(text)
    if not 0 <= number <= 10**9:
        raise ValueError
    return number


def _day(value: object) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = DATE.match(str(value).strip().split(" ")[0])
    if not match:
        raise ValueError
    return date(*(int(part) for part in match.groups()))


def plan(header: Sequence[object], rows: Sequence[tuple[int, Sequence[object]]],
         known_sources: Sequence[str], default_source: str | None) -> LevelImport:
    """Read and check every row; ``errors`` empty means the file may be applied."""
    result = LevelImport()
    where, labels, result.ignored_columns = _columns(header)
    missing = [n for n in REQUIRED if n not in where]
    if "source" not in where and not default_source:
        missing.insert(0, "source")
    if missing:
        headers = "; ".join("/".join(HEADERS[n]) for n in missing)
        result.errors.append(RowError(1, ", ".join(missing),
                                      "missing column(s); headers are " + headers,
                                      "缺少列；表头应为 " + headers))
        return result
    if default_source is not None and default_source not in known_sources:
        result.errors.append(RowError(0, "--source", f"unknown source {default_source!r}",
                                      f"未知的库存来源 {default_source!r}"))
        return result
    if len(rows) > MAX_LEVELS:
        result.errors.append(RowError(0, "file", f"at most {MAX_LEVELS} rows per file; "
                                                 f"this one has {len(rows)}",
                                      f"每个文件最多 {MAX_LEVELS} 行；此文件有 {len(rows)} 行"))
        return result
    first_row: dict[tuple[str, str], int] = {}

    def cell(cells: Sequence[object], name: str) -> object:
        i = where.get(name)
        return cells[i] if i is not None and i < len(cells) else None

    for number, cells in rows:
        def bad(name: str, message: str, zh: str, row: int = number) -> None:
            result.errors.append(RowError(row, labels.get(name, name), message, zh))

        before = len(result.errors)
        source = _text(cell(cells, "source")) or (default_source or "")
        if not source:
            bad("source", "no warehouse given (fill the column or use --source)",
                "未填写仓库（请填写该列或使用 --source）")
        elif source not in known_sources:
            bad("source", f"unknown source {source!r}; known: {', '.join(known_sources)}",
                f"未知的库存来源 {source!r}；已有：{'、'.join(known_sources)}")
        sku = _text(cell(cells, "sku"))
        if not CODE.match(sku):
            bad("sku", f"{sku!r} is not a SKU (1-64 letters, digits, _ . -)" if sku
                else "SKU is empty",
                f"{sku!r} 不是有效的 SKU（1-64 个字母、数字、_ . -）" if sku else "SKU 为空")
        on_hand = 0
        try:
            on_hand = _count(cell(cells, "on_hand"))
        except ValueError:
            bad("on_hand", f"{cell(cells, 'on_hand')!r} is not a whole number from 0",
                f"{cell(cells, 'on_hand')!r} 不是大于或等于 0 的整数")
        expected = None
        try:
            expected = _day(cell(cells, "expected_at"))
        except ValueError:
            bad("expected_at", f"{cell(cells, 'expected_at')!r} is not a date (2026-12-20)",
                f"{cell(cells, 'expected_at')!r} 不是日期（如 2026-12-20）")
        if len(result.errors) > before:
            continue
        key = (source, sku)
        if key in first_row:
            bad("sku", f"{source}/{sku} is already on row {first_row[key]}",
                f"{source}/{sku} 已在第 {first_row[key]} 行出现")
            continue
        first_row[key] = number
        result.levels.append(LevelReport(source, sku, on_hand, expected))
        result.rows.append(number)
    if not result.levels and not result.errors:
        result.errors.append(RowError(2, "file", "the file has no rows below its header",
                                      "文件表头下方没有数据行"))
    return result


def apply(planned: LevelImport, event_id: str, uow_factory: UowFactory, clock: Clock,
          default_source: str | None) -> dict[str, object]:
    if planned.errors:
        raise InvalidInput(f"{len(planned.errors)} bad row(s); nothing imported", field="file",
                           zh=f"{len(planned.errors)} 行有误，未导入任何数据")
    return apply_levels(event_id, planned.levels, uow_factory, clock, method="import",
                        source=default_source)
