"""Return routing: return centres, the versioned return policy, each return's route.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

Time = sa.DateTime(timezone=True)

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "return_centres",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        *(sa.Column(f, sa.String(200), nullable=False)
          for f in ("country", "province", "city", "district", "line1", "postal_code")),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_return_centres"))
    op.create_table(
        "return_policy_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_return_policy_versions"))
    op.create_table(
        "return_policy_rows",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("outlet_code", sa.String(64), nullable=False),
        sa.Column("return_centre", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("version", "outlet_code", name="pk_return_policy_rows"))
    op.create_table(
        "return_routes",
        sa.Column("return_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("carrier", sa.String(32), nullable=True),
        sa.Column("tracking_number", sa.String(64), nullable=True),
        sa.Column("outlet_code", sa.String(100), nullable=True),
        sa.Column("return_centre", sa.String(64), nullable=True),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("customer_address", sa.JSON(), nullable=True),
        sa.Column("pickup_start", Time, nullable=True),
        sa.Column("pickup_end", Time, nullable=True),
        sa.Column("pickup_waybill", sa.String(64), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("decision_required", sa.Boolean(), nullable=False),
        sa.Column("exception_reason", sa.String(64), nullable=True),
        sa.Column("exception_zh", sa.String(500), nullable=True),
        sa.Column("exception_en", sa.String(500), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("routed_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("return_id", name="pk_return_routes"))
    op.create_index("ix_return_routes_order_id", "return_routes", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_return_routes_order_id", "return_routes")
    for name in ("return_routes", "return_policy_rows", "return_policy_versions",
                 "return_centres"):
        op.drop_table(name)
