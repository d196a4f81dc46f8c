"""Every SQL statement a hub's engine runs while inside ``statement_log``, lower-cased with
its whitespace folded, in order (SQLAlchemy's ``before_cursor_execute``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from orderpilot.bootstrap import Hub


@contextmanager
def statement_log(hub: Hub) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()).lower())

    sa.event.listen(hub.db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(hub.db.engine, "before_cursor_execute", note)
