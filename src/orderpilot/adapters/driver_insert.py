"""INSERTs on the ingest path, run on the SQLite driver's cursor inside the unit of work's
transaction.

Placing an order writes five rows (order, lines, raw payload, event, outbox). Through
SQLAlchemy Core each statement costs far more in Python (execution context, parameter
processing, result set-up) than SQLite takes to store it: profiled, Core was half of an
order's CPU time. Here each statement is turned into the driver's SQL once per set of columns,
and each value still goes through its column type's own bind conversion (UTC times, JSON), so
the stored rows are byte for byte what Core would write. Driver errors are raised as
SQLAlchemy's, so the unit of work still retries a unique-key race or a busy database.

PostgreSQL keeps Core: its round trips, not Python, are what an order costs there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_Prepared = tuple[str, tuple[str, ...], tuple[Callable[[Any], Any] | None, ...]]


class DriverInsert:
    """``INSERT INTO table (the rows' keys) VALUES (...)`` for one row or many."""

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self._core = table.insert()
        self._prepared: dict[tuple[str, ...], _Prepared] = {}

    def run(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        if conn.dialect.name != "sqlite":
            conn.execute(self._core, list(rows))
            return
        sql, names, processors = self._prepare(conn, tuple(rows[0]))
        values = [tuple(value if process is None else process(value)
                        for process, value in zip(processors, (row[n] for n in names),
                                                  strict=True))
                  for row in rows]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if len(values) == 1:
                cursor.execute(sql, values[0])
            else:
                cursor.executemany(sql, values)
        except sqlite3.IntegrityError as error:  # as Core raises them (hiding the values)
            raise sa.exc.IntegrityError(sql, None, error, hide_parameters=True) from error
        except sqlite3.OperationalError as error:
            raise sa.exc.OperationalError(sql, None, error, hide_parameters=True) from error
        finally:
            cursor.close()

    def _prepare(self, conn: Connection, names: tuple[str, ...]) -> _Prepared:
        found = self._prepared.get(names)
        if found is None:
            dialect = conn.dialect
            columns = [self.table.c[n] for n in names]  # KeyError: not a column of the table
            processors = tuple(c.type.dialect_impl(dialect).bind_processor(dialect)
                               for c in columns)
            sql = (f'INSERT INTO "{self.table.name}" ('
                   + ", ".join(f'"{n}"' for n in names) + ") VALUES ("
                   + ", ".join("?" for _ in names) + ")")
            found = self._prepared[names] = (sql, names, processors)
        return found
