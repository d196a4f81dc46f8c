"""Stored audit runs (migration 0017): the walkthrough audit's runs, so the console lists past
audits. One row per run: its parameters, the summary, the whole result as JSON and where its
files were written."""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import Time, metadata

audit_runs = sa.Table(
    "audit_runs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),  # walkthrough
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("sample_size", sa.Integer, nullable=False),
    sa.Column("orders", sa.Integer, nullable=False),
    sa.Column("since", Time),
    sa.Column("until", Time),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("paths", sa.JSON, nullable=False),
    sa.Column("run_by", sa.String(100), nullable=False),
    sa.Column("run_at", Time, nullable=False),
    sa.Index("ix_audit_runs_kind_run_at", "kind", "run_at"),
)
