"""The exception workbench (domain/exceptions.py): exceptions unique per (kind, subject ref),
their comments and their append-only history (triggers refuse UPDATE and DELETE).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Time = sa.DateTime(timezone=True)
SeqPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REFUSE = "exception_history is append-only"


def upgrade() -> None:
    op.create_table(
        "exceptions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(80), nullable=False),
        sa.Column("subject_ref", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(36)),
        sa.Column("owner_role", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("decision_reason", sa.String(32), nullable=False, server_default=""),
        sa.Column("assignee", sa.String(100), nullable=False, server_default=""),
        sa.Column("opened_at", Time, nullable=False),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("resolved_at", Time),
        sa.Column("resolution", sa.String(64), nullable=False, server_default=""),
        sa.Column("resolved_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("detail", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_exceptions"),
        sa.UniqueConstraint("kind", "subject_ref", name="uq_exceptions_subject"),
    )
    op.create_index("ix_exceptions_queue", "exceptions", ["status", "reason", "opened_at"])
    op.create_index("ix_exceptions_assignee", "exceptions", ["assignee", "status"])
    op.create_index("ix_exceptions_due", "exceptions", ["due_at"])
    op.create_index("ix_exceptions_order", "exceptions", ["order_id"])
    op.create_table(
        "exception_comments",
        sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
        sa.Column("exception_id", sa.String(36), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
    )
    op.create_index("ix_exception_comments_exception", "exception_comments",
                    ["exception_id", "seq"])
    op.create_table(
        "exception_history",
        sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
        sa.Column("exception_id", sa.String(36), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("who", sa.String(100), nullable=False),
        sa.Column("change", sa.String(24), nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
    )
    op.create_index("ix_exception_history_exception", "exception_history",
                    ["exception_id", "seq"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION exception_history_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{REFUSE}'; END $$""")
        op.execute("CREATE TRIGGER exception_history_append_only BEFORE UPDATE OR DELETE ON "
                   "exception_history FOR EACH ROW EXECUTE FUNCTION exception_history_refuse()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER exception_history_no_{verb.lower()} BEFORE {verb} ON "
                       f"exception_history BEGIN SELECT RAISE(ABORT, '{REFUSE}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS exception_history_append_only ON exception_history")
        op.execute("DROP FUNCTION IF EXISTS exception_history_refuse()")
    op.drop_table("exception_history")
    op.drop_table("exception_comments")
    op.drop_table("exceptions")
