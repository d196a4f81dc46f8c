"""Returns metrics' facts on the records (docs/returns.md "Metrics"): when each return first
reached pickup booked, received and refunded (``returns.*_at``), whether the buyer's typed
address already was the routed centre's (``return_routes.typed_address_matched``, null when
unknown) and each return's reason tags one per row (``return_reason_tags``), so the metrics
are a few aggregates instead of reading JSON out of hundreds of thousands of rows; and indexes
holding all the metrics read of the period's returns, routes and lines.

Backfilled from what the metrics read before: the first order event of each step naming the
return, the typed address (the route's copy, else the return's) against the centre's address,
and ``returns.reason_tags`` (none: "other").

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 00:00:00
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

Time = sa.DateTime(timezone=True)

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEPS = {"pickup_booked_at": "return.pickup_booked", "received_at": "return.received",
         "refunded_at": "refund.succeeded"}
PARTS = ("province", "city", "district", "line1")
BATCH = 2000
# what the metrics read of the period's returns, their routes and lines, from the index alone
INDEXES = (
    ("ix_returns_metrics", "returns", ["created_at", "id", "order_id", "rejected",
                                       "pickup_booked_at", "received_at", "refunded_at"]),
    ("ix_return_routes_metrics", "return_routes", [
        "return_id", "decision_required", "exception_reason", "policy_version", "outlet_code",
        "return_centre", "typed_address_matched"]),
    ("ix_return_lines_metrics", "return_lines", ["return_id", "sku", "quantity"]),
)
# a copy of domain/return_metrics.py normalised_address as it was for this revision
_NOISE = re.compile(r"[\s,，.。·、:：;；#＃()（）\-—_/]+")

returns = sa.table("returns", sa.column("id", sa.String), sa.column("order_id", sa.String),
                   sa.column("reason_tags", sa.JSON), sa.column("customer_address", sa.JSON),
                   *(sa.column(name, Time) for name in STEPS))
events = sa.table("events", sa.column("order_id", sa.String), sa.column("type", sa.String),
                  sa.column("occurred_at", Time), sa.column("payload", sa.JSON))
routes = sa.table("return_routes", sa.column("return_id", sa.String),
                  sa.column("return_centre", sa.String), sa.column("customer_address", sa.JSON),
                  sa.column("typed_address_matched", sa.Boolean))
centres = sa.table("return_centres", sa.column("code", sa.String),
                   *(sa.column(p, sa.String) for p in PARTS))
tags = sa.table("return_reason_tags", sa.column("return_id", sa.String),
                sa.column("tag", sa.String))


def _normalised(address: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    if not address:
        return None
    parts = tuple(_NOISE.sub("", unicodedata.normalize("NFKC", str(address.get(p) or ""))
                             ).lower() for p in PARTS)
    return parts if parts[3] else None


def _typed(route: Any, ret: Any) -> dict[str, Any] | None:
    """Each part from the route's copy, else the return's (as the metrics read it)."""
    merged = {p: (route or {}).get(p) if (route or {}).get(p) is not None
              else (ret or {}).get(p) for p in PARTS}
    return merged if any(merged.values()) else None


def upgrade() -> None:
    with op.batch_alter_table("returns") as batch:
        for name in STEPS:
            batch.add_column(sa.Column(name, Time, nullable=True))
    with op.batch_alter_table("return_routes") as batch:
        batch.add_column(sa.Column("typed_address_matched", sa.Boolean, nullable=True))
    op.create_table(
        "return_reason_tags",
        sa.Column("return_id", sa.String(36), nullable=False),
        sa.Column("tag", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["return_id"], ["returns.id"],
                                name="fk_return_reason_tags_return_id_returns"),
        sa.PrimaryKeyConstraint("return_id", "tag", name="pk_return_reason_tags"))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    conn = op.get_bind()
    for name, kind in STEPS.items():
        first = (sa.select(sa.func.min(events.c.occurred_at))
                 .where(events.c.order_id == returns.c.order_id, events.c.type == kind,
                        events.c.payload["data"]["return_id"].as_string() == returns.c.id)
                 .scalar_subquery())
        conn.execute(returns.update().values({name: first}))
    rows = conn.execute(sa.select(returns.c.id, returns.c.reason_tags)).all()
    for start in range(0, len(rows), BATCH):
        batch_rows = [{"return_id": r.id, "tag": str(tag)[:32]} for r in rows[start:start + BATCH]
                      for tag in dict.fromkeys(r.reason_tags or ["other"])]
        if batch_rows:
            conn.execute(tags.insert(), batch_rows)
    found = conn.execute(
        sa.select(routes.c.return_id, routes.c.customer_address,
                  returns.c.customer_address.label("return_address"),
                  *(centres.c[p] for p in PARTS))
        .join(returns, returns.c.id == routes.c.return_id)
        .join(centres, centres.c.code == routes.c.return_centre)).all()
    updates: dict[bool, list[str]] = {True: [], False: []}
    for row in found:
        typed = _normalised(_typed(row.customer_address, row.return_address))
        right = _normalised({p: getattr(row, p) for p in PARTS})
        if typed is not None and right is not None:
            updates[typed == right].append(row.return_id)
    for value, ids in updates.items():
        for start in range(0, len(ids), BATCH):
            conn.execute(routes.update().where(routes.c.return_id.in_(ids[start:start + BATCH]))
                         .values(typed_address_matched=value))


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table)
    op.drop_table("return_reason_tags")
    with op.batch_alter_table("return_routes") as batch:
        batch.drop_column("typed_address_matched")
    with op.batch_alter_table("returns") as batch:
        for name in reversed(STEPS):
            batch.drop_column(name)
