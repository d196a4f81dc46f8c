"""Saved views per page: the orders list's (as before) and the exception workbench's
(``saved_views.page``: orders | exceptions); a person's names are unique per page.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("saved_views") as batch:
        batch.add_column(sa.Column("page", sa.String(16), nullable=False,
                                   server_default="orders"))
        batch.drop_constraint("uq_saved_views_user_id", type_="unique")
        batch.create_unique_constraint("uq_saved_views_user_id", ["user_id", "page", "name"])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM saved_views WHERE page <> 'orders'"))
    with op.batch_alter_table("saved_views") as batch:
        batch.drop_constraint("uq_saved_views_user_id", type_="unique")
        batch.create_unique_constraint("uq_saved_views_user_id", ["user_id", "name"])
        batch.drop_column("page")
