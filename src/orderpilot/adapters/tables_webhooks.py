"""Outbound webhooks (docs/webhooks.md, migration 0029): the subscriptions and their
deliveries.

A delivery row is written by the ``webhooks.enqueue`` handler in the same transaction as the
event's other effects, once per subscription and event (the unique key); the webhook sender
claims it with a lease, POSTs it outside any transaction and records the attempt. ``seq``
orders one subscription's deliveries of one order (``order_key``): the next waits while an
earlier one is still pending.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import SeqPK, Time, metadata

webhook_subscriptions = sa.Table(
    "webhook_subscriptions", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("url", sa.String(1000), nullable=False),
    sa.Column("events", sa.JSON, nullable=False),
    # HMAC key: it must be stored as given to sign; like channel credentials, never returned
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("description", sa.String(200), nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False),  # active | disabled
    sa.Column("created_at", Time, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False, server_default=""),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("subscription_id", sa.String(36), nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("order_key", sa.String(36), nullable=False),  # the order id; "" = none
    sa.Column("status", sa.String(16), nullable=False),  # pending | delivered | dead
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("replays", sa.Integer, nullable=False, server_default="0"),
    sa.Column("due_at", Time, nullable=False),
    sa.Column("claimed_by", sa.String(200)),
    sa.Column("claimed_until", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the raw JSON body, signed as it is
    sa.Column("request_headers", sa.JSON),  # of the last attempt (signature included)
    sa.Column("response_status", sa.Integer),
    sa.Column("response_body", sa.String(2000)),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("first_attempt_at", Time),
    sa.Column("last_attempt_at", Time),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("delivered_at", Time),
    sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_event"),
)
# Every attempt of a delivery (migration 0032), written with the attempt's record on the
# delivery row: the history under the last attempt the row keeps. ``replay`` is the delivery's
# replay count when it was made (0: before any replay); ``outcome`` delivered | retry | dead.
webhook_attempts = sa.Table(
    "webhook_attempts", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.String(36), nullable=False),
    sa.Column("replay", sa.Integer, nullable=False),
    sa.Column("attempted_at", Time, nullable=False),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("response_status", sa.Integer),
    sa.Column("response_body", sa.String(2000)),
    sa.Column("error", sa.String(1000)),
    sa.Column("outcome", sa.String(16), nullable=False),
)
sa.Index("ix_webhook_attempts_delivery", webhook_attempts.c.delivery_id, webhook_attempts.c.seq)
# The optional NATS JetStream relay (docs/webhooks.md): events waiting to be published, written
# by the ``relay.nats`` handler in the event's transaction and deleted once JetStream acked.
nats_relay = sa.Table(
    "nats_relay", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(36), nullable=False, unique=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("claimed_until", Time),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(1000)),
)
sa.Index("ix_webhook_deliveries_due", webhook_deliveries.c.status,
         webhook_deliveries.c.due_at)
sa.Index("ix_webhook_deliveries_order", webhook_deliveries.c.subscription_id,
         webhook_deliveries.c.order_key, webhook_deliveries.c.status,
         webhook_deliveries.c.seq)
