"""Outbound webhooks (docs/webhooks.md): subscriptions and their deliveries, and the queue of
the optional NATS JetStream relay.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)
SeqPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("description", sa.String(200), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False, server_default=""),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("subscription_id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("order_key", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("replays", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_until", Time),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("request_headers", sa.JSON),
        sa.Column("response_status", sa.Integer),
        sa.Column("response_body", sa.String(2000)),
        sa.Column("last_error", sa.String(1000)),
        sa.Column("first_attempt_at", Time),
        sa.Column("last_attempt_at", Time),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("delivered_at", Time),
        sa.UniqueConstraint("id", name="uq_webhook_deliveries_id"),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_event"),
    )
    op.create_table(
        "nats_relay",
        sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("claimed_until", Time),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(1000)),
        sa.UniqueConstraint("event_id", name="uq_nats_relay_event_id"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "due_at"])
    op.create_index("ix_webhook_deliveries_order", "webhook_deliveries",
                    ["subscription_id", "order_key", "status", "seq"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_order", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("nats_relay")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
