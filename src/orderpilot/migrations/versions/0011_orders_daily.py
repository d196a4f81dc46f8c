"""The orders list for daily work: phone tails, list indexes, release reasons, saved views.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)
BATCH = 1000


def _tail(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return digits[-4:] if len(digits) >= 4 and phone[-1:].isdigit() else ""


def _fill_phone_tails() -> None:
    conn = op.get_bind()
    orders = sa.table("orders", sa.column("seq", sa.BigInteger),
                      sa.column("customer_phone", sa.String), sa.column("phone_tail", sa.String))
    last = 0
    while True:
        rows = conn.execute(sa.select(orders.c.seq, orders.c.customer_phone)
                            .where(orders.c.seq > last).order_by(orders.c.seq)
                            .limit(BATCH)).all()
        if not rows:
            return
        conn.execute(orders.update().where(orders.c.seq == sa.bindparam("s"))
                     .values(phone_tail=sa.bindparam("t")),
                     [{"s": r.seq, "t": _tail(r.customer_phone)} for r in rows])
        last = rows[-1].seq


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("phone_tail", sa.String(4), nullable=False,
                                   server_default=""))
    _fill_phone_tails()
    op.create_index("ix_orders_placed_at", "orders", ["placed_at", "seq"])
    op.create_index("ix_orders_updated_at", "orders", ["updated_at", "seq"])
    op.create_index("ix_orders_shop", "orders", ["shop_id", "seq"])
    op.create_index("ix_orders_total", "orders", ["currency", "total_cents"])
    op.create_index("ix_orders_phone_tail", "orders", ["phone_tail", "seq"])
    with op.batch_alter_table("holds") as batch:
        batch.add_column(sa.Column("release_reason", sa.String(64), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("release_note", sa.String(1000), nullable=False,
                                   server_default=""))
    op.create_index("ix_holds_reason", "holds", ["reason", "released_at"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("query", sa.String(2000), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_saved_views_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_saved_views"),
        sa.UniqueConstraint("user_id", "name", name="uq_saved_views_user_id"),
    )


def downgrade() -> None:
    op.drop_table("saved_views")
    op.drop_index("ix_holds_reason", "holds")
    with op.batch_alter_table("holds") as batch:
        batch.drop_column("release_note")
        batch.drop_column("release_reason")
    for name in ("ix_orders_phone_tail", "ix_orders_total", "ix_orders_shop",
                 "ix_orders_updated_at", "ix_orders_placed_at"):
        op.drop_index(name, "orders")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("phone_tail")
