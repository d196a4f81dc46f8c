"""Decision tables: named grids that rules consult (e.g. carrier outlet code -> return centre).

Staff edit a grid of plain text. Each row has one cell per input column (a condition on the
value found at the column's context path) followed by one cell per output column (the value
the row gives). The cells become zen expressions when the table is built; this module only
knows the text rules, the engine that checks and evaluates expressions is an adapter.

Condition cells, as staff write them:
    empty or ``-``            any value
    ``SZ01``                  equals the text SZ01 (plain text is quoted for you)
    ``SZ01, SZ02``            one of these
    ``> 500``, ``[1..10]``    comparisons and ranges, kept as written
    ``=startsWith($, "SZ")``  a leading ``=`` keeps any expression as written
Output cells: numbers, true/false/null and quoted text are kept; ``=expr`` is an expression;
anything else is text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, TypedDict

from orderpilot.domain.errors import CellError as CellError  # raised here; named here too
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.records import JsonObject

HitPolicy = Literal["first", "collect"]
HIT_POLICIES: tuple[str, ...] = ("first", "collect")
MAX_ROWS = 5000
MAX_COLUMNS = 40
MAX_CELL = 1000

NAME = re.compile(r"[a-z][a-z0-9_]{1,63}")
INPUT_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
OUTPUT_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NUMBER = re.compile(r"-?\d+(\.\d+)?")
_KEPT_CONDITIONS = (">", "<", "==", "!=", "[", "(", '"', "'", "`", "not(", "not (", "$")
_LIST_SEPARATOR = re.compile(r"\s*[,，]\s*")
_QUOTES = ('"', "'", "`")


@dataclass(frozen=True)
class Column:
    field: str  # inputs: a dotted context path (event.data.outlet_code); outputs: an identifier
    label: str = ""

    @property
    def shown(self) -> str:
        return self.label or self.field


@dataclass(frozen=True)
class DecisionTable:
    name: str
    title_zh: str
    title_en: str
    hit_policy: str  # first | collect
    inputs: list[Column]
    outputs: list[Column]
    rows: list[list[str]]  # input cells, then output cells, as staff wrote them
    description: str = ""


@dataclass(frozen=True)
class TableResult:
    name: str
    version: int
    output: dict[str, Any] | list[dict[str, Any]]  # first: one row's outputs ({} if none)
    matched: list[int] = field(default_factory=list)  # 1-based rows; filled when traced
    traced: bool = False


class ExpressionChecker(Protocol):
    """Says what is wrong with an expression, or None when the engine accepts it."""

    def condition_error(self, expression: str) -> str | None: ...
    def value_error(self, expression: str) -> str | None: ...


def quote(text: str) -> str:
    # zen strings have no escapes: pick a delimiter the text does not contain.
    for mark in _QUOTES:
        if mark not in text and not (mark == "`" and "${" in text):
            return f"{mark}{text}{mark}"
    raise CellError("the text contains all three quote characters (\" ' `); write it as "
                    "an expression instead",
                    zh="文本同时包含三种引号（\" ' `），请改写为表达式")


def _is_quoted(text: str) -> bool:
    return (len(text) >= 2 and text[0] in _QUOTES and text[-1] == text[0]
            and text[0] not in text[1:-1])


def _literal(text: str) -> str:
    if NUMBER.fullmatch(text) or text in ("true", "false") or _is_quoted(text):
        return text
    return quote(text)


def condition(cell: str) -> str:
    """The zen unary expression for a condition cell ('' = any value)."""
    text = cell.strip()
    if text in ("", "-"):
        return ""
    if text.startswith("="):
        return text[1:].strip()
    if text.startswith(_KEPT_CONDITIONS):
        return text
    return ", ".join(_literal(part) for part in _LIST_SEPARATOR.split(text) if part)


def value(cell: str) -> str:
    """The zen expression for an output cell ('' = no value)."""
    text = cell.strip()
    if text.startswith("="):
        return text[1:].strip()
    if not text or NUMBER.fullmatch(text) or text in ("true", "false", "null") \
            or _is_quoted(text):
        return text
    return quote(text)


def staff_text(expression: str, *, is_condition: bool) -> str:
    """The simplest cell text that means ``expression`` (used for imported JDM cells)."""
    expression = expression.strip()
    to_expression = condition if is_condition else value
    parts = _LIST_SEPARATOR.split(expression) if is_condition else [expression]
    plain = ", ".join(p[1:-1] if _is_quoted(p) else p for p in parts)
    for candidate in (plain, expression):
        try:
            if to_expression(candidate) == expression:
                return candidate
        except CellError:
            continue
    return "=" + expression


def _fail(table: DecisionTable, message: str, where: str) -> InvalidInput:
    return InvalidInput(f"decision table {table.name}: {message}", field=where,
                        code="invalid_decision_table",
                        zh=f"决策表 {table.name}：{message}")


def validate(table: DecisionTable, checker: ExpressionChecker) -> None:
    """Raise InvalidInput naming the table, the row (1-based, as staff count) and the column.
    The error's ``field`` is a path with a 0-based row index, like ``rows[2].centre``."""
    if not NAME.fullmatch(table.name):
        raise _fail(table, "the name must be 2-64 lower-case letters, digits or _ and start "
                           "with a letter", "name")
    if table.hit_policy not in HIT_POLICIES:
        raise _fail(table, "hit_policy must be first or collect", "hit_policy")
    for key, limit in (("title_zh", 200), ("title_en", 200), ("description", 2000)):
        if len(getattr(table, key)) > limit:
            raise _fail(table, f"{key} is longer than {limit} characters", key)
    _check_columns(table, "inputs", table.inputs, INPUT_FIELD)
    _check_columns(table, "outputs", table.outputs, OUTPUT_FIELD)
    if len(table.rows) > MAX_ROWS:
        raise _fail(table, f"at most {MAX_ROWS} rows", "rows")
    columns = [*table.inputs, *table.outputs]
    for i, row in enumerate(table.rows):
        if len(row) != len(columns):
            raise _fail(table, f"row {i + 1} has {len(row)} cells, the table has "
                               f"{len(columns)} columns", f"rows[{i}]")
        for j, (column, cell) in enumerate(zip(columns, row, strict=True)):
            _check_cell(table, checker, i, column, cell, is_condition=j < len(table.inputs))


def _check_columns(table: DecisionTable, key: str, columns: list[Column],
                   pattern: re.Pattern[str]) -> None:
    if not columns:
        raise _fail(table, f"needs at least one column in {key}", key)
    if len(columns) > MAX_COLUMNS:
        raise _fail(table, f"at most {MAX_COLUMNS} columns in {key}", key)
    seen: set[str] = set()
    for i, column in enumerate(columns):
        where = f"{key}[{i}].field"
        if not pattern.fullmatch(column.field) or len(column.field) > 200:
            shape = "a dotted path like order.address.province" if key == "inputs" \
                else "a name of letters, digits and _ like centre"
            raise _fail(table, f"column {column.field!r} in {key}: the field must be {shape}",
                        where)
        if column.field in seen:
            raise _fail(table, f"column {column.field!r} appears twice in {key}", where)
        if len(column.label) > 200:
            raise _fail(table, f"column {column.field!r}: the label is longer than 200 "
                               "characters", f"{key}[{i}].label")
        seen.add(column.field)


def _check_cell(table: DecisionTable, checker: ExpressionChecker, i: int, column: Column,
                cell: str, *, is_condition: bool) -> None:
    where = f"rows[{i}].{column.field}"
    place = f"row {i + 1}, column {column.shown!r}"
    if not isinstance(cell, str):
        raise _fail(table, f"{place}: a cell must be text", where)
    if len(cell) > MAX_CELL:
        raise _fail(table, f"{place}: the cell is longer than {MAX_CELL} characters", where)
    try:
        expression = condition(cell) if is_condition else value(cell)
    except CellError as error:
        raise _fail(table, f"{place}: {error}", where) from error
    if not expression:
        return
    problem = (checker.condition_error if is_condition else checker.value_error)(expression)
    if problem:
        kind = "condition" if is_condition else "value"
        raise _fail(table, f"{place}: {cell.strip()!r} is not a valid {kind} ({problem})",
                    where)


def to_definition(table: DecisionTable) -> dict[str, Any]:
    """The grid as stored (JSON), cells trimmed."""
    return {"name": table.name, "title_zh": table.title_zh, "title_en": table.title_en,
            "description": table.description, "hit_policy": table.hit_policy,
            "inputs": [{"field": c.field, "label": c.label} for c in table.inputs],
            "outputs": [{"field": c.field, "label": c.label} for c in table.outputs],
            "rows": [[cell.strip() for cell in row] for row in table.rows]}


def from_definition(data: dict[str, Any]) -> DecisionTable:
    return DecisionTable(
        name=data["name"], title_zh=data.get("title_zh", ""), title_en=data.get("title_en", ""),
        hit_policy=data["hit_policy"],
        inputs=[Column(c["field"], c.get("label", "")) for c in data["inputs"]],
        outputs=[Column(c["field"], c.get("label", "")) for c in data["outputs"]],
        rows=[list(row) for row in data["rows"]], description=data.get("description", ""))


def example_return_centres() -> DecisionTable:
    """Where a parcel refused at a carrier outlet goes back to (demo and template)."""
    return DecisionTable(
        name="return_centres", title_zh="退货中心", title_en="Return centres",
        hit_policy="first",
        inputs=[Column("event.data.outlet_code", "承运商网点 Carrier outlet")],
        outputs=[Column("centre", "退货中心 Return centre"),
                 Column("centre_name", "中心名称 Centre name")],
        rows=[["SZ01, SZ02", "RC-SZ", "深圳退货中心"],
              ["GZ01", "RC-GZ", "广州退货中心"],
              ["SH01, SH02, SH03", "RC-SH", "上海退货中心"],
              ["-", "RC-NB", "宁波保税仓退货中心"]],
        description="承运商网点代码 → 退货中心；未列出的网点退回宁波保税仓。"
                    " Carrier outlet code to return centre; unlisted outlets go to Ningbo.")


@dataclass(frozen=True, slots=True)
class StoredVersion:
    name: str
    version: int
    definition: JsonObject  # the grid (to_definition) + "jdm"
    published_by: str
    published_at: datetime
    reason: str


class TableSummary(TypedDict):
    name: str
    title_zh: str
    title_en: str
    current_version: int
    created_at: datetime
    updated_at: datetime


class VersionSummary(TypedDict):
    version: int
    published_by: str
    published_at: datetime
    reason: str
