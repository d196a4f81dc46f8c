"""Indexes for three reads that went through every row of a table growing with every order
(found by explaining, on SQLite, every distinct statement of a surge and of a simulated
company's two days; docs/performance.md, "A stock read that grew with every order"):

- ``ix_wms_outbound_due`` (status, due_at): the outbound pusher's claim, at every poll of
  every pusher, inside a write transaction (a row for every order ever pushed).
- ``ix_allocations_active`` (source, sku, quantity, reserved_until) of active allocations
  only: the inventory sweep's reservations past their time and its recount of what active
  allocations hold, every few minutes in one write transaction. Both read every allocation
  ever made before (``ix_allocations_level`` starts with the source, so neither could seek);
  now they walk only the allocations of orders not yet shipped. Partial, so that SQLite, which
  gathers no statistics here, never prefers it to ``ix_allocations_order_id`` for an order's
  active allocations: a plain index on (status, reserved_until) was chosen for that look-up
  and read every active allocation for each order. The sweep names the status as a literal,
  which is what lets a planner use a partial index.
- ``ix_rule_runs_event`` (event_id): the exception playbook's look-up of the rule runs an
  event started (a row for every rule run).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0035"
down_revision: str | Sequence[str] | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status = 'active'")


def upgrade() -> None:
    op.create_index("ix_wms_outbound_due", "wms_outbound", ["status", "due_at"])
    op.create_index("ix_allocations_active", "allocations",
                    ["source", "sku", "quantity", "reserved_until"],
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_index("ix_rule_runs_event", "rule_runs", ["event_id"])


def downgrade() -> None:
    op.drop_index("ix_rule_runs_event", "rule_runs")
    op.drop_index("ix_allocations_active", "allocations")
    op.drop_index("ix_wms_outbound_due", "wms_outbound")
