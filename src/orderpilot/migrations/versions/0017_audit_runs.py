"""Stored audit runs: the walkthrough audit's parameters, summary and result (S12a).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

Time = sa.DateTime(timezone=True)

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("since", Time),
        sa.Column("until", Time),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("paths", sa.JSON(), nullable=False),
        sa.Column("run_by", sa.String(100), nullable=False),
        sa.Column("run_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_runs"))
    op.create_index("ix_audit_runs_kind_run_at", "audit_runs", ["kind", "run_at"])


def downgrade() -> None:
    op.drop_index("ix_audit_runs_kind_run_at", "audit_runs")
    op.drop_table("audit_runs")
