"""The schema, in SQLAlchemy Core. Money is stored as integer cents; times as UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """Stores every time as UTC and hands it back time-zone aware, on SQLite as on PostgreSQL
    (SQLite would otherwise drop the offset and keep the wall-clock time)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Every constraint and index gets a deterministic name, the same one the migrations use, so a
# later migration can drop or alter it (SQLite's batch mode needs names to find constraints).
metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
SeqPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = UtcDateTime()
Cents = sa.BigInteger

orders = sa.Table(
    "orders", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
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
    sa.Column("total_cents", Cents, nullable=False),
    sa.Column("shipping_fee_cents", Cents, nullable=False, server_default="0"),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("status_changed_at", Time, nullable=False),
    sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("idempotency_key", sa.String(200), unique=True),
    sa.Column("request_hash", sa.String(64)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("channel", "shop_id", "external_id", name="uq_orders_channel_ref"),
)
sa.Index("ix_orders_status", orders.c.status, orders.c.seq)
sa.Index("ix_orders_channel", orders.c.channel, orders.c.seq)
sa.Index("ix_orders_held", orders.c.held, orders.c.seq)

order_lines = sa.Table(
    "order_lines", metadata,
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_cents", Cents, nullable=False),
    sa.Column("discount_cents", Cents, nullable=False, server_default="0"),
)

raw_payloads = sa.Table(
    "raw_payloads", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("received_at", Time, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
)

holds = sa.Table(
    "holds", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("note", sa.String(1000), nullable=False, server_default=""),
    sa.Column("placed_by", sa.String(100), nullable=False),
    sa.Column("placed_by_kind", sa.String(16), nullable=False),
    sa.Column("placed_at", Time, nullable=False),
    sa.Column("released_at", Time),
    sa.Column("released_by", sa.String(100)),
    sa.Column("auto_release_at", Time),
)

system_views = sa.Table(
    "system_views", metadata,
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("system", sa.String(16), primary_key=True),
    sa.Column("status", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("occurred_at", Time, nullable=False),
    sa.Column("received_at", Time, nullable=False),
)

events = sa.Table(
    "events", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    # None for events about no one order (stock below threshold, a promotion ending).
    sa.Column("order_id", sa.String(36), nullable=True, index=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("system", sa.String(16), nullable=False),
    sa.Column("source_event_id", sa.String(200)),
    sa.Column("occurred_at", Time, nullable=False),
    sa.Column("recorded_at", Time, nullable=False),
    sa.Column("causation_id", sa.String(36)),
    sa.Column("correlation_id", sa.String(200)),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.UniqueConstraint("source", "source_event_id", name="uq_events_source_ref"),
)

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("available_at", Time, nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", Time),
    sa.Column("last_error", sa.Text),
)
sa.Index("ix_outbox_due", outbox.c.status, outbox.c.available_at)

inbox = sa.Table(
    "inbox", metadata,
    sa.Column("handler", sa.String(100), primary_key=True),
    sa.Column("message_id", sa.String(100), primary_key=True),
    sa.Column("handled_at", Time, nullable=False),
)

timers = sa.Table(
    "timers", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(36), index=True),
    sa.Column("fire_at", Time, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("fired_at", Time),
)
sa.Index("ix_timers_due", timers.c.status, timers.c.fire_at)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("locale", sa.String(8), nullable=False, server_default="zh_CN"),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Time, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("revoked_at", Time),
)

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("received_at", Time, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("endpoint", sa.String(200), nullable=False),
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column("field", sa.String(200)),
    sa.Column("payload", sa.Text, nullable=False),
)

# --- automation rules (issue 3) ---

rules = sa.Table(
    "rules", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("key", sa.String(100), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # draft|enabled|paused|archived
    sa.Column("draft", sa.JSON),  # the working copy; None when it equals the published one
    sa.Column("published_version", sa.Integer),
    sa.Column("template_id", sa.String(100)),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("row_version", sa.Integer, nullable=False, server_default="0"),
)

rule_versions = sa.Table(
    "rule_versions", metadata,
    sa.Column("rule_id", sa.String(36), sa.ForeignKey("rules.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("published_by", sa.String(100), nullable=False),
    sa.Column("published_at", Time, nullable=False),
    sa.Column("reason", sa.String(1000), nullable=False, server_default=""),
    sa.Column("diff", sa.JSON, nullable=False),
)

rule_audit = sa.Table(
    "rule_audit", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("rule_id", sa.String(36), nullable=False, index=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)

decision_tables = sa.Table(
    "decision_tables", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("title_zh", sa.String(200), nullable=False, server_default=""),
    sa.Column("title_en", sa.String(200), nullable=False, server_default=""),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

decision_table_versions = sa.Table(
    "decision_table_versions", metadata,
    sa.Column("name", sa.String(64), sa.ForeignKey("decision_tables.name"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("published_by", sa.String(100), nullable=False),
    sa.Column("published_at", Time, nullable=False),
    sa.Column("reason", sa.String(1000), nullable=False, server_default=""),
)

rule_runs = sa.Table(
    "rule_runs", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("rule_id", sa.String(36), nullable=False),
    sa.Column("rule_version", sa.Integer, nullable=False),
    sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
    sa.Column("trigger_kind", sa.String(16), nullable=False),  # event|schedule|timeout
    sa.Column("event_id", sa.String(36)),
    sa.Column("order_id", sa.String(36)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("depth", sa.Integer, nullable=False, server_default="0"),
    sa.Column("context", sa.JSON, nullable=False),
    sa.Column("trace", sa.JSON, nullable=False),
    sa.Column("step", sa.Integer, nullable=False, server_default="0"),
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Time, nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("replay_of", sa.String(36)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("event_recorded_at", Time),
    sa.Column("finished_at", Time),
)
sa.Index("ix_rule_runs_due", rule_runs.c.status, rule_runs.c.next_attempt_at)
sa.Index("ix_rule_runs_rule", rule_runs.c.rule_id, rule_runs.c.seq)
sa.Index("ix_rule_runs_order", rule_runs.c.order_id)

rule_attempts = sa.Table(
    "rule_attempts", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), nullable=False, index=True),
    sa.Column("step_no", sa.Integer, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # sending|ok|retry|failed|skipped
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("response", sa.JSON),
    sa.Column("latency_ms", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("finished_at", Time),
)

tickets = sa.Table(
    "tickets", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("order_id", sa.String(36), index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("priority", sa.String(8), nullable=False),  # low|normal|high|urgent
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open|in_progress|resolved|closed
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("idempotency_key", sa.String(200), unique=True),
    sa.Column("external_id", sa.String(100)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)
sa.Index("ix_tickets_status", tickets.c.status, tickets.c.seq)

customer_tags = sa.Table(
    "customer_tags", metadata,
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("tag", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

order_attributes = sa.Table(
    "order_attributes", metadata,
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON),
    sa.Column("set_by", sa.String(100), nullable=False),
    sa.Column("set_at", Time, nullable=False),
)

sms_templates = sa.Table(
    "sms_templates", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(16), nullable=False),  # aliyun|tencent
    sa.Column("sign_name", sa.String(64), nullable=False),
    sa.Column("text", sa.String(500), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

channel_daily_stats = sa.Table(
    "channel_daily_stats", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("gmv_cents", Cents, nullable=False),
)

# --- inventory and promotions (issue 4) ---

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
