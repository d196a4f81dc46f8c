"""The outbox claim reads two partial indexes of pending rows: one in due order, so a claim
walks the queue from its head and stops at its limit, and one by order, so "is an earlier event
of this order still pending?" is one index probe. Before, on PostgreSQL with two workers and a
backlog of about 1,500 events, a claim fetched every due row, sorted them, and for each one
scanned the whole pending part of ``ix_outbox_due`` (34-685 ms a claim, measured with EXPLAIN
ANALYZE during ``bench ingest --workers 2``; docs/performance.md, "The claim that read the
whole queue"). ``ix_outbox_order_seq`` served only that check and goes.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | Sequence[str] | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index("ix_outbox_pending_due", "outbox", ["available_at", "seq"],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.create_index("ix_outbox_pending_order", "outbox", ["order_id", "seq"],
                    postgresql_where=PENDING, sqlite_where=PENDING)
    op.drop_index("ix_outbox_order_seq", "outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_order_seq", "outbox", ["order_id", "seq"])
    op.drop_index("ix_outbox_pending_order", "outbox")
    op.drop_index("ix_outbox_pending_due", "outbox")
