"""Expectations ops declare ("after A, expect B within T") and the breaches found.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

Time = sa.DateTime(timezone=True)

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "expectations",
        sa.Column("code", sa.String(48), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("after_type", sa.String(64), nullable=False),
        sa.Column("expect_type", sa.String(64), nullable=False),
        sa.Column("within_minutes", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64)),
        sa.Column("condition", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.Column("evaluated_at", Time),
        sa.Column("retroactive_count", sa.Integer()),
        sa.PrimaryKeyConstraint("code", name="pk_expectations"))
    op.create_table(
        "expectation_breaches",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(48), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("after_event_id", sa.String(36), nullable=False),
        sa.Column("after_at", Time, nullable=False),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("resolved_at", Time),
        sa.Column("late_by_seconds", sa.BigInteger()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_at_risk_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recorded_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_expectation_breaches"),
        sa.UniqueConstraint("code", "after_event_id", name="uq_expectation_breaches_after"))
    op.create_index("ix_expectation_breaches_order_id", "expectation_breaches", ["order_id"])
    op.create_index("ix_expectation_breaches_code_status", "expectation_breaches",
                    ["code", "status"])


def downgrade() -> None:
    op.drop_index("ix_expectation_breaches_code_status", "expectation_breaches")
    op.drop_index("ix_expectation_breaches_order_id", "expectation_breaches")
    op.drop_table("expectation_breaches")
    op.drop_table("expectations")
