"""Decision tables at the edges: their versions in the database, and zen-engine evaluating them.

One ``zen.ZenEngine`` serves every table. Its loader hands back the parsed JDM of a key such as
``return_centres@3``; parsed content is cached per (name, version), which is what makes an
evaluation take microseconds (zen would otherwise parse the JSON on every call).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import zen
from sqlalchemy.engine import Connection

from orderpilot.adapters.db import Database
from orderpilot.adapters.expressions import cost_problem
from orderpilot.adapters.tables import decision_table_versions as versions_t
from orderpilot.adapters.tables import decision_tables as tables_t
from orderpilot.domain.decision_tables import (
    StoredVersion,
    TableResult,
    TableSummary,
    VersionSummary,
)
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.records import JsonObject


class DecisionTableRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def current_version(self, name: str) -> int | None:
        found = self.conn.execute(sa.select(tables_t.c.current_version)
                                  .where(tables_t.c.name == name)).scalar_one_or_none()
        return None if found is None else int(found)

    def get(self, name: str, version: int | None = None) -> StoredVersion | None:
        if version is None:
            version = self.current_version(name)
            if version is None:
                return None
        row = self.conn.execute(sa.select(versions_t).where(
            versions_t.c.name == name, versions_t.c.version == version)).mappings().first()
        if row is None:
            return None
        return StoredVersion(row["name"], row["version"], row["definition"],
                             row["published_by"], row["published_at"], row["reason"])

    def versions(self, name: str) -> list[VersionSummary]:
        rows = self.conn.execute(
            sa.select(versions_t.c.version, versions_t.c.published_by,
                      versions_t.c.published_at, versions_t.c.reason)
            .where(versions_t.c.name == name).order_by(versions_t.c.version.desc()))
        return [{"version": r.version, "published_by": r.published_by,
                 "published_at": r.published_at, "reason": r.reason} for r in rows]

    def summaries(self) -> list[TableSummary]:
        rows = self.conn.execute(sa.select(tables_t).order_by(tables_t.c.name))
        return [{"name": r.name, "title_zh": r.title_zh, "title_en": r.title_en,
                 "current_version": r.current_version, "created_at": r.created_at,
                 "updated_at": r.updated_at} for r in rows]

    def lock(self, name: str) -> int | None:
        """The current version, locked until commit (PostgreSQL; SQLite has one writer)."""
        query = sa.select(tables_t.c.current_version).where(tables_t.c.name == name)
        if self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found = self.conn.execute(query).scalar_one_or_none()
        return None if found is None else int(found)

    def add_version(self, name: str, title_zh: str, title_en: str, definition: JsonObject,
                    by: str, at: datetime, reason: str) -> int:
        """Store a new immutable version and make it current; returns its number.
        Two writers racing on a new table collide on the primary key (ConcurrentUpdate)."""
        current = self.lock(name)
        version = 1 if current is None else current + 1
        if current is None:
            self.conn.execute(tables_t.insert().values(
                name=name, title_zh=title_zh, title_en=title_en, current_version=version,
                created_at=at, updated_at=at))
        else:
            self.conn.execute(tables_t.update().where(tables_t.c.name == name).values(
                title_zh=title_zh, title_en=title_en, current_version=version, updated_at=at))
        self.conn.execute(versions_t.insert().values(
            name=name, version=version, definition=definition, published_by=by[:100],
            published_at=at, reason=reason[:1000]))
        return version


@contextmanager
def reading(db: Database) -> Iterator[DecisionTableRepository]:
    with db.read() as conn:
        yield DecisionTableRepository(conn)


class ZenExpressionChecker:
    """Checks cells by compiling them. (zen's validate_unary_expression refuses valid table
    cells such as ``> 5`` and ``"a", "b"``; compiling agrees with what evaluation accepts.)"""

    def condition_error(self, expression: str) -> str | None:
        return cost_problem(expression, unary=True) \
            or _compile_error(zen.compile_unary_expression, expression)

    def value_error(self, expression: str) -> str | None:
        return cost_problem(expression) or _compile_error(zen.compile_expression, expression)


def _costly_cell(jdm: dict[str, Any]) -> str | None:
    """The first cell of a stored JDM document beyond the expression limits (a table stored
    before the limits, or by hand, is refused instead of evaluated)."""
    for node in jdm.get("nodes") or []:
        content = node.get("content") or {}
        inputs = {c.get("id") for c in content.get("inputs") or []}
        for n, rule in enumerate(content.get("rules") or [], start=1):
            for column, cell in rule.items():
                if column == "_id" or not isinstance(cell, str) or not cell.strip():
                    continue
                problem = cost_problem(cell, unary=column in inputs)
                if problem:
                    return f"row {n}, column {column}: {problem}"
    return None


def _compile_error(compile_: Any, expression: str) -> str | None:
    try:
        compile_(expression)
    except Exception as error:  # zen raises a bare RuntimeError with JSON and a backtrace
        return _zen_message(error)
    return None


def _zen_message(error: BaseException) -> str:
    first = str(error).split("\n", 1)[0]
    try:
        detail = json.loads(first)
    except ValueError:
        return first[:300]
    return str(detail.get("source") or detail.get("type") or first)[:300]


class TableEngine:
    """Evaluates stored table versions with one shared zen engine (thread-safe)."""

    MAX_CACHED = 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._contents: dict[str, zen.ZenDecisionContent] = {}
        self._engine = zen.ZenEngine({"loader": self._load})

    def _load(self, key: str) -> zen.ZenDecisionContent:
        return self._contents[key]

    def _remember(self, key: str, definition: dict[str, Any]) -> None:
        problem = _costly_cell(definition["jdm"])
        if problem:
            name, _, version = key.partition("@")
            raise InvalidInput(f"decision table {name} version {version} is refused: {problem}",
                               field="context", code="table_evaluation_failed",
                               zh=f"决策表 {name} 版本 {version} 被拒绝：{problem}")
        content = zen.ZenDecisionContent(json.dumps(definition["jdm"]))
        with self._lock:
            if len(self._contents) >= self.MAX_CACHED:
                del self._contents[next(iter(self._contents))]
            self._contents[key] = content

    def forget(self) -> None:
        """Drop every compiled version: the next evaluation checks and compiles again."""
        with self._lock:
            self._contents.clear()

    def evaluate(self, name: str, version: int, definition: dict[str, Any],
                 context: dict[str, Any], *, trace: bool = False) -> TableResult:
        key = f"{name}@{version}"
        if key not in self._contents:
            self._remember(key, definition)
        options: Any = {"trace": True} if trace else None
        try:
            try:
                response = self._engine.evaluate(key, context, options)
            except TypeError:  # Decimal, datetime ... : hand zen JSON instead
                response = self._engine.evaluate(key, json.dumps(context, default=_plain),
                                                 options)
        except Exception as error:
            # zen raises RuntimeError when a table fails, and a bare Exception or an
            # OverflowError for a context number it cannot convert (beyond its decimals'
            # +-7.9e28, or an integer beyond 64 bits): the caller's input, not a hub fault.
            if type(error) not in (RuntimeError, Exception, OverflowError):
                raise
            raise InvalidInput(f"decision table {name} version {version} could not be "
                               f"evaluated: {_zen_message(error)}", field="context",
                               code="table_evaluation_failed",
                               zh=f"决策表 {name} 版本 {version} 无法计算："
                                  f"{_zen_message(error)}") from error
        output = response["result"]
        if not trace:
            return TableResult(name, version, output)
        hits = response["trace"]["table"].get("traceData") or []
        hits = [hits] if isinstance(hits, dict) else hits
        return TableResult(name, version, output, sorted(int(h["index"]) + 1 for h in hits),
                           traced=True)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # float's shortest repr is the decimal text for cents amounts
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
