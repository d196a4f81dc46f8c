"""Initial schema: every table, index and constraint of orderpilot.adapters.tables.

Written out rather than ``metadata.create_all`` so that it stays the schema as of this revision
whatever tables.py becomes. Names follow tables.py's naming convention.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of tables.py's column types as of this revision.
SeqPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)
Cents = sa.BigInteger


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("placed_at", Time, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("customer_name", sa.String(100), nullable=False),
        sa.Column("customer_phone", sa.String(32), nullable=False),
        sa.Column("address_country", sa.String(2), nullable=False),
        sa.Column("address_province", sa.String(200), nullable=False, server_default=""),
        sa.Column("address_city", sa.String(200), nullable=False, server_default=""),
        sa.Column("address_district", sa.String(200), nullable=False, server_default=""),
        sa.Column("address_line1", sa.String(200), nullable=False),
        sa.Column("address_postal_code", sa.String(20), nullable=False, server_default=""),
        sa.Column("address_flags", sa.String(200), nullable=False, server_default=""),
        sa.Column("total_cents", Cents(), nullable=False),
        sa.Column("shipping_fee_cents", Cents(), nullable=False, server_default="0"),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_changed_at", Time, nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_orders"),
        sa.UniqueConstraint("id", name="uq_orders_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_orders_idempotency_key"),
        sa.UniqueConstraint("channel", "shop_id", "external_id", name="uq_orders_channel_ref"),
    )
    op.create_index("ix_orders_status", "orders", ["status", "seq"])
    op.create_index("ix_orders_channel", "orders", ["channel", "seq"])
    op.create_index("ix_orders_held", "orders", ["held", "seq"])

    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_cents", Cents(), nullable=False),
        sa.Column("discount_cents", Cents(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("order_id", "line_no", name="pk_order_lines"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name="fk_order_lines_order_id_orders"),
    )
    op.create_index("ix_order_lines_sku", "order_lines", ["sku"])

    op.create_table(
        "raw_payloads",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_raw_payloads"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name="fk_raw_payloads_order_id_orders"),
    )
    op.create_index("ix_raw_payloads_order_id", "raw_payloads", ["order_id"])

    op.create_table(
        "holds",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("note", sa.String(1000), nullable=False, server_default=""),
        sa.Column("placed_by", sa.String(100), nullable=False),
        sa.Column("placed_by_kind", sa.String(16), nullable=False),
        sa.Column("placed_at", Time, nullable=False),
        sa.Column("released_at", Time, nullable=True),
        sa.Column("released_by", sa.String(100), nullable=True),
        sa.Column("auto_release_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_holds"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_holds_order_id_orders"),
    )
    op.create_index("ix_holds_order_id", "holds", ["order_id"])

    op.create_table(
        "system_views",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("status", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("occurred_at", Time, nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "system", name="pk_system_views"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name="fk_system_views_order_id_orders"),
    )

    op.create_table(
        "events",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("system", sa.String(16), nullable=False),
        sa.Column("source_event_id", sa.String(200), nullable=True),
        sa.Column("occurred_at", Time, nullable=False),
        sa.Column("recorded_at", Time, nullable=False),
        sa.Column("causation_id", sa.String(36), nullable=True),
        sa.Column("correlation_id", sa.String(200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
        sa.UniqueConstraint("id", name="uq_events_id"),
        sa.UniqueConstraint("source", "source_event_id", name="uq_events_source_ref"),
    )
    op.create_index("ix_events_order_id", "events", ["order_id"])

    op.create_table(
        "outbox",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("available_at", Time, nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", Time, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "available_at"])

    op.create_table(
        "inbox",
        sa.Column("handler", sa.String(100), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("handled_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("handler", "message_id", name="pk_inbox"),
    )

    op.create_table(
        "timers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=True),
        sa.Column("fire_at", Time, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", Time, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("fired_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
        sa.UniqueConstraint("key", name="uq_timers_key"),
    )
    op.create_index("ix_timers_order_id", "timers", ["order_id"])
    op.create_index("ix_timers_due", "timers", ["status", "fire_at"])

    op.create_table(
        "users",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("locale", sa.String(8), nullable=False, server_default="zh_CN"),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("revoked_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )

    op.create_table(
        "quarantine",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("received_at", Time, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("field", sa.String(200), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_quarantine"),
    )

    op.create_table(
        "channel_daily_stats",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("gmv_cents", Cents(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", name="pk_channel_daily_stats"),
    )


def downgrade() -> None:
    op.drop_table("channel_daily_stats")
    op.drop_table("quarantine")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_index("ix_timers_due", table_name="timers")
    op.drop_index("ix_timers_order_id", table_name="timers")
    op.drop_table("timers")
    op.drop_table("inbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_events_order_id", table_name="events")
    op.drop_table("events")
    op.drop_table("system_views")
    op.drop_index("ix_holds_order_id", table_name="holds")
    op.drop_table("holds")
    op.drop_index("ix_raw_payloads_order_id", table_name="raw_payloads")
    op.drop_table("raw_payloads")
    op.drop_index("ix_order_lines_sku", table_name="order_lines")
    op.drop_table("order_lines")
    op.drop_index("ix_orders_held", table_name="orders")
    op.drop_index("ix_orders_channel", table_name="orders")
    op.drop_index("ix_orders_status", table_name="orders")
    op.drop_table("orders")
