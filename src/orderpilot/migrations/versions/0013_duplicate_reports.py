"""Reports the hub had already recorded, kept so the lifecycle board can count each system's
duplicates.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

Time = sa.DateTime(timezone=True)

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duplicate_reports",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_event_id", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_duplicate_reports"))
    op.create_index("ix_duplicate_reports_received_at", "duplicate_reports", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_duplicate_reports_received_at", "duplicate_reports")
    op.drop_table("duplicate_reports")
