"""A person's saved views of a list: the page (the orders list, or the exception workbench),
a name and the filter's query string (domain/order_filters.py, domain/exception_filters.py
read it back). Migrations 0011, 0028."""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Time, metadata

saved_views = sa.Table(
    "saved_views", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("page", sa.String(16), nullable=False, server_default="orders"),
    sa.Column("name", sa.String(60), nullable=False),
    sa.Column("query", sa.String(2000), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.UniqueConstraint("user_id", "page", "name", name="uq_saved_views_user_id"),
)
