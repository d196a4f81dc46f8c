"""Sales-channel accounts, the pushes they send, the fetch jobs those make, and what the hub
knows of each platform order (migration 0007).

``channel_pushes`` keeps every verified push as it came (the exact body), unique per account
and push key, so a replayed push changes nothing. ``channel_jobs`` is the channel outbox: a
job is written in the same transaction as its push (or by a pull), claimed with a lease, and
done at least once; applying an order is idempotent, so the order changes once.
``channel_orders`` holds the platform's side of each order: its status and update time (an
older update changes nothing), the buyer fields as received and the adjustments' names.
``channel_quarantine`` keeps what could not be mapped, with platform, field and reason, to be
replayed after a mapping fix.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Cents, SeqPK, Time, metadata

channel_accounts = sa.Table(
    "channel_accounts", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("shop_id", sa.String(64), nullable=False),
    sa.Column("region", sa.String(8), nullable=False, server_default=""),
    sa.Column("currency", sa.String(3), nullable=False, server_default=""),
    sa.Column("base_url", sa.String(500), nullable=False, server_default=""),
    sa.Column("callback_url", sa.String(500), nullable=False, server_default=""),
    sa.Column("credentials", sa.JSON, nullable=False),  # secrets: never returned
    sa.Column("access_token", sa.Text, nullable=False, server_default=""),
    sa.Column("refresh_token", sa.Text, nullable=False, server_default=""),
    sa.Column("token_expires_at", Time),
    sa.Column("refresh_expires_at", Time),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("pull_every_minutes", sa.Integer, nullable=False, server_default="10"),
    sa.Column("pull_watermark", Time),  # orders updated before this are in
    sa.Column("returns_watermark", Time),  # returns updated before this are in (0020)
    sa.Column("last_pull_at", Time),
    sa.Column("last_pull", sa.JSON),  # the last pull's summary
    sa.Column("last_push_at", Time),
    sa.Column("pushes_taken", sa.Integer, nullable=False, server_default="0"),
    sa.Column("pushes_refused", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_refused_at", Time),
    sa.Column("last_refusal", sa.String(500)),
    sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error_at", Time),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("platform", "shop_id", name="uq_channel_accounts_platform"),
)

channel_pushes = sa.Table(
    "channel_pushes", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("push_key", sa.String(200), nullable=False),
    sa.Column("received_at", Time, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("notices", sa.Integer, nullable=False, server_default="0"),
    sa.UniqueConstraint("account", "push_key", name="uq_channel_pushes_account"),
)

channel_jobs = sa.Table(
    "channel_jobs", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False, unique=True),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("external_id", sa.String(64), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),  # push | pull | lost | replay
    # The whole order when the push carried it, as exact JSON text (money stays Decimal).
    sa.Column("raw", sa.Text),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("available_at", Time, nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("done_at", Time),
)
sa.Index("ix_channel_jobs_due", channel_jobs.c.status, channel_jobs.c.available_at)

channel_orders = sa.Table(
    "channel_orders", metadata,
    sa.Column("account", sa.String(64), primary_key=True),
    sa.Column("external_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(36), nullable=False, index=True),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("platform_status", sa.String(64), nullable=False),
    sa.Column("platform_updated_at", Time, nullable=False),
    sa.Column("paid_total_cents", Cents, nullable=False),
    sa.Column("buyer_name", sa.String(500), nullable=False, server_default=""),
    sa.Column("buyer_phone", sa.String(500), nullable=False, server_default=""),
    sa.Column("packages", sa.JSON, nullable=False),
    sa.Column("raw_hash", sa.String(64), nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

channel_quarantine = sa.Table(
    "channel_quarantine", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(64), nullable=False, index=True),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("external_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("field", sa.String(200)),
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column("reason_zh", sa.String(1000), nullable=False, server_default=""),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Column("received_at", Time, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="held"),  # held|replayed
    sa.Column("replayed_at", Time),
)
