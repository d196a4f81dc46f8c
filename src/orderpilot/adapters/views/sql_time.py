"""Times turned into numbers and days by the database, so a read of a hundred thousand orders
makes no time objects in Python (the UtcDateTime column type parses each on SQLite)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class epoch_seconds(FunctionElement[float]):  # noqa: N801 - an SQL function's name
    """Seconds since 1970-01-01 UTC of a stored time."""
    type = sa.Float()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM {moment}) AS DOUBLE PRECISION)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({moment}) - 2440587.5) * 86400.0)"


class shanghai_day(FunctionElement[str]):  # noqa: N801 - an SQL function's name
    """The Beijing day (YYYY-MM-DD) of a stored time (UTC+8, no daylight saving)."""
    type = sa.String()
    inherit_cache = True


@compiles(shanghai_day, "postgresql")
def _day_pg(element: shanghai_day, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"to_char({moment} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')"


@compiles(shanghai_day, "sqlite")
def _day_sqlite(element: shanghai_day, compiler: SQLCompiler, **kw: Any) -> str:
    (moment,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({moment}, '+8 hours')"
