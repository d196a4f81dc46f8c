"""The schema, in SQLAlchemy Core. Money is stored as integer cents; times as UTC.

The orders, events and accounts tables are here; the automation rules' and the inventory's
tables live in ``tables_rules`` and ``tables_inventory`` and are re-exported, so ``t.<table>``
reaches every table and ``metadata`` holds them all."""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Cents as Cents
from orderpilot.adapters.schema import SeqPK as SeqPK
from orderpilot.adapters.schema import Time as Time
from orderpilot.adapters.schema import UtcDateTime as UtcDateTime
from orderpilot.adapters.schema import metadata as metadata
from orderpilot.adapters.tables_audit_log import (  # the audit trail (issue 14)
    audit_log as audit_log,
)
from orderpilot.adapters.tables_audits import (  # stored audit runs (issue 12)
    audit_runs as audit_runs,
)
from orderpilot.adapters.tables_back_office import (  # the back office (issue 10)
    erp_bookings as erp_bookings,
)
from orderpilot.adapters.tables_back_office import (
    erp_settings as erp_settings,
)
from orderpilot.adapters.tables_channels import (
    channel_accounts as channel_accounts,
)
from orderpilot.adapters.tables_channels import (
    channel_jobs as channel_jobs,
)
from orderpilot.adapters.tables_channels import (
    channel_orders as channel_orders,
)
from orderpilot.adapters.tables_channels import (
    channel_pushes as channel_pushes,
)
from orderpilot.adapters.tables_channels import (
    channel_quarantine as channel_quarantine,
)
from orderpilot.adapters.tables_delivery import inbox as inbox
from orderpilot.adapters.tables_delivery import outbox as outbox
from orderpilot.adapters.tables_delivery import timers as timers
from orderpilot.adapters.tables_exceptions import (  # the exception workbench (issue 14)
    exception_comments as exception_comments,
)
from orderpilot.adapters.tables_exceptions import (
    exception_history as exception_history,
)
from orderpilot.adapters.tables_exceptions import exceptions as exceptions
from orderpilot.adapters.tables_expectations import (  # expectations (issue 12)
    expectation_breaches as expectation_breaches,
)
from orderpilot.adapters.tables_expectations import (
    expectations as expectations,
)
from orderpilot.adapters.tables_inventory import (
    allocations as allocations,
)
from orderpilot.adapters.tables_inventory import (
    inventory_levels as inventory_levels,
)
from orderpilot.adapters.tables_inventory import (
    inventory_pulls as inventory_pulls,
)
from orderpilot.adapters.tables_inventory import (
    inventory_sources as inventory_sources,
)
from orderpilot.adapters.tables_inventory import (
    inventory_strategies as inventory_strategies,
)
from orderpilot.adapters.tables_inventory import (
    inventory_sync_runs as inventory_sync_runs,
)
from orderpilot.adapters.tables_inventory import (
    promotion_claims as promotion_claims,
)
from orderpilot.adapters.tables_inventory import (
    promotions as promotions,
)
from orderpilot.adapters.tables_outside import (
    outside_attempts as outside_attempts,
)
from orderpilot.adapters.tables_reconciliation import (  # reconciliation (issue 12)
    reconciliation_discrepancies as reconciliation_discrepancies,
)
from orderpilot.adapters.tables_reconciliation import (
    reconciliation_runs as reconciliation_runs,
)
from orderpilot.adapters.tables_refused_reports import (  # refused reports (issue 14)
    refused_reports as refused_reports,
)
from orderpilot.adapters.tables_return_routing import (
    return_centres as return_centres,
)
from orderpilot.adapters.tables_return_routing import (
    return_policy_rows as return_policy_rows,
)
from orderpilot.adapters.tables_return_routing import (
    return_policy_versions as return_policy_versions,
)
from orderpilot.adapters.tables_return_routing import (
    return_routes as return_routes,
)
from orderpilot.adapters.tables_returns import (  # returns (issue 13)
    return_lines as return_lines,
)
from orderpilot.adapters.tables_returns import (
    return_reason_keywords as return_reason_keywords,
)
from orderpilot.adapters.tables_returns import (
    returns as returns,
)
from orderpilot.adapters.tables_rules import (
    customer_tags as customer_tags,
)
from orderpilot.adapters.tables_rules import (
    decision_table_versions as decision_table_versions,
)
from orderpilot.adapters.tables_rules import (
    decision_tables as decision_tables,
)
from orderpilot.adapters.tables_rules import (
    order_attributes as order_attributes,
)
from orderpilot.adapters.tables_rules import (
    rule_attempts as rule_attempts,
)
from orderpilot.adapters.tables_rules import (
    rule_audit as rule_audit,
)
from orderpilot.adapters.tables_rules import (
    rule_runs as rule_runs,
)
from orderpilot.adapters.tables_rules import (
    rule_versions as rule_versions,
)
from orderpilot.adapters.tables_rules import (
    rules as rules,
)
from orderpilot.adapters.tables_rules import (
    sms_templates as sms_templates,
)
from orderpilot.adapters.tables_rules import (
    tickets as tickets,
)
from orderpilot.adapters.tables_saved_views import (
    saved_views as saved_views,
)
from orderpilot.adapters.tables_settings_version import (  # issue 15
    settings_version as settings_version,
)
from orderpilot.adapters.tables_shipments import (
    shipments as shipments,
)
from orderpilot.adapters.tables_webhooks import (  # outbound webhooks (issue 15)
    nats_relay as nats_relay,
)
from orderpilot.adapters.tables_webhooks import (
    webhook_attempts as webhook_attempts,
)
from orderpilot.adapters.tables_webhooks import (
    webhook_deliveries as webhook_deliveries,
)
from orderpilot.adapters.tables_webhooks import (
    webhook_subscriptions as webhook_subscriptions,
)
from orderpilot.adapters.tables_wms_outbound import (
    wms_checks as wms_checks,
)
from orderpilot.adapters.tables_wms_outbound import (  # noqa: I001
    wms_outbound as wms_outbound,
)

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
    # The phone's last 4 digits, indexed: the search by 手机尾号 (0011).
    sa.Column("phone_tail", sa.String(4), nullable=False, server_default=""),
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
    sa.Column("adjustments", sa.JSON),  # {kind: signed cents}: vouchers, coins... (0007)
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("status_changed_at", Time, nullable=False),
    sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("idempotency_key", sa.String(200), unique=True),
    sa.Column("request_hash", sa.String(64)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    # The delivery promise the order was given (0026): the on-time rate (docs/outcomes.md).
    sa.Column("promised_by", Time),
    # The first time the order was delivered, kept as delivered events are appended (0026).
    sa.Column("delivered_at", Time),
    sa.UniqueConstraint("channel", "shop_id", "external_id", name="uq_orders_channel_ref"),
)
sa.Index("ix_orders_status", orders.c.status, orders.c.seq)
sa.Index("ix_orders_channel", orders.c.channel, orders.c.seq)
sa.Index("ix_orders_held", orders.c.held, orders.c.seq)
# The orders list's filters and sorts (0011).
sa.Index("ix_orders_placed_at", orders.c.placed_at, orders.c.seq)
sa.Index("ix_orders_updated_at", orders.c.updated_at, orders.c.seq)
sa.Index("ix_orders_shop", orders.c.shop_id, orders.c.seq)
sa.Index("ix_orders_total", orders.c.currency, orders.c.total_cents)
sa.Index("ix_orders_phone_tail", orders.c.phone_tail, orders.c.seq)
# The outcome KPIs (0026): a period's orders per channel or shop, a buyer's orders over time.
sa.Index("ix_orders_promised_by", orders.c.promised_by)
sa.Index("ix_orders_channel_placed", orders.c.channel, orders.c.placed_at)
sa.Index("ix_orders_shop_placed", orders.c.shop_id, orders.c.placed_at)
sa.Index("ix_orders_phone_placed", orders.c.customer_phone, orders.c.placed_at)

order_lines = sa.Table(
    "order_lines", metadata,
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_cents", Cents, nullable=False),
    sa.Column("discount_cents", Cents, nullable=False, server_default="0"),
    sa.Column("cancelled_quantity", sa.Integer, nullable=False, server_default="0"),
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
    sa.Column("release_reason", sa.String(64), nullable=False, server_default=""),  # 0011
    sa.Column("release_note", sa.String(1000), nullable=False, server_default=""),
)
sa.Index("ix_holds_reason", holds.c.reason, holds.c.released_at)

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
# The first event of a type per order (delivered, cancelled) for the outcome KPIs (0026).
sa.Index("ix_events_type_order", events.c.type, events.c.order_id, events.c.occurred_at)

# A report the hub had already recorded (same source and source_event_id): nothing changes, but
# the lifecycle board counts each system's duplicates (migration 0013).
duplicate_reports = sa.Table(
    "duplicate_reports", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_event_id", sa.String(200), nullable=False),
    sa.Column("order_id", sa.String(36), nullable=False),
    sa.Column("received_at", Time, nullable=False, index=True),
)

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
    # Set by an administrator's reset: the console asks for a new password before anything else.
    sa.Column("password_temporary", sa.Boolean, nullable=False, server_default=sa.false()),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("revoked_at", Time),
    # Space-separated, e.g. "source:wms source:sf": the systems the token may report as.
    sa.Column("scopes", sa.Text, nullable=False, server_default=""),
)

# A signed-in console session; the cookie holds a random key, only its SHA-256 is kept here.
console_sessions = sa.Table(
    "console_sessions", metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
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

channel_daily_stats = sa.Table(
    "channel_daily_stats", metadata,
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    # each dispatcher thread counts into its own shard (migration 0031); readers add them up
    sa.Column("shard", sa.SmallInteger, primary_key=True, server_default="0"),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("gmv_cents", Cents, nullable=False),
)
