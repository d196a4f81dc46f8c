"""The automation rules' tables: rules and versions, decision tables, runs and attempts,
tickets, customer tags, order attributes, SMS templates (migration 0002)."""

from __future__ import annotations

import sqlalchemy as sa

from orderpilot.adapters.schema import SeqPK, Time, metadata

rules = sa.Table(
    "rules", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("key", sa.String(100), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # draft|enabled|paused|archived
    sa.Column("draft", sa.JSON),  # the working copy; None when it equals the published one
    sa.Column("published_version", sa.Integer),
    sa.Column("template_id", sa.String(100)),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("row_version", sa.Integer, nullable=False, server_default="0"),
    # failed or over-limit evaluations since last published/enabled (migration 0004)
    sa.Column("strikes", sa.Integer, nullable=False, server_default="0"),
)

rule_versions = sa.Table(
    "rule_versions", metadata,
    sa.Column("rule_id", sa.String(36), sa.ForeignKey("rules.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("published_by", sa.String(100), nullable=False),
    sa.Column("published_at", Time, nullable=False),
    sa.Column("reason", sa.String(1000), nullable=False, server_default=""),
    sa.Column("diff", sa.JSON, nullable=False),
)

rule_audit = sa.Table(
    "rule_audit", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("rule_id", sa.String(36), nullable=False, index=True),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)

decision_tables = sa.Table(
    "decision_tables", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("title_zh", sa.String(200), nullable=False, server_default=""),
    sa.Column("title_en", sa.String(200), nullable=False, server_default=""),
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)

decision_table_versions = sa.Table(
    "decision_table_versions", metadata,
    sa.Column("name", sa.String(64), sa.ForeignKey("decision_tables.name"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("published_by", sa.String(100), nullable=False),
    sa.Column("published_at", Time, nullable=False),
    sa.Column("reason", sa.String(1000), nullable=False, server_default=""),
)

rule_runs = sa.Table(
    "rule_runs", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("rule_id", sa.String(36), nullable=False),
    sa.Column("rule_version", sa.Integer, nullable=False),
    sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
    sa.Column("trigger_kind", sa.String(16), nullable=False),  # event|schedule|timeout
    sa.Column("event_id", sa.String(36)),
    sa.Column("order_id", sa.String(36)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("depth", sa.Integer, nullable=False, server_default="0"),
    sa.Column("context", sa.JSON, nullable=False),
    sa.Column("trace", sa.JSON, nullable=False),
    sa.Column("step", sa.Integer, nullable=False, server_default="0"),
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Time, nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("replay_of", sa.String(36)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("event_recorded_at", Time),
    sa.Column("finished_at", Time),
)
sa.Index("ix_rule_runs_due", rule_runs.c.status, rule_runs.c.next_attempt_at)
sa.Index("ix_rule_runs_rule", rule_runs.c.rule_id, rule_runs.c.seq)
sa.Index("ix_rule_runs_order", rule_runs.c.order_id)
sa.Index("ix_rule_runs_event", rule_runs.c.event_id)  # the exception playbook's (0035)

rule_attempts = sa.Table(
    "rule_attempts", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(36), nullable=False, index=True),
    sa.Column("step_no", sa.Integer, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # sending|ok|retry|failed|skipped
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("response", sa.JSON),
    sa.Column("latency_ms", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("finished_at", Time),
)

tickets = sa.Table(
    "tickets", metadata,
    sa.Column("seq", SeqPK, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(36), nullable=False, unique=True),
    sa.Column("order_id", sa.String(36), index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("priority", sa.String(8), nullable=False),  # low|normal|high|urgent
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open|in_progress|resolved|closed
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("idempotency_key", sa.String(200), unique=True),
    sa.Column("external_id", sa.String(100)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
)
sa.Index("ix_tickets_status", tickets.c.status, tickets.c.seq)

customer_tags = sa.Table(
    "customer_tags", metadata,
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("tag", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

order_attributes = sa.Table(
    "order_attributes", metadata,
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.JSON),
    sa.Column("set_by", sa.String(100), nullable=False),
    sa.Column("set_at", Time, nullable=False),
)

sms_templates = sa.Table(
    "sms_templates", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(16), nullable=False),  # aliyun|tencent
    sa.Column("sign_name", sa.String(64), nullable=False),
    sa.Column("text", sa.String(500), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)
