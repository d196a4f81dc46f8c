"""Sales-channel accounts, pushes, fetch jobs, platform orders and their quarantine; order
adjustments (vouchers, coins...) and partly cancelled lines.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)
SeqPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("orders", sa.Column("adjustments", sa.JSON(), nullable=True))
    op.add_column("order_lines", sa.Column("cancelled_quantity", sa.Integer(), nullable=False,
                                           server_default="0"))
    op.create_table(
        "channel_accounts",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("region", sa.String(8), nullable=False, server_default=""),
        sa.Column("currency", sa.String(3), nullable=False, server_default=""),
        sa.Column("base_url", sa.String(500), nullable=False, server_default=""),
        sa.Column("callback_url", sa.String(500), nullable=False, server_default=""),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False, server_default=""),
        sa.Column("refresh_token", sa.Text(), nullable=False, server_default=""),
        sa.Column("token_expires_at", Time, nullable=True),
        sa.Column("refresh_expires_at", Time, nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("pull_every_minutes", sa.Integer(), nullable=False, server_default="10"),
        sa.Column("pull_watermark", Time, nullable=True),
        sa.Column("last_pull_at", Time, nullable=True),
        sa.Column("last_pull", sa.JSON(), nullable=True),
        sa.Column("last_push_at", Time, nullable=True),
        sa.Column("pushes_taken", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("pushes_refused", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_refused_at", Time, nullable=True),
        sa.Column("last_refusal", sa.String(500), nullable=True),
        sa.Column("errors", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error_at", Time, nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_channel_accounts"),
        sa.UniqueConstraint("platform", "shop_id", name="uq_channel_accounts_platform"),
    )
    op.create_table(
        "channel_pushes",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("push_key", sa.String(200), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("notices", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("seq", name="pk_channel_pushes"),
        sa.UniqueConstraint("account", "push_key", name="uq_channel_pushes_account"),
    )
    op.create_table(
        "channel_jobs",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("available_at", Time, nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", Time, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("done_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_channel_jobs"),
        sa.UniqueConstraint("key", name="uq_channel_jobs_key"),
    )
    op.create_index("ix_channel_jobs_due", "channel_jobs", ["status", "available_at"])
    op.create_table(
        "channel_orders",
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("platform_status", sa.String(64), nullable=False),
        sa.Column("platform_updated_at", Time, nullable=False),
        sa.Column("paid_total_cents", sa.BigInteger(), nullable=False),
        sa.Column("buyer_name", sa.String(500), nullable=False, server_default=""),
        sa.Column("buyer_phone", sa.String(500), nullable=False, server_default=""),
        sa.Column("packages", sa.JSON(), nullable=False),
        sa.Column("raw_hash", sa.String(64), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("account", "external_id", name="pk_channel_orders"),
    )
    op.create_index("ix_channel_orders_order_id", "channel_orders", ["order_id"])
    op.create_table(
        "channel_quarantine",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("field", sa.String(200), nullable=True),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("reason_zh", sa.String(1000), nullable=False, server_default=""),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="held"),
        sa.Column("replayed_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_channel_quarantine"),
    )
    op.create_index("ix_channel_quarantine_account", "channel_quarantine", ["account"])


def downgrade() -> None:
    op.drop_index("ix_channel_quarantine_account", table_name="channel_quarantine")
    op.drop_table("channel_quarantine")
    op.drop_index("ix_channel_orders_order_id", table_name="channel_orders")
    op.drop_table("channel_orders")
    op.drop_index("ix_channel_jobs_due", table_name="channel_jobs")
    op.drop_table("channel_jobs")
    op.drop_table("channel_pushes")
    op.drop_table("channel_accounts")
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("cancelled_quantity")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("adjustments")
