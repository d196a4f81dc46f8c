"""The outbox row knows its event's order (``outbox.order_id``), so a PostgreSQL worker claims
only an order's earliest pending event: no two events of one order are handled at once or out
of order, whichever worker takes them. Rows already queued get it from their event.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("order_id", sa.String(36)))
    op.execute(sa.text("UPDATE outbox SET order_id = (SELECT events.order_id FROM events "
                       "WHERE events.id = outbox.event_id)"))
    op.create_index("ix_outbox_order_seq", "outbox", ["order_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_outbox_order_seq", "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("order_id")
