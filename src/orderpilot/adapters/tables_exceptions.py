"""The exception workbench (domain/exceptions.py). Migration 0024. The history is append-only:
the migration adds triggers that refuse UPDATE and DELETE on both databases."""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import SeqPK, Time, metadata

exceptions = sa.Table(
    "exceptions", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
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
    sa.UniqueConstraint("kind", "subject_ref", name="uq_exceptions_subject"),
)
sa.Index("ix_exceptions_queue", exceptions.c.status, exceptions.c.reason,
         exceptions.c.opened_at)
sa.Index("ix_exceptions_assignee", exceptions.c.assignee, exceptions.c.status)
sa.Index("ix_exceptions_due", exceptions.c.due_at)
sa.Index("ix_exceptions_order", exceptions.c.order_id)

exception_comments = sa.Table(
    "exception_comments", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("exception_id", sa.String(36), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("author", sa.String(100), nullable=False),
    sa.Column("text", sa.String(2000), nullable=False),
)
sa.Index("ix_exception_comments_exception", exception_comments.c.exception_id,
         exception_comments.c.seq)

exception_history = sa.Table(
    "exception_history", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("exception_id", sa.String(36), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("who", sa.String(100), nullable=False),
    sa.Column("change", sa.String(24), nullable=False),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
)
sa.Index("ix_exception_history_exception", exception_history.c.exception_id,
         exception_history.c.seq)
