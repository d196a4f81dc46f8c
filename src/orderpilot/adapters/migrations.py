"""Schema migrations, driven from code: Alembic with the scripts shipped inside the package.

No alembic.ini is needed: the config is built here and the connection handed to the package's
``migrations/env.py`` through ``config.attributes["connection"]``.

SQLite: the whole run is one ``BEGIN IMMEDIATE`` transaction that we own (SQLite's DDL is
transactional), with foreign keys switched off around it, as SQLite's documented procedure for
schema changes requires: batch mode copies and drops tables that other tables reference, which
with ``foreign_keys=ON`` would fail or cascade. ``PRAGMA foreign_key_check`` runs before the
commit, so a migration cannot leave dangling references behind.

PostgreSQL: Alembic owns the transaction (all revisions in one, DDL being transactional there),
so a revision may still use ``op.get_context().autocommit_block()``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from orderpilot.adapters.db import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the package's scripts, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")  # for any version_locations added later
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str | None:
    """The newest revision shipped with this version of orderpilot."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@contextmanager
def _migration_connection(db: Database) -> Iterator[Connection]:
    if not db.is_sqlite:
        with db.engine.connect() as conn:
            yield conn
            conn.commit()  # whatever Alembic left open (it commits its own transaction)
        return
    with db.engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        # The pragma is a no-op inside a transaction, so it goes in before our BEGIN.
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():  # BEGIN IMMEDIATE, from Database's "begin" listener
                yield conn
                dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if dangling:
                    raise RuntimeError(f"migration leaves dangling foreign keys: {dangling[:5]}")
        finally:
            try:
                raw.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error:
                conn.invalidate()  # never hand a connection without FK checks back to the pool


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (default: the newest)."""
    with _migration_connection(db) as conn:
        command.upgrade(alembic_config(conn), revision)


def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to ``revision`` (``"base"`` drops everything)."""
    with _migration_connection(db) as conn:
        command.downgrade(alembic_config(conn), revision)


def current(db: Database) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    with db.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()
