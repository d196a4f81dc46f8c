"""Multi-source inventory and promotion quotas (issue 4).

Sources, levels per source and SKU, per-channel strategies, allocations, sync runs, due
pulls, promotions and their claims.

Revision ID: 0003
Revises: 0002
Create Date: 2026-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "inventory_sources",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("region", sa.String(100), nullable=False, server_default=""),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("lead_times", sa.JSON(), nullable=False),
        sa.Column("reservation_ttl_hours", sa.Integer(), nullable=False),
        sa.Column("sync_schedule", sa.String(32), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("low_threshold", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_inventory_sources"),
    )
    op.create_table(
        "inventory_levels",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("safety_stock", sa.Integer(), nullable=True),
        sa.Column("low_threshold", sa.Integer(), nullable=True),
        sa.Column("low", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("expected_at", sa.Date(), nullable=True),
        sa.Column("as_of", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("source", "sku", name="pk_inventory_levels"),
        sa.ForeignKeyConstraint(["source"], ["inventory_sources.code"],
                                name="fk_inventory_levels_source_inventory_sources"),
    )
    op.create_index("ix_inventory_levels_sku", "inventory_levels", ["sku"])
    op.create_table(
        "inventory_strategies",
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("allow_split", sa.Boolean(), nullable=False),
        sa.Column("allocate_on", sa.String(16), nullable=False),
        sa.Column("reservation_ttl_hours", sa.Integer(), nullable=True),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("channel", name="pk_inventory_strategies"),
    )
    op.create_table(
        "allocations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.Column("promotion_id", sa.String(36), nullable=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reserved_until", Time, nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("ended_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_allocations"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name="fk_allocations_order_id_orders"),
    )
    op.create_index("ix_allocations_order_id", "allocations", ["order_id"])
    op.create_index("ix_allocations_level", "allocations",
                    ["source", "sku", "status", "reserved_until"])
    op.create_table(
        "inventory_sync_runs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source_event_id", sa.String(200), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("finished_at", Time, nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inventory_sync_runs"),
        sa.UniqueConstraint("source_event_id", name="uq_inventory_sync_runs_source_event_id"),
    )
    op.create_index("ix_inventory_sync_runs_started", "inventory_sync_runs", ["started_at"])
    op.create_table(
        "inventory_pulls",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", Time, nullable=True),
        sa.Column("run_id", sa.String(36), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("finished_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inventory_pulls"),
    )
    op.create_index("ix_inventory_pulls_due", "inventory_pulls", ["status", "due_at"])
    op.create_table(
        "promotions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("trigger_sku", sa.String(64), nullable=False),
        sa.Column("gift_sku", sa.String(64), nullable=False),
        sa.Column("gift_source", sa.String(64), nullable=False),
        sa.Column("gift_quantity", sa.Integer(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("started_at", Time, nullable=True),
        sa.Column("ended_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_promotions"),
        sa.ForeignKeyConstraint(["gift_source"], ["inventory_sources.code"],
                                name="fk_promotions_gift_source_inventory_sources"),
    )
    op.create_table(
        "promotion_claims",
        sa.Column("promotion_id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("gift_sku", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_at", Time, nullable=False),
        sa.Column("released_at", Time, nullable=True),
        sa.PrimaryKeyConstraint("promotion_id", "order_id", name="pk_promotion_claims"),
        sa.ForeignKeyConstraint(["promotion_id"], ["promotions.id"],
                                name="fk_promotion_claims_promotion_id_promotions"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name="fk_promotion_claims_order_id_orders"),
    )
    op.create_index("ix_promotion_claims_order", "promotion_claims", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_promotion_claims_order", table_name="promotion_claims")
    op.drop_table("promotion_claims")
    op.drop_table("promotions")
    op.drop_index("ix_inventory_pulls_due", table_name="inventory_pulls")
    op.drop_table("inventory_pulls")
    op.drop_index("ix_inventory_sync_runs_started", table_name="inventory_sync_runs")
    op.drop_table("inventory_sync_runs")
    op.drop_index("ix_allocations_level", table_name="allocations")
    op.drop_index("ix_allocations_order_id", table_name="allocations")
    op.drop_table("allocations")
    op.drop_table("inventory_strategies")
    op.drop_index("ix_inventory_levels_sku", table_name="inventory_levels")
    op.drop_table("inventory_levels")
    op.drop_table("inventory_sources")
