"""The statements on every order's path, sent on the transaction's own driver cursor.

Placing an order writes five rows (the order, its lines, its raw payload, its event and the
event's outbox row); handling it loads the order (four reads), reads and takes stock and
writes its allocations. Through ``Connection.execute`` a statement costs about 50 us of
SQLAlchemy's Python on SQLite (cache look-up, parameter processing, result set-up) against about
10 us on the driver's cursor, and on PostgreSQL about 180 us of client CPU against 50 us for a
look-up by key (docs/performance.md, "Statements on the driver cursor").

A ``DriverInsert`` or a ``DriverQuery`` is still SQLAlchemy's statement: compiled by the
dialect once, its values converted by the columns' own bind processors (times, JSON, booleans)
and its results by their result processors, so a row is stored and read exactly as
``Connection.execute`` would store and read it. It runs on the same DB-API connection, inside
the caller's transaction, with the engine's and the dialect's events around it as SQLAlchemy
fires them (the statement count, a test's statement log, a test's dropped connection all see
it). A driver error goes through SQLAlchemy's own handling (``Connection._handle_dbapi_exception``,
the one private call here): it comes out as SQLAlchemy's error (``IntegrityError``,
``OperationalError``...), so the unit of work retries a lost race and the API answers 503 the
same way, and a lost connection invalidates the pool as after any other statement (the
PostgreSQL restart test holds it to that).
"""

from __future__ import annotations

import contextlib
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect


def _execute(conn: Connection, cursor: Any, sql: str, params: Any, *,
             many: bool = False) -> None:
    """The statement as SQLAlchemy runs it, engine events included: the connection's
    ``before_cursor_execute`` listeners (the statement count of adapters/db.py, the tests'
    statement logs), then the dialect's ``do_execute`` / ``do_executemany`` listeners (a test
    drops the connection this way) and the cursor's own call unless one of them handled it,
    then ``after_cursor_execute``. The execution context they are given is None."""
    events = conn.dispatch
    for before in events.before_cursor_execute:
        sql, params = before(conn, cursor, sql, params, None, many)
    hooks = conn.dialect.dispatch.do_executemany if many else conn.dialect.dispatch.do_execute
    if not (hooks and any(hook(cursor, sql, params, None) for hook in hooks)):
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
    if events.after_cursor_execute:
        for after in events.after_cursor_execute:
            after(conn, cursor, sql, params, None, many)


def _one(key: str) -> Callable[[Mapping[str, Any]], tuple[Any]]:
    return lambda given: (given[key],)


def _none(_given: Mapping[str, Any]) -> tuple[()]:
    return ()


@dataclass(frozen=True)
class _Prepared:
    """A statement compiled for one dialect, with what turns parameters into the driver's."""

    compiled: Any  # SQLAlchemy's SQLCompiler
    keys: tuple[str, ...]  # the bound parameters: in the driver's order when positional
    processors: tuple[Callable[[Any], Any] | None, ...]
    row: Callable[..., Any]  # a named tuple of the statement's result columns
    results: tuple[Callable[[Any], Any] | None, ...]  # the columns' own result conversions
    pick: Callable[[Mapping[str, Any]], Any] = field(init=False, repr=False)
    converting: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False)
    names: tuple[str, ...] = field(init=False, repr=False)  # as the SQL names them

    def __post_init__(self) -> None:
        # values() runs for every row written: the keys picked in one C call, and only the
        # parameters that have a processor converted (a third of them, in an order's row).
        keys = self.keys
        pick: Callable[[Mapping[str, Any]], Any]
        if len(keys) == 1:
            pick = _one(keys[0])
        elif keys:
            pick = itemgetter(*keys)
        else:
            pick = _none
        escaped = self.compiled.escaped_bind_names  # a name the SQL had to write otherwise
        object.__setattr__(self, "pick", pick)
        object.__setattr__(self, "converting", tuple(
            (i, p) for i, p in enumerate(self.processors) if p is not None))
        object.__setattr__(self, "names", tuple(escaped.get(k, k) for k in keys))

    @property
    def sql(self) -> str:
        return str(self.compiled.string)

    def values(self, given: Mapping[str, Any]) -> Any:
        picked = self.pick(given)
        converting = self.converting
        if converting:
            picked = list(picked)
            for i, process in converting:
                picked[i] = process(picked[i])
        if self.compiled.positional:
            return tuple(picked)
        return dict(zip(self.names, picked, strict=True))

    def rows(self, fetched: Sequence[Any]) -> list[Any]:
        if not any(self.results):
            return [self.row(*r) for r in fetched]
        results = self.results
        return [self.row(*(v if p is None else p(v) for v, p in zip(r, results, strict=True)))
                for r in fetched]


def _prepare(statement: Any, dialect: Dialect, column_keys: list[str] | None = None
             ) -> _Prepared:
    compiled = statement.compile(dialect=dialect, column_keys=column_keys)
    bound = {name: bind for bind, name in compiled.bind_names.items()}  # as the SQL names them
    keys = tuple(compiled.positiontup) if compiled.positional else tuple(bound)
    columns = list(statement.exported_columns)  # an INSERT's or UPDATE's: its RETURNING
    return _Prepared(
        compiled, keys,
        tuple(bound[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys),
        namedtuple("Row", [c.key for c in columns]),
        tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns))


def _send(conn: Connection, sql: str, params: Any, *,
          many: bool = False) -> tuple[Sequence[Any], int]:
    """Run on CONN's driver cursor: (the rows it returned, the rows it changed)."""
    cursor = conn.connection.cursor()
    try:
        _execute(conn, cursor, sql, params, many=many)
        fetched = cursor.fetchall() if cursor.description is not None else []
        return fetched, cursor.rowcount
    except conn.dialect.loaded_dbapi.Error as error:
        # SQLAlchemy's handling of a driver error on this connection, as after its own
        # statements: the error wrapped (parameters hidden), a disconnect invalidating the pool.
        conn._handle_dbapi_exception(error, sql, params, cursor, None)
        raise  # not reached: the call above raises
    finally:
        with contextlib.suppress(Exception):  # a connection already lost
            cursor.close()


class DriverInsert:
    """``INSERT INTO table (columns...)``: every row given to ``run`` has exactly these keys."""

    def __init__(self, table: sa.Table, columns: Sequence[str]) -> None:
        unknown = [c for c in columns if c not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column {unknown[0]!r}")
        self.table = table
        self.columns = tuple(columns)
        self.statement = table.insert()
        self._prepared: dict[str, _Prepared] = {}

    def _for(self, dialect: Dialect) -> _Prepared:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            prepared = _prepare(self.statement, dialect, list(self.columns))
            if sorted(prepared.keys) != sorted(self.columns):  # a Python-side default adds one
                raise ValueError(f"{self.table.name}: compiled with {prepared.keys}, "
                                 f"not {self.columns}")
            self._prepared[dialect.name] = prepared
        return prepared

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ROWS in the transaction open on CONN."""
        if not rows:
            return
        prepared = self._for(conn.dialect)
        params = [prepared.values(row) for row in rows]
        if len(params) == 1:
            _send(conn, prepared.sql, params[0])
        else:
            _send(conn, prepared.sql, params, many=True)


class DriverQuery:
    """A SELECT (or an UPDATE, or an INSERT ... RETURNING) run on the driver cursor. Its rows
    are named tuples of the statement's columns (``row.id``, ``row[0]``), each value converted
    by its column's own result processor (times come back as aware UTC datetimes, JSON as
    objects), as SQLAlchemy's rows hold them."""

    def __init__(self, statement: sa.Select[Any] | sa.CompoundSelect[Any] | sa.Update
                 | sa.Insert) -> None:
        self.statement = statement
        self._prepared: dict[str, _Prepared] = {}

    def _for(self, dialect: Dialect) -> _Prepared:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            prepared = self._prepared[dialect.name] = _prepare(self.statement, dialect)
        return prepared

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Sequence[Any], int]:
        prepared = self._for(conn.dialect)
        # construct_params: the statement's own values too (a LIMIT, a literal compared to)
        return _send(conn, prepared.sql,
                     prepared.values(prepared.compiled.construct_params(params)))

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        return self._for(conn.dialect).rows(self._run(conn, params)[0])

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        found = self.all(conn, params)
        return found[0] if found else None

    def changed(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Run an UPDATE (or DELETE) without RETURNING: the number of rows it changed."""
        return self._run(conn, params)[1]


def run_text(conn: Connection, sql: str) -> None:
    """A statement without parameters or rows (SQLite's ``BEGIN IMMEDIATE`` at the start of
    every write transaction) on CONN's driver cursor, events and error handling as above."""
    _send(conn, sql, ())
