"""Every attempt of a webhook delivery, not only the last: when it was made, how long it
took, what the receiver answered (or the error) and what came of it. A delivery row keeps the
last attempt as before; these rows are the history the log shows under it.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | Sequence[str] | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)
SeqPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_attempts",
        sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(36), nullable=False),
        sa.Column("replay", sa.Integer, nullable=False),
        sa.Column("attempted_at", Time, nullable=False),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("response_status", sa.Integer),
        sa.Column("response_body", sa.String(2000)),
        sa.Column("error", sa.String(1000)),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_webhook_attempts_delivery", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
