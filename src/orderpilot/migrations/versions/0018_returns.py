"""Returns, their lines and the reason keyword table.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_event_id", sa.String(200), nullable=True),
        sa.Column("reason_tags", sa.JSON, nullable=False),
        sa.Column("reason_text", sa.Text, nullable=False),
        sa.Column("reasons_from", sa.String(16), nullable=False),
        sa.Column("customer_address", sa.JSON, nullable=True),
        sa.Column("restock_source", sa.String(64), nullable=True),
        sa.Column("refund_cents", sa.BigInteger, nullable=True),
        sa.Column("rejected", sa.Boolean, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_returns"),
        sa.UniqueConstraint("source", "source_event_id", name="uq_returns_source"),
    )
    op.create_index("ix_returns_order_id", "returns", ["order_id"])
    op.create_index("ix_returns_status", "returns", ["status"])
    op.create_index("ix_returns_created_at", "returns", ["created_at"])
    op.create_table(
        "return_lines",
        sa.Column("return_id", sa.String(36), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("restockable", sa.Integer, nullable=False),
        sa.Column("damaged", sa.Integer, nullable=False),
        sa.Column("refund_cents", sa.BigInteger, nullable=True),
        sa.ForeignKeyConstraint(["return_id"], ["returns.id"],
                                name="fk_return_lines_return_id_returns"),
        sa.PrimaryKeyConstraint("return_id", "line_no", name="pk_return_lines"),
    )
    op.create_table(
        "return_reason_keywords",
        sa.Column("keyword", sa.String(20), nullable=False),
        sa.Column("reason_tag", sa.String(32), nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("keyword", name="pk_return_reason_keywords"),
    )


def downgrade() -> None:
    op.drop_table("return_reason_keywords")
    op.drop_table("return_lines")
    op.drop_index("ix_returns_created_at", table_name="returns")
    op.drop_index("ix_returns_status", table_name="returns")
    op.drop_index("ix_returns_order_id", table_name="returns")
    op.drop_table("returns")
