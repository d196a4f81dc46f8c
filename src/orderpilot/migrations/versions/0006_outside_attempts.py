"""Outside calls recorded before they go out, so an unknown outcome is looked up, not resent.

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "outside_attempts",
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("step_no", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("look_ups", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_called_at", Time, nullable=False),
        sa.Column("last_called_at", Time, nullable=False),
        sa.Column("settled_at", Time, nullable=True),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("idempotency_key", name="pk_outside_attempts"),
    )
    op.create_index("ix_outside_attempts_run_id", "outside_attempts", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_outside_attempts_run_id", table_name="outside_attempts")
    op.drop_table("outside_attempts")
