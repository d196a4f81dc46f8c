"""WMS status checks (services/wms_checks.py): one row per order the carrier shipped, due a
while after the carrier's scan; the checker asks the WMS for the outbound order's events when
the WMS told nothing of picking or packing (a lost callback) and records what is missing.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wms_checks",
        sa.Column("order_id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("claimed_until", Time),
        sa.Column("checked_at", Time),
        sa.Column("outcome", sa.String(32)),
        sa.Column("recovered", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(1000)),
    )
    op.create_index("ix_wms_checks_due", "wms_checks", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_wms_checks_due", table_name="wms_checks")
    op.drop_table("wms_checks")
