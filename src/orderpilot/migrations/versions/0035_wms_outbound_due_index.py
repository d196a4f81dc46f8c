"""The outbound pusher's claim (due rows whose time has come, oldest first) and the count of
due pushes read ``wms_outbound`` through an index on (status, due_at). The table holds a row
for every order ever pushed and had no index but its key, so every claim read all of it: on
SQLite a plan of ``SCAN wms_outbound`` for each poll of each pusher, growing with the history
(docs/performance.md, "A stock read that grew with every order").

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0035"
down_revision: str | Sequence[str] | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_wms_outbound_due", "wms_outbound", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_wms_outbound_due", "wms_outbound")
