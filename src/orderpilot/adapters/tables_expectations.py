"""Expectations ops declare and the breaches the hub found (migration 0015;
domain/expectations.py, docs/expectations.md).

``expectations`` keeps one row per code with its version and who changed it last; publishing
stores the retroactive count found then. ``expectation_breaches`` has one row per (code, A
event): ``open`` while B has not come, ``resolved_late`` once it came after the due time (with
``late_by_seconds``), ``closed`` when the expectation was disabled while the breach was open.
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Cents, Time, metadata

expectations = sa.Table(
    "expectations", metadata,
    sa.Column("code", sa.String(48), primary_key=True),
    sa.Column("name_zh", sa.String(100), nullable=False),
    sa.Column("name_en", sa.String(100), nullable=False),
    sa.Column("after_type", sa.String(64), nullable=False),
    sa.Column("expect_type", sa.String(64), nullable=False),
    sa.Column("within_minutes", sa.Integer, nullable=False),
    sa.Column("source", sa.String(64)),
    sa.Column("condition", sa.JSON, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("updated_by", sa.String(100), nullable=False),
    sa.Column("evaluated_at", Time),
    sa.Column("retroactive_count", sa.Integer),
)

expectation_breaches = sa.Table(
    "expectation_breaches", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("code", sa.String(48), nullable=False),
    sa.Column("order_id", sa.String(36), nullable=False, index=True),
    sa.Column("after_event_id", sa.String(36), nullable=False),
    sa.Column("after_at", Time, nullable=False),
    sa.Column("due_at", Time, nullable=False),
    sa.Column("resolved_at", Time),
    sa.Column("late_by_seconds", sa.BigInteger),
    sa.Column("status", sa.String(16), nullable=False),  # open | resolved_late | closed
    sa.Column("amount_at_risk_cents", Cents, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("recorded_at", Time, nullable=False),
    sa.UniqueConstraint("code", "after_event_id", name="uq_expectation_breaches_after"),
)
sa.Index("ix_expectation_breaches_code_status", expectation_breaches.c.code,
         expectation_breaches.c.status)
