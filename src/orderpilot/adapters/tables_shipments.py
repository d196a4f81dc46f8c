"""Waybills (运单) and the order each carries (migration 0009).

Filled when a ``shipment.shipped`` event names ``data.tracking_number`` (and ``data.carrier``);
read when a carrier reports a route node on that waybill. ``polled_at`` is when the route
poller last claimed it; ``delivered_at`` ends the polling.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Time, metadata

shipments = sa.Table(
    "shipments", metadata,
    sa.Column("carrier", sa.String(32), primary_key=True),
    sa.Column("tracking_number", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(36), nullable=False, index=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_route_at", Time),
    sa.Column("outlet_code", sa.String(100)),
    sa.Column("delivered_at", Time),
    sa.Column("polled_at", Time),
)
