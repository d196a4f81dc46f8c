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
sa.Index("ix_wms_outbound_due", wms_outbound.c.status, wms_outbound.c.due_at)  # migration 0035

# Status checks of orders the carrier shipped while the WMS told nothing of picking or packing
# (a lost callback: services/wms_checks.py), one row per order (migration 0027). Written due
# when the carrier's shipment.shipped is handled; the checker claims it with a lease, asks the
# WMS for the outbound order's events outside any transaction and records what is missing.
wms_checks = sa.Table(
    "wms_checks", metadata,
    sa.Column("order_id", sa.String(36), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # due | done
    sa.Column("due_at", Time, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("claimed_until", Time),
    sa.Column("checked_at", Time),
    sa.Column("outcome", sa.String(32)),  # recovered | complete | unknown_at_wms | gave_up
    sa.Column("recovered", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.String(1000)),
)
sa.Index("ix_wms_checks_due", wms_checks.c.status, wms_checks.c.due_at)
