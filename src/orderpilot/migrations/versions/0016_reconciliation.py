"""Reconciliation runs and their discrepancies (three-way reconciliation, issue 12).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

Time = sa.DateTime(timezone=True)
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("seq", Seq, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("since", sa.Date, nullable=False),
        sa.Column("until", sa.Date, nullable=False),
        sa.Column("sources", sa.JSON, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("orders", sa.Integer, nullable=False),
        sa.Column("discrepant_orders", sa.Integer, nullable=False),
        sa.Column("per_mille", sa.String(24), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_reconciliation_runs"),
        sa.UniqueConstraint("id", name="uq_reconciliation_runs_id"))
    op.create_index("ix_reconciliation_runs_created_at", "reconciliation_runs", ["created_at"])
    op.create_table(
        "reconciliation_discrepancies",
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(36)),
        sa.Column("order_ref", sa.String(200), nullable=False),
        sa.Column("sku", sa.String(400), nullable=False, server_default=""),
        sa.Column("expected", sa.String(200), nullable=False, server_default=""),
        sa.Column("actual", sa.String(400), nullable=False, server_default=""),
        sa.Column("source", sa.String(200), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("action", sa.String(400)),
        sa.Column("changed_by", sa.String(200)),
        sa.Column("changed_at", Time),
        sa.PrimaryKeyConstraint("run_id", "n", name="pk_reconciliation_discrepancies"))
    op.create_index("ix_reconciliation_discrepancies_order_id", "reconciliation_discrepancies",
                    ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_reconciliation_discrepancies_order_id", "reconciliation_discrepancies")
    op.drop_table("reconciliation_discrepancies")
    op.drop_index("ix_reconciliation_runs_created_at", "reconciliation_runs")
    op.drop_table("reconciliation_runs")
