"""The settings version: one row whose number triggers raise with every change to the settings
a dispatcher reads for each event (adapters/tables_settings_version.py), so it can keep them
from one batch to the next while the number stands.

PostgreSQL: one statement-level trigger a table (INSERT, UPDATE, DELETE, TRUNCATE). SQLite,
which has only row-level triggers: one a table and kind of change.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034"
down_revision: str | Sequence[str] | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As of this revision (adapters/tables_settings_version.WATCHED may grow in a later one).
WATCHED = ("expectations", "webhook_subscriptions", "inventory_strategies", "inventory_sources")
RAISE = "UPDATE settings_version SET n = n + 1 WHERE id = 1"
SQLITE_CHANGES = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        "settings_version",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO settings_version (id, n) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION settings_version_raise() RETURNS trigger "
                   f"LANGUAGE plpgsql AS $$ BEGIN {RAISE}; RETURN NULL; END $$")
        for table in WATCHED:
            op.execute(f"CREATE TRIGGER settings_version_raise AFTER INSERT OR UPDATE OR "
                       f"DELETE OR TRUNCATE ON {table} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION settings_version_raise()")
        return
    for table in WATCHED:
        for change in SQLITE_CHANGES:
            op.execute(f"CREATE TRIGGER settings_version_{table}_{change} AFTER "
                       f"{change.upper()} ON {table} BEGIN {RAISE}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER settings_version_raise ON {table}")
        op.execute("DROP FUNCTION settings_version_raise()")
    else:
        for table in WATCHED:
            for change in SQLITE_CHANGES:
                op.execute(f"DROP TRIGGER settings_version_{table}_{change}")
    op.drop_table("settings_version")
