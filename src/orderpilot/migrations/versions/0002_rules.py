"""Automation rules: rules and their versions, decision tables, runs and action attempts,
tickets, customer tags, order attributes, SMS templates; events may concern no order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SeqPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.alter_column("order_id", existing_type=sa.String(36), nullable=True)

    op.create_table(
        "rules",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("draft", sa.JSON()),
        sa.Column("published_version", sa.Integer()),
        sa.Column("template_id", sa.String(100)),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_rules"),
        sa.UniqueConstraint("key", name="uq_rules_key"),
    )
    op.create_table(
        "rule_versions",
        sa.Column("rule_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("published_at", Time, nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False, server_default=""),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["rules.id"],
                                name="fk_rule_versions_rule_id_rules"),
        sa.PrimaryKeyConstraint("rule_id", "version", name="pk_rule_versions"),
    )
    op.create_table(
        "rule_audit",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_rule_audit"),
    )
    op.create_index("ix_rule_audit_rule_id", "rule_audit", ["rule_id"])
    op.create_table(
        "decision_tables",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("title_zh", sa.String(200), nullable=False, server_default=""),
        sa.Column("title_en", sa.String(200), nullable=False, server_default=""),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_decision_tables"),
    )
    op.create_table(
        "decision_table_versions",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("published_at", Time, nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False, server_default=""),
        sa.ForeignKeyConstraint(["name"], ["decision_tables.name"],
                                name="fk_decision_table_versions_name_decision_tables"),
        sa.PrimaryKeyConstraint("name", "version", name="pk_decision_table_versions"),
    )
    op.create_table(
        "rule_runs",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("rule_id", sa.String(36), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(200), nullable=False),
        sa.Column("trigger_kind", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(36)),
        sa.Column("order_id", sa.String(36)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("trace", sa.JSON(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", Time, nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_until", Time),
        sa.Column("last_error", sa.Text()),
        sa.Column("replay_of", sa.String(36)),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("event_recorded_at", Time),
        sa.Column("finished_at", Time),
        sa.PrimaryKeyConstraint("seq", name="pk_rule_runs"),
        sa.UniqueConstraint("id", name="uq_rule_runs_id"),
        sa.UniqueConstraint("dedupe_key", name="uq_rule_runs_dedupe_key"),
    )
    op.create_index("ix_rule_runs_due", "rule_runs", ["status", "next_attempt_at"])
    op.create_index("ix_rule_runs_rule", "rule_runs", ["rule_id", "seq"])
    op.create_index("ix_rule_runs_order", "rule_runs", ["order_id"])
    op.create_table(
        "rule_attempts",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("step_no", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("response", sa.JSON()),
        sa.Column("latency_ms", sa.Float()),
        sa.Column("error", sa.Text()),
        sa.Column("started_at", Time, nullable=False),
        sa.Column("finished_at", Time),
        sa.PrimaryKeyConstraint("seq", name="pk_rule_attempts"),
    )
    op.create_index("ix_rule_attempts_run_id", "rule_attempts", ["run_id"])
    op.create_table(
        "tickets",
        sa.Column("seq", SeqPK, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(36)),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False, server_default=""),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("external_id", sa.String(100)),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_tickets"),
        sa.UniqueConstraint("id", name="uq_tickets_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_tickets_idempotency_key"),
    )
    op.create_index("ix_tickets_order_id", "tickets", ["order_id"])
    op.create_index("ix_tickets_status", "tickets", ["status", "seq"])
    op.create_table(
        "customer_tags",
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("phone", "tag", name="pk_customer_tags"),
    )
    op.create_table(
        "order_attributes",
        sa.Column("order_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON()),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("set_at", Time, nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"],
                                name="fk_order_attributes_order_id_orders"),
        sa.PrimaryKeyConstraint("order_id", "name", name="pk_order_attributes"),
    )
    op.create_table(
        "sms_templates",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("sign_name", sa.String(64), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_sms_templates"),
    )


def downgrade() -> None:
    for table in ("sms_templates", "order_attributes", "customer_tags", "tickets",
                  "rule_attempts", "rule_runs", "decision_table_versions", "decision_tables",
                  "rule_audit", "rule_versions", "rules"):
        op.drop_table(table)
    op.execute("DELETE FROM events WHERE order_id IS NULL")
    with op.batch_alter_table("events") as batch:
        batch.alter_column("order_id", existing_type=sa.String(36), nullable=False)
