"""Returns (退货), their lines and the reason keyword table (migration 0018; step times and
reason tag rows 0022).

A return is taken once per (source, source_event_id): a channel or client sending the same
report again gets the same return. Money in cents; ``reason_text`` is the buyer's own words,
always kept beside the tags.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Cents, Time, metadata

returns = sa.Table(
    "returns", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("order_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("source_event_id", sa.String(200)),
    sa.Column("reason_tags", sa.JSON, nullable=False),
    sa.Column("reason_text", sa.Text, nullable=False),
    sa.Column("reasons_from", sa.String(16), nullable=False),
    sa.Column("customer_address", sa.JSON),
    sa.Column("restock_source", sa.String(64)),
    sa.Column("refund_cents", Cents),
    sa.Column("rejected", sa.Boolean, nullable=False),
    sa.Column("created_at", Time, nullable=False, index=True),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # when the return first reached each step the metrics time (migration 0022): the time of
    # the first order event of that step naming it, written in the same transaction
    sa.Column("pickup_booked_at", Time),
    sa.Column("received_at", Time),
    sa.Column("refunded_at", Time),
    sa.UniqueConstraint("source", "source_event_id", name="uq_returns_source"),
)

# The metrics read the period's returns, their routes and lines from these alone (migration
# 0022): on SQLite a join then never fetches the wide rows.
sa.Index("ix_returns_metrics", returns.c.created_at, returns.c.id, returns.c.order_id,
         returns.c.rejected, returns.c.pickup_booked_at, returns.c.received_at,
         returns.c.refunded_at)

return_lines = sa.Table(
    "return_lines", metadata,
    sa.Column("return_id", sa.String(36), sa.ForeignKey("returns.id"), primary_key=True),
    sa.Column("line_no", sa.Integer, primary_key=True),
    sa.Column("sku", sa.String(64), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("restockable", sa.Integer, nullable=False),
    sa.Column("damaged", sa.Integer, nullable=False),
    sa.Column("refund_cents", Cents),
)
sa.Index("ix_return_lines_metrics", return_lines.c.return_id, return_lines.c.sku,
         return_lines.c.quantity)

# each return's reason tags, one a row ("other" when it has none; migration 0022): the metrics
# count them with one aggregate
return_reason_tags = sa.Table(
    "return_reason_tags", metadata,
    sa.Column("return_id", sa.String(36), sa.ForeignKey("returns.id"), primary_key=True),
    sa.Column("tag", sa.String(32), primary_key=True),
)

return_reason_keywords = sa.Table(
    "return_reason_keywords", metadata,
    sa.Column("keyword", sa.String(20), primary_key=True),
    sa.Column("reason_tag", sa.String(32), nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("updated_by", sa.String(100), nullable=False),
)
