"""Decision tables: publishing versions, reading them, and looking values up for the rules.

Every save makes a new immutable version (unless nothing changed); rules always consult the
current one. ``lookup`` keeps the current version of each table in memory and asks the database
whether it moved at most every two seconds, so a rule evaluation costs one zen call.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from orderpilot.domain.decision_formats import from_jdm, sheet_header, table_from_sheet, to_jdm
from orderpilot.domain.decision_tables import (
    MAX_COLUMNS,
    MAX_ROWS,
    CellError,
    DecisionTable,
    ExpressionChecker,
    StoredVersion,
    TableResult,
    TableSummary,
    VersionSummary,
    from_definition,
    to_definition,
    validate,
)
from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.domain.sheet_limits import SheetLimits
from orderpilot.services import audit_trail
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

MAX_FILE_BYTES = 5 * 1024 * 1024
# An uploaded grid is read no further than a table may reach (inputs and outputs side by side).
SHEET_LIMITS = SheetLimits(max_rows=MAX_ROWS, max_columns=2 * MAX_COLUMNS,
                           max_file_bytes=MAX_FILE_BYTES, max_unzipped_bytes=32 * 2**20)
# A JDM document of one table nests five levels deep; nothing legitimate comes near this.
MAX_JSON_DEPTH = 32


class TableStore(Protocol):
    def current_version(self, name: str) -> int | None: ...
    def get(self, name: str, version: int | None = None) -> StoredVersion | None: ...
    def versions(self, name: str) -> list[VersionSummary]: ...
    def summaries(self) -> list[TableSummary]: ...


class TableEvaluator(Protocol):
    def evaluate(self, name: str, version: int, definition: dict[str, object],
                 context: dict[str, object], *, trace: bool = False) -> TableResult: ...
    def forget(self) -> None: ...


Reader = Callable[[], AbstractContextManager[TableStore]]


@dataclass(frozen=True)
class Saved:
    version: int
    created: bool  # False: the content equals the current version, nothing was stored


@dataclass(frozen=True)
class PublishedTable:
    table: DecisionTable
    version: int
    published_by: str
    published_at: datetime
    reason: str


@dataclass(frozen=True)
class _Current:
    version: int
    definition: dict[str, object]
    checked_at: float


def _not_found(name: str, version: int | None = None) -> NotFound:
    what = f"version {version} of decision table {name}" if version else f"decision table {name}"
    what_zh = f"决策表 {name} 的版本 {version}" if version else f"决策表 {name}"
    return NotFound(f"no {what}", field="version" if version else "name",
                    code="decision_table_not_found",
                    zh=f"没有{what_zh}")


def checked_definition(table: DecisionTable, checker: ExpressionChecker) -> dict[str, object]:
    """Validate the table and give what is stored: the grid plus the JDM zen evaluates."""
    validate(table, checker)
    try:
        return {**to_definition(table), "jdm": to_jdm(table)}
    except CellError as error:  # validate() has already reported every cell; kept for safety
        raise InvalidInput(str(error), field="rows", zh=error.message_zh) from error


def publish(uow_factory: UowFactory, clock: Clock, table: DecisionTable, by: str, reason: str,
            *, checker: ExpressionChecker) -> Saved:
    definition = checked_definition(table, checker)  # before taking the write lock

    def attempt() -> Saved:
        with uow_factory() as uow:
            current = uow.decision_tables.get(table.name)
            if current is not None and current.definition == definition:
                return Saved(current.version, False)
            version = uow.decision_tables.add_version(table.name, table.title_zh,
                                                      table.title_en, definition, by, clock(),
                                                      reason)
            audit_trail.record(uow, clock, "decision_table.publish",
                               subject_type="decision_table", subject_id=table.name,
                               before={"version": current.version} if current else None,
                               after={"version": version}, detail={"reason": reason})
            return Saved(version, True)

    return retrying(attempt)


def save_table(uow_factory: UowFactory, clock: Clock, table: DecisionTable, by: str,
               reason: str, *, checker: ExpressionChecker) -> int:
    """Publish a new version and return its number (the current one when nothing changed)."""
    return publish(uow_factory, clock, table, by, reason, checker=checker).version


def get_table(store: TableStore, name: str, version: int | None = None) -> PublishedTable:
    stored = store.get(name, version)
    if stored is None:
        raise _not_found(name, version)
    return PublishedTable(from_definition(stored.definition), stored.version,
                          stored.published_by, stored.published_at, stored.reason)


def list_tables(store: TableStore) -> list[TableSummary]:
    """name, title_zh, title_en, current_version, created_at, updated_at; by name."""
    return store.summaries()


class DecisionTables:
    """The entry point for the console, the API and the rules engine (one per process)."""

    def __init__(self, uow_factory: UowFactory, read: Reader, clock: Clock,
                 engine: TableEvaluator, checker: ExpressionChecker, *,
                 refresh_seconds: float = 2.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._uow_factory = uow_factory
        self._read = read
        self._clock = clock
        self._engine = engine
        self.checker = checker
        self._refresh = refresh_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._current: dict[str, _Current] = {}

    def save(self, table: DecisionTable, by: str, reason: str) -> Saved:
        saved = publish(self._uow_factory, self._clock, table, by, reason, checker=self.checker)
        if saved.created:
            definition = {**to_definition(table), "jdm": to_jdm(table)}
            with self._lock:
                self._current[table.name] = _Current(saved.version, definition,
                                                     self._monotonic())
        return saved

    def get(self, name: str, version: int | None = None) -> PublishedTable:
        with self._read() as store:
            return get_table(store, name, version)

    def summaries(self) -> list[TableSummary]:
        with self._read() as store:
            return list_tables(store)

    def versions(self, name: str) -> list[VersionSummary]:
        with self._read() as store:
            found = store.versions(name)
        if not found:
            raise _not_found(name)
        return found

    def lookup(self, name: str, context: dict[str, object], *, uow: UnitOfWork | None = None,
               trace: bool = False) -> TableResult:
        """Evaluate the current version of a table on a context (a rule's evaluation context).
        Inside a unit of work, pass it: the version check then reads through its transaction."""
        now = self._monotonic()
        with self._lock:
            current = self._current.get(name)
        if current is None or now - current.checked_at >= self._refresh:
            current = self._refreshed(name, current, now, uow)
        return self._engine.evaluate(name, current.version, current.definition, context,
                                     trace=trace)

    def forget(self) -> None:
        """Drop what this process remembers of every table, as a restart would."""
        with self._lock:
            self._current.clear()
        self._engine.forget()

    def traced_lookup(self, name: str, context: dict[str, object]) -> TableResult:
        """The rule book's way to a table: the current version, with the rows that matched."""
        return self.lookup(name, context, trace=True)

    def outputs(self) -> dict[str, tuple[str, ...]]:
        """Each table's output fields, for checking the rules that use them."""
        found = {}
        for summary in self.summaries():
            table = self.get(summary["name"]).table
            found[summary["name"]] = tuple(c.field for c in table.outputs)
        return found

    def _refreshed(self, name: str, seen: _Current | None, now: float,
                   uow: UnitOfWork | None) -> _Current:
        def check(store: TableStore) -> _Current:
            version = store.current_version(name)
            if version is None:
                raise _not_found(name)
            if seen is not None and seen.version == version:
                return replace(seen, checked_at=now)
            stored = store.get(name, version)
            if stored is None:
                raise _not_found(name, version)
            return _Current(version, stored.definition, now)

        if uow is not None:
            current = check(uow.decision_tables)
        else:
            with self._read() as store:
                current = check(store)
        with self._lock:
            if current.version >= getattr(self._current.get(name), "version", 0):
                self._current[name] = current
        return current

    def evaluate(self, name: str, context: dict[str, object], *, version: int | None = None,
                 trace: bool = True) -> TableResult:
        """Try a table (any version) on a context, with the rows that matched (console, API)."""
        if version is None:
            return self.lookup(name, context, trace=trace)
        with self._read() as store:
            stored = store.get(name, version)
        if stored is None:
            raise _not_found(name, version)
        return self._engine.evaluate(name, version, stored.definition, context, trace=trace)

    def names(self) -> set[str]:
        return {t["name"] for t in self.summaries()}

    def _existing(self, name: str) -> DecisionTable | None:
        with self._read() as store:
            stored = store.get(name)
        return None if stored is None else from_definition(stored.definition)

    def import_sheet(self, header: Sequence[object], rows: Sequence[tuple[int, Sequence[object]]],
                     name: str, by: str, reason: str, *, hit_policy: str | None = None) -> Saved:
        """Publish the grid of a sheet (rows numbered as the sheet shows them). Titles and,
        unless given, the hit policy are kept from the current version."""
        existing = self._existing(name)
        table, numbers = table_from_sheet(
            header, rows, name=name,
            hit_policy=hit_policy or (existing.hit_policy if existing else "first"),
            title_zh=existing.title_zh if existing else "",
            title_en=existing.title_en if existing else "",
            description=existing.description if existing else "")
        try:
            return self.save(table, by, reason)
        except InvalidInput as error:
            raise _in_sheet_terms(error, numbers) from error

    def export_sheet(self, name: str, version: int | None = None
                     ) -> tuple[list[str], list[list[str]]]:
        """The header and rows to write to .xlsx or .csv; importing them gives the same table."""
        table = self.get(name, version).table
        return sheet_header(table), table.rows

    def import_jdm(self, document: bytes | str | dict[str, object], name: str, by: str,
                   reason: str) -> Saved:
        """Publish the one decision table of a JDM document (GoRules editor export)."""
        table = from_jdm(document if isinstance(document, dict) else _jdm_json(document), name)
        existing = self._existing(name)
        if existing is not None:
            table = replace(table, title_zh=existing.title_zh, title_en=existing.title_en,
                            description=existing.description)
        return self.save(table, by, reason)


def _jdm_json(document: bytes | str) -> object:
    """Parse a JDM file no bigger and no deeper than a decision could be."""
    if len(document) > MAX_FILE_BYTES:
        raise InvalidInput(f"JDM import: the file is larger than {MAX_FILE_BYTES // 2**20} MB",
                           field="file", code="unsupported_decision",
                           zh=f"JDM 导入：文件超过 {MAX_FILE_BYTES // 2**20} MB")
    try:
        parsed = json.loads(document)
    except RecursionError as error:  # the C parser's own guard against deep nesting
        raise _too_deep() from error
    except ValueError as error:
        raise InvalidInput(f"JDM import: the file is not JSON ({error})", field="file",
                           code="unsupported_decision",
                           zh=f"JDM 导入：文件不是 JSON（{error}）") from error
    level: list[object] = [parsed]
    for _ in range(MAX_JSON_DEPTH):
        level = [child for node in level for child in (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ())]
        if not level:
            return parsed
    raise _too_deep()


def _too_deep() -> InvalidInput:
    return InvalidInput(f"JDM import: the JSON nests deeper than {MAX_JSON_DEPTH} levels; "
                        "it is not a decision table", field="file", code="unsupported_decision",
                        zh=f"JDM 导入：JSON 嵌套超过 {MAX_JSON_DEPTH} 层，不是决策表")


def _in_sheet_terms(error: InvalidInput, sheet_rows: list[int]) -> InvalidInput:
    """Point a row error at the row number the sheet shows (blank rows are skipped)."""
    field = error.field or ""
    if field.startswith("rows[") and "]" in field:
        index = int(field[5:field.index("]")])
        if index < len(sheet_rows):
            message = f"{error.message} (row {sheet_rows[index]} of the sheet)"
            return InvalidInput(message, field=field, code=error.code,
                                zh=f"{error.message_zh}（表格第 {sheet_rows[index]} 行）")
    return error
