"""The decision table grid as the console edits it: read from a posted form, changed by one
grid operation (add, delete or move a row; add or remove a column), turned back into a table,
and the service's validation error placed on the cell, row or column it names.

The whole grid travels with every request, so the server redraws it from what the browser
shows and nothing is kept between requests. Cells are posted row by row as repeated ``cell``
fields, input cells first, as the table stores them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from orderpilot.domain.decision_tables import (
    HIT_POLICIES,
    MAX_COLUMNS,
    NUMBER,
    CellError,
    Column,
    DecisionTable,
    ExpressionChecker,
    condition,
    value,
)
from orderpilot.domain.errors import InvalidInput
from orderpilot.entrypoints.console.i18n import N_

MAX_EDIT_ROWS = 1000  # larger tables are edited in Excel and uploaded
MAX_FIELDS = (MAX_EDIT_ROWS + 4) * 2 * MAX_COLUMNS
_ROW_FIELD = re.compile(r"rows\[(\d+)\](?:\.(.+))?")
_COLUMN_FIELD = re.compile(r"(inputs|outputs)\[(\d+)\]\.(field|label)")


@dataclass
class GridForm:
    name: str
    title_zh: str = ""
    title_en: str = ""
    description: str = ""
    hit_policy: str = "first"
    inputs: list[Column] = field(default_factory=list)
    outputs: list[Column] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    @property
    def width(self) -> int:
        return len(self.inputs) + len(self.outputs)

    @classmethod
    def of(cls, table: DecisionTable) -> GridForm:
        return cls(table.name, table.title_zh, table.title_en, table.description,
                   table.hit_policy, list(table.inputs), list(table.outputs),
                   [list(row) for row in table.rows])

    def table(self) -> DecisionTable:
        return DecisionTable(name=self.name, title_zh=self.title_zh, title_en=self.title_en,
                             hit_policy=self.hit_policy, inputs=list(self.inputs),
                             outputs=list(self.outputs), rows=[list(r) for r in self.rows],
                             description=self.description)

    def apply(self, op: str) -> None:
        """One grid operation, like ``row.up:3`` or ``in.add``; anything else changes nothing.
        Row and column numbers are 0-based positions in the grid as posted."""
        verb, _, at_text = op.partition(":")
        at = int(at_text) if at_text.isdigit() else -1
        rows, n_in = self.rows, len(self.inputs)
        if verb == "row.add":
            blank = [""] * self.width
            rows.insert(at + 1 if 0 <= at < len(rows) else len(rows), blank)
        elif verb == "row.delete" and 0 <= at < len(rows):
            del rows[at]
        elif verb == "row.up" and 0 < at < len(rows):
            rows[at - 1], rows[at] = rows[at], rows[at - 1]
        elif verb == "row.down" and 0 <= at < len(rows) - 1:
            rows[at], rows[at + 1] = rows[at + 1], rows[at]
        elif verb == "in.add" and self.width < 2 * MAX_COLUMNS:
            self.inputs.append(Column(""))
            for row in rows:
                row.insert(n_in, "")
        elif verb == "out.add" and self.width < 2 * MAX_COLUMNS:
            self.outputs.append(Column(""))
            for row in rows:
                row.append("")
        elif verb == "in.delete" and 0 <= at < n_in and n_in > 1:
            del self.inputs[at]
            for row in rows:
                del row[at]
        elif verb == "out.delete" and 0 <= at < len(self.outputs) and len(self.outputs) > 1:
            del self.outputs[at]
            for row in rows:
                del row[n_in + at]


def _text(form: Mapping[str, Any], key: str, limit: int) -> str:
    raw = form.get(key)
    return raw.strip()[:limit] if isinstance(raw, str) else ""


def _texts(form: Any, key: str, limit: int) -> list[str]:
    return [v[:limit] if isinstance(v, str) else "" for v in form.getlist(key)]


def _columns(form: Any, kind: str) -> list[Column]:
    fields = [f.strip() for f in _texts(form, f"{kind}_field", 200)]
    labels = [label.strip() for label in _texts(form, f"{kind}_label", 200)]
    labels += [""] * (len(fields) - len(labels))
    return [Column(f, label) for f, label in zip(fields, labels, strict=False)]


def read_grid(name: str, form: Any) -> GridForm:
    """The grid a form posts (``form`` is Starlette's FormData). A form whose cells do not fill
    whole rows was not made by the page: refused rather than guessed at."""
    inputs, outputs = _columns(form, "in"), _columns(form, "out")
    cells = _texts(form, "cell", 1000)
    width = len(inputs) + len(outputs)
    if width == 0 or len(cells) % width:
        raise InvalidInput("the grid's cells do not fill its rows", field="rows",
                           zh="表格的单元格没有填满各行")
    if len(cells) // width > MAX_EDIT_ROWS:
        raise InvalidInput(f"at most {MAX_EDIT_ROWS} rows are edited here", field="rows",
                           zh=f"这里最多编辑 {MAX_EDIT_ROWS} 行")
    hit_policy = _text(form, "hit_policy", 20)
    return GridForm(name=name, title_zh=_text(form, "title_zh", 200),
                    title_en=_text(form, "title_en", 200),
                    description=_text(form, "description", 2000),
                    hit_policy=hit_policy if hit_policy in HIT_POLICIES else "first",
                    inputs=inputs, outputs=outputs,
                    rows=[cells[i:i + width] for i in range(0, len(cells), width)])


def new_grid(name: str, form: Any) -> GridForm:
    """The new-table form: blank column slots are skipped, and the grid starts with one row."""
    def filled(kind: str) -> list[Column]:
        return [c for c in _columns(form, kind) if c.field or c.label]

    hit_policy = _text(form, "hit_policy", 20)
    grid = GridForm(name=name, title_zh=_text(form, "title_zh", 200),
                    title_en=_text(form, "title_en", 200),
                    hit_policy=hit_policy if hit_policy in HIT_POLICIES else "first",
                    inputs=filled("in") or [Column("")], outputs=filled("out") or [Column("")])
    grid.rows.append([""] * grid.width)
    return grid


@dataclass
class GridErrors:
    """Where the problems are: cells by (row, column) with columns counted across inputs then
    outputs, whole rows, column headers by ``in:2`` / ``out:0``, and the summary lines."""

    cells: dict[tuple[int, int], str] = field(default_factory=dict)
    rows: dict[int, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.cells or self.rows or self.columns or self.summary)


Translate = Callable[[str], str]
Say = Callable[[InvalidInput], str]  # a domain message in the user's language (Console.say)


def _column_index(grid: GridForm, field_path: str) -> int | None:
    for j, column in enumerate([*grid.inputs, *grid.outputs]):
        if column.field == field_path:
            return j
    return None


def _place(grid: GridForm, j: int, translate: Translate) -> str:
    columns = [*grid.inputs, *grid.outputs]
    return columns[j].shown or translate(N_("column %(n)d")) % {"n": j + 1}


def cell_problems(grid: GridForm, checker: ExpressionChecker, translate: Translate,
                  say: Say = str) -> dict[tuple[int, int], str]:
    """Every cell the engine would refuse, so one save shows all of them, not just the first
    the service stops at. Column checks are the service's; these are cells only."""
    problems: dict[tuple[int, int], str] = {}
    n_in = len(grid.inputs)
    for i, row in enumerate(grid.rows):
        for j, cell in enumerate(row):
            is_condition = j < n_in
            try:
                expression = condition(cell) if is_condition else value(cell)
            except CellError as error:
                problems[i, j] = say(error)
                continue
            if not expression:
                continue
            check = checker.condition_error if is_condition else checker.value_error
            problem = check(expression)
            if problem:
                words = translate(N_("Not a valid condition: %(problem)s")) if is_condition \
                    else translate(N_("Not a valid value: %(problem)s"))
                problems[i, j] = words % {"problem": problem}
    return problems


def place_error(grid: GridForm, error: InvalidInput, checker: ExpressionChecker,
                translate: Translate, say: Say = str) -> GridErrors:
    """The service's error where it belongs, plus every other bad cell found by a scan."""
    found = GridErrors()
    row_match = _ROW_FIELD.fullmatch(error.field or "")
    column_match = _COLUMN_FIELD.fullmatch(error.field or "")
    if column_match:
        kind = "in" if column_match[1] == "inputs" else "out"
        found.columns[f"{kind}:{column_match[2]}"] = say(error)
    elif row_match and row_match[2] is None:
        found.rows[int(row_match[1])] = say(error)
    if row_match and row_match[2] is not None:
        found.cells = cell_problems(grid, checker, translate, say)
        j = _column_index(grid, row_match[2])
        if j is not None:
            found.cells.setdefault((int(row_match[1]), j), say(error))
        for (i, j), message in sorted(found.cells.items()):
            found.summary.append(translate(N_("Row %(row)d, %(column)s: %(problem)s")) % {
                "row": i + 1, "column": _place(grid, j, translate), "problem": message})
    else:
        found.summary.append(say(error))
    return found


def try_context(fields: Sequence[str], values: Sequence[str]) -> dict[str, Any]:
    """The evaluation context from the try panel: each input column's dotted path gets the
    value typed for it; numbers and true/false are taken as such, blanks are left out."""
    context: dict[str, Any] = {}
    for path, raw in zip(fields, values, strict=False):
        text = raw.strip()
        if not path or not text:
            continue
        typed: Any = text
        if NUMBER.fullmatch(text):
            typed = float(text) if "." in text else int(text)
        elif text in ("true", "false"):
            typed = text == "true"
        *parents, leaf = path.split(".")
        node = context
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise InvalidInput(f"{path}: {part} already has a value", field=path,
                                   zh=f"{path}：{part} 已经有值")
            node = child
        node[leaf] = typed
    return context
