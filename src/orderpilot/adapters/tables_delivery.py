"""Delivery's own tables: the outbox of events waiting for their handlers, the inbox of what
each handler has already done, and durable timers (docs/architecture.md, "How an event
flows").

The outbox is a queue table: rows are inserted with their event, leased by a claim and
deleted once delivered.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import SeqPK, Time, metadata

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
    # The event's order (0030): PostgreSQL claims only an order's earliest pending row.
    sa.Column("order_id", sa.String(36)),
)
sa.Index("ix_outbox_due", outbox.c.status, outbox.c.available_at)
# The claim's two partial indexes (0033): the queue's head in due order, and an order's
# pending rows. Queries must say status = 'pending' as a literal to use them.
_PENDING = sa.text("status = 'pending'")
sa.Index("ix_outbox_pending_due", outbox.c.available_at, outbox.c.seq,
         postgresql_where=_PENDING, sqlite_where=_PENDING)
sa.Index("ix_outbox_pending_order", outbox.c.order_id, outbox.c.seq,
         postgresql_where=_PENDING, sqlite_where=_PENDING)

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
