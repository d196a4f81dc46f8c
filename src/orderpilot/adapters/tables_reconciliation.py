"""Reconciliation runs and their discrepancies (migration 0016), so the console can chart the
rate over time and people can fix or accept each discrepancy.

A run keeps its period (Shanghai business days), the sources used per side ("events" or a
file name), the counts and the rate; ``findings`` holds the file problems (file, row, field).
A discrepancy is numbered within its run (``n``, from 1) and is ``open``, ``fixed`` or
``accepted``, with who changed it, when and how (``action``).
"""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import SeqPK, Time, metadata

reconciliation_runs = sa.Table(
    "reconciliation_runs", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("since", sa.Date, nullable=False),
    sa.Column("until", sa.Date, nullable=False),
    sa.Column("sources", sa.JSON, nullable=False),
    sa.Column("files", sa.JSON, nullable=False),
    sa.Column("findings", sa.JSON, nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("discrepant_orders", sa.Integer, nullable=False),
    sa.Column("per_mille", sa.String(24), nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", Time, nullable=False, index=True),
)

reconciliation_discrepancies = sa.Table(
    "reconciliation_discrepancies", metadata,
    sa.Column("run_id", sa.String(36), primary_key=True),
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("order_id", sa.String(36)),
    sa.Column("order_ref", sa.String(200), nullable=False),
    sa.Column("sku", sa.String(400), nullable=False, server_default=""),
    sa.Column("expected", sa.String(200), nullable=False, server_default=""),
    sa.Column("actual", sa.String(400), nullable=False, server_default=""),
    sa.Column("source", sa.String(200), nullable=False, server_default=""),
    sa.Column("status", sa.String(16), nullable=False, server_default="open"),
    sa.Column("action", sa.String(400)),
    sa.Column("changed_by", sa.String(200)),
    sa.Column("changed_at", Time),
    sa.Index("ix_reconciliation_discrepancies_order_id", "order_id"),
)
