"""The channel-day counters get a ``shard`` column in their key: each dispatcher thread counts
into its own row of a channel and day, and readers add the shards up. With one row per channel
and day, every dispatcher (of every worker process) queued on that row's lock for the length
of its transaction, and two of them deadlocked when they took two channels' rows in opposite
orders. Existing counts become shard 0.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | Sequence[str] | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("channel_daily_stats", recreate="auto") as batch:
        batch.add_column(sa.Column("shard", sa.SmallInteger(), nullable=False,
                                   server_default="0"))
        batch.drop_constraint("pk_channel_daily_stats", type_="primary")
        batch.create_primary_key("pk_channel_daily_stats", ["day", "channel", "shard"])


def downgrade() -> None:
    op.execute(sa.text(  # the shards of each channel and day folded into shard 0 first
        "UPDATE channel_daily_stats SET "
        "orders = (SELECT SUM(o.orders) FROM channel_daily_stats o WHERE "
        "o.day = channel_daily_stats.day AND o.channel = channel_daily_stats.channel), "
        "gmv_cents = (SELECT SUM(o.gmv_cents) FROM channel_daily_stats o WHERE "
        "o.day = channel_daily_stats.day AND o.channel = channel_daily_stats.channel) "
        "WHERE shard = 0"))
    op.execute(sa.text(
        "INSERT INTO channel_daily_stats (day, channel, shard, orders, gmv_cents) "
        "SELECT day, channel, 0, SUM(orders), SUM(gmv_cents) FROM channel_daily_stats s "
        "WHERE NOT EXISTS (SELECT 1 FROM channel_daily_stats z WHERE z.day = s.day "
        "AND z.channel = s.channel AND z.shard = 0) GROUP BY day, channel"))
    op.execute(sa.text("DELETE FROM channel_daily_stats WHERE shard <> 0"))
    with op.batch_alter_table("channel_daily_stats", recreate="auto") as batch:
        batch.drop_constraint("pk_channel_daily_stats", type_="primary")
        batch.create_primary_key("pk_channel_daily_stats", ["day", "channel"])
        batch.drop_column("shard")
