"""System reports the hub refused (domain/refused_reports.py). Migration 0025."""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import SeqPK, Time, metadata

refused_reports = sa.Table(
    "refused_reports", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("received_at", Time, nullable=False),
    sa.Column("last_seen_at", Time, nullable=False),
    sa.Column("times", sa.Integer, nullable=False, server_default="1"),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("system", sa.String(16), nullable=False),
    sa.Column("order_id", sa.String(200), nullable=False),  # as sent: it may name no order
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("source_event_id", sa.String(200)),
    sa.Column("from_status", sa.String(32)),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(1000), nullable=False, server_default=""),
    sa.Column("detail_zh", sa.String(1000), nullable=False, server_default=""),
    sa.Column("payload", sa.JSON, nullable=False),
    # A resent refusal counts once (NULL ids are distinct on both databases).
    sa.UniqueConstraint("source", "source_event_id", name="uq_refused_reports_source_ref"),
)
sa.Index("ix_refused_reports_received", refused_reports.c.received_at, refused_reports.c.seq)
sa.Index("ix_refused_reports_system", refused_reports.c.system, refused_reports.c.received_at)
