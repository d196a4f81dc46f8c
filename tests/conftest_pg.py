"""Throwaway PostgreSQL databases for tests: plain helpers, importable from any test module.

The server is the local one (127.0.0.1:5432, trust auth, role ``postgres``); set
``ORDERPILOT_TEST_PG_ADMIN_URL`` to point elsewhere. Every database made here is named
``orderpilot_<prefix>_<random>`` and must be dropped with :func:`drop_pg_database`.
"""

from __future__ import annotations

import functools
import os
import re
import secrets

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get(
    "ORDERPILOT_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NAME_PREFIX = "orderpilot_"
PG_UNREACHABLE = (f"PostgreSQL not reachable at {make_url(ADMIN_URL).render_as_string()} with "
                  "CREATEDB (set ORDERPILOT_TEST_PG_ADMIN_URL to use another server)")


def _admin_engine() -> sa.Engine:
    return sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool,
                            connect_args={"connect_timeout": 3})


@functools.cache
def pg_available() -> bool:
    """True if the PostgreSQL server answers and lets us create databases (checked once)."""
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(sa.text(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")))
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def create_pg_database(prefix: str = "test") -> str:
    """Create an empty, uniquely named database and return its SQLAlchemy URL."""
    if not re.fullmatch(r"[a-z0-9_]{1,30}", prefix):
        raise ValueError(f"bad database name prefix {prefix!r}")
    name = f"{NAME_PREFIX}{prefix}_{secrets.token_hex(6)}"
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop a database made by :func:`create_pg_database`, closing any sessions still on it."""
    name = make_url(url).database
    if not name or not name.startswith(NAME_PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a throwaway test database")
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()
