"""Access hardening (issue 8): sources bound to API tokens, console sessions kept server-side.

A token's scopes (``source:wms source:sf``) say which systems it may report as. A console
session lives in ``console_sessions`` so that signing out, a password change or disabling the
user ends it at once; the cookie carries only a random key whose SHA-256 is stored here.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scopes", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "console_sessions",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_console_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_console_sessions_user_id_users"),
    )
    op.create_index("ix_console_sessions_user_id", "console_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_console_sessions_user_id", table_name="console_sessions")
    op.drop_table("console_sessions")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scopes")
