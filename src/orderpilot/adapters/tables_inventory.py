"""The inventory tables: sources, levels, strategies, allocations, sync runs and pulls,
promotions and their claims (migration 0003)."""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Time, metadata
from orderpilot.domain.inventory_records import ACTIVE

inventory_sources = sa.Table(
    "inventory_sources", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name_zh", sa.String(100), nullable=False),
    sa.Column("name_en", sa.String(100), nullable=False),
    sa.Column("region", sa.String(100), nullable=False, server_default=""),
    sa.Column("lead_time_days", sa.Integer, nullable=False),
    sa.Column("lead_times", sa.JSON, nullable=False),
    sa.Column("reservation_ttl_hours", sa.Integer, nullable=False),
    sa.Column("sync_schedule", sa.String(32), nullable=False),
    sa.Column("safety_stock", sa.Integer, nullable=False, server_default="0"),
    sa.Column("low_threshold", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", Time, nullable=False),
)

# reserved = active allocations + units locked by live promotions; on read, reservations whose
# reserved_until has passed are given back even before the sweeper gets to them.
inventory_levels = sa.Table(
    "inventory_levels", metadata,
    sa.Column("source", sa.String(64), sa.ForeignKey("inventory_sources.code"),
              primary_key=True),
    sa.Column("sku", sa.String(64), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False),
    sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("safety_stock", sa.Integer),
    sa.Column("low_threshold", sa.Integer),
    sa.Column("low", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("expected_at", sa.Date),
    sa.Column("as_of", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)
sa.Index("ix_inventory_levels_sku", inventory_levels.c.sku)

inventory_strategies = sa.Table(
    "inventory_strategies", metadata,
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("tiers", sa.JSON, nullable=False),
    sa.Column("allow_split", sa.Boolean, nullable=False),
    sa.Column("allocate_on", sa.String(16), nullable=False),
    sa.Column("reservation_ttl_hours", sa.Integer),
    sa.Column("updated_at", Time, nullable=False),
)

allocations = sa.Table(
    "allocations", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False,
              index=True),
    sa.Column("line_no", sa.Integer),
    sa.Column("promotion_id", sa.String(36)),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active|released|expired|consumed
    sa.Column("reserved_until", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("ended_at", Time),
)
sa.Index("ix_allocations_level", allocations.c.source, allocations.c.sku,
         allocations.c.status, allocations.c.reserved_until)
# The sweep's reservations past their time and its recount of active ones (migration 0035):
# active allocations only, found by a query naming the status as a literal (ACTIVE_ONLY)
ACTIVE_ONLY = sa.text(f"status = '{ACTIVE}'")
sa.Index("ix_allocations_active", allocations.c.source, allocations.c.sku,
         allocations.c.quantity, allocations.c.reserved_until, postgresql_where=ACTIVE_ONLY,
         sqlite_where=ACTIVE_ONLY)

inventory_sync_runs = sa.Table(
    "inventory_sync_runs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("source_event_id", sa.String(200), unique=True),
    sa.Column("method", sa.String(16), nullable=False),  # push | pull | import
    sa.Column("source", sa.String(64)),
    sa.Column("request_hash", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),  # applied | failed | ...
    sa.Column("started_at", Time, nullable=False),
    sa.Column("finished_at", Time, nullable=False),
    sa.Column("changes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.Column("outcome", sa.JSON, nullable=False),
)
sa.Index("ix_inventory_sync_runs_started", inventory_sync_runs.c.started_at)

# A pull that is due: written by the inventory.pull timer, carried out by the inventory puller
# outside any transaction (the WMS call), then finished with the sync run it produced.
inventory_pulls = sa.Table(
    "inventory_pulls", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("due_at", Time, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # due | done | failed | skipped
    sa.Column("reason", sa.String(16), nullable=False),  # schedule | manual | retry
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", Time),
    sa.Column("run_id", sa.String(36)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("finished_at", Time),
)
sa.Index("ix_inventory_pulls_due", inventory_pulls.c.status, inventory_pulls.c.due_at)

promotions = sa.Table(
    "promotions", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("trigger_sku", sa.String(64), nullable=False),
    sa.Column("gift_sku", sa.String(64), nullable=False),
    sa.Column("gift_source", sa.String(64), sa.ForeignKey("inventory_sources.code"),
              nullable=False),
    sa.Column("gift_quantity", sa.Integer, nullable=False),
    sa.Column("quota", sa.Integer, nullable=False),
    sa.Column("claimed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("channel", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False),  # draft | live | ended
    sa.Column("created_at", Time, nullable=False),
    sa.Column("started_at", Time),
    sa.Column("ended_at", Time),
)

promotion_claims = sa.Table(
    "promotion_claims", metadata,
    sa.Column("promotion_id", sa.String(36), sa.ForeignKey("promotions.id"), primary_key=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("gift_sku", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # claimed | released
    sa.Column("claimed_at", Time, nullable=False),
    sa.Column("released_at", Time),
)
sa.Index("ix_promotion_claims_order", promotion_claims.c.order_id)
