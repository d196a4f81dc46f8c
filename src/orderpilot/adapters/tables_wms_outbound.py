"""Outbound orders (出库单) due to be pushed to the WMS, one row per order (migration 0010).

A row is written, in the same transaction as the event that makes it due (the order reached
``allocated``, or ``paid`` when the hub allocates no stock), with status ``due``; the outbound
pusher claims it with a lease, POSTs it outside any transaction and marks it ``sent`` (or
``failed`` after the last attempt). The order id is the WMS's idempotency key.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Time, metadata

wms_outbound = sa.Table(
    "wms_outbound", metadata,
    sa.Column("order_id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # due | sent | failed | withdrawn
    sa.Column("due_at", Time, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_until", Time),
    sa.Column("sent_at", Time),
    sa.Column("last_error", sa.String(1000)),
    sa.Column("answer", sa.JSON),
)
