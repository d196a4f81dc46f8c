"""Return routing: a person's decision on a return that could not be routed (who, when, how:
a centre they picked or routing again by the policy, and their note).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

Time = sa.DateTime(timezone=True)

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("decision", "decided_by", "decided_at", "decision_note")


def upgrade() -> None:
    with op.batch_alter_table("return_routes") as batch:
        batch.add_column(sa.Column("decision", sa.String(16), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("decided_at", Time, nullable=True))
        batch.add_column(sa.Column("decision_note", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("return_routes") as batch:
        for name in reversed(COLUMNS):
            batch.drop_column(name)
