"""Refused system reports kept (docs/exceptions-retry-and-refusals.md): a report the lifecycle
refused (an illegal step, an order on hold, an unknown order, an event id reused) with its
reason, counted once per (source, source_event_id).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

Time = sa.DateTime(timezone=True)

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refused_reports",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("last_seen_at", Time, nullable=False),
        sa.Column("times", sa.Integer, nullable=False, server_default="1"),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("source_event_id", sa.String(200)),
        sa.Column("from_status", sa.String(32)),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(1000), nullable=False, server_default=""),
        sa.Column("detail_zh", sa.String(1000), nullable=False, server_default=""),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.UniqueConstraint("source", "source_event_id", name="uq_refused_reports_source_ref"),
    )
    op.create_index("ix_refused_reports_received", "refused_reports", ["received_at", "seq"])
    op.create_index("ix_refused_reports_system", "refused_reports", ["system", "received_at"])


def downgrade() -> None:
    op.drop_table("refused_reports")
