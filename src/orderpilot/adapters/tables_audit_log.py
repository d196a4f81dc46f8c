"""The audit trail of human actions (domain/audit.py). Migration 0023. Append-only: the
migration adds triggers that refuse UPDATE and DELETE on both databases."""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import SeqPK, Time, metadata

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("at", Time, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("actor_id", sa.String(36), nullable=False, server_default=""),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("actor_kind", sa.String(8), nullable=False),
    sa.Column("via", sa.String(8), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject_type", sa.String(32), nullable=False),
    sa.Column("subject_id", sa.String(200), nullable=False, server_default=""),
    sa.Column("order_id", sa.String(36)),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
    sa.Column("detail", sa.JSON),
)
sa.Index("ix_audit_log_at", audit_log.c.at, audit_log.c.seq)
sa.Index("ix_audit_log_order", audit_log.c.order_id, audit_log.c.at)
sa.Index("ix_audit_log_actor", audit_log.c.actor, audit_log.c.at)
sa.Index("ix_audit_log_action", audit_log.c.action, audit_log.c.at)
