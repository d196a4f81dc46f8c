"""Outcome KPIs (docs/outcomes.md): the delivery promise an order was given
(``orders.promised_by``, null = no promise; nothing is backfilled), the first time the order
was delivered (``orders.delivered_at``, kept when a delivered event is appended; backfilled
from the events) and the indexes the KPI queries read: the orders of a period by channel or
shop, a buyer's orders by phone and time (repurchase), the events of a type per order.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)
DELIVERED = ("shipment.delivered",)  # domain/lifecycle.py: the events reaching "delivered"
INDEXES = (
    ("ix_orders_promised_by", "orders", ["promised_by"]),
    ("ix_orders_channel_placed", "orders", ["channel", "placed_at"]),
    ("ix_orders_shop_placed", "orders", ["shop_id", "placed_at"]),
    ("ix_orders_phone_placed", "orders", ["customer_phone", "placed_at"]),
    ("ix_events_type_order", "events", ["type", "order_id", "occurred_at"]),
)


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("promised_by", Time, nullable=True))
        batch.add_column(sa.Column("delivered_at", Time, nullable=True))
    orders = sa.table("orders", sa.column("id", sa.String), sa.column("delivered_at", Time))
    events = sa.table("events", sa.column("order_id", sa.String), sa.column("type", sa.String),
                      sa.column("occurred_at", Time))
    first = (sa.select(sa.func.min(events.c.occurred_at))
             .where(events.c.order_id == orders.c.id, events.c.type.in_(DELIVERED))
             .scalar_subquery())
    op.execute(orders.update().values(delivered_at=first))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("delivered_at")
        batch.drop_column("promised_by")
