"""The back office: sale orders waiting to be booked in the ERP, and the ERP settings.

Revision ID: 0008
Revises: 0007 (until 0007, the channels, lands: then 0007)
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
# TEMPORARY: 0007 (channel accounts) is written on main; rebase this onto "0007" when it lands.
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "erp_bookings",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("bill_no", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("claimed_until", Time, nullable=True),
        sa.Column("sent_at", Time, nullable=True),
        sa.Column("erp_id", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(4000), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_erp_bookings"),
        sa.UniqueConstraint("bill_no", name="uq_erp_bookings_bill_no"),
    )
    op.create_index("ix_erp_bookings_status_due_at", "erp_bookings", ["status", "due_at"])
    op.create_table(
        "erp_settings",
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("key", name="pk_erp_settings"),
    )


def downgrade() -> None:
    op.drop_table("erp_settings")
    op.drop_index("ix_erp_bookings_status_due_at", table_name="erp_bookings")
    op.drop_table("erp_bookings")
