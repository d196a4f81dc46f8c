"""The settings version (adapters/tables_settings_version.py): the number triggers raise with
every change to the settings a dispatcher keeps from one batch to the next."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.driver_sql import DriverQuery

_CURRENT = DriverQuery(sa.select(t.settings_version.c.n).where(t.settings_version.c.id == 1))


class SettingsVersionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def current(self) -> int | None:
        """None when there is no number (a schema not made by the migrations): then nothing
        read may be kept."""
        row = _CURRENT.first(self.conn, {})
        return None if row is None else int(row[0])
