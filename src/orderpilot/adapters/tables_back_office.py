"""The back office's tables (migration 0008): sale orders waiting to be booked in the ERP, and
the ERP settings finance edits (the field mapping) or the workers keep (watermarks).

``erp_bookings`` has one row per paid order: ``queued`` (due at ``due_at``, claimed with a
lease like an outbox row), ``booked`` or ``stopped`` (a permanent refusal staff must look at).
``sent_at`` is set, and committed, before a batch goes out: a row claimed again with it set
may already be in the ERP, so its bill is looked up before any resend.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Time, metadata

erp_bookings = sa.Table(
    "erp_bookings", metadata,
    sa.Column("order_id", sa.String(36), primary_key=True),
    sa.Column("bill_no", sa.String(120), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),  # queued | booked | stopped
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_at", Time, nullable=False),
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("claimed_until", Time),
    sa.Column("sent_at", Time),
    sa.Column("erp_id", sa.String(64)),
    sa.Column("last_error", sa.String(4000)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("ix_erp_bookings_status_due_at", "status", "due_at"),
)

erp_settings = sa.Table(
    "erp_settings", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False, server_default=""),
)
