# PLACEHOLDER for the kpis helper's module: the merger takes theirs
"""Outcome KPIs of the orders placed in [since, until) (issue 14 item 4), only what the
company simulator's report reads, so it runs before the kpis helper's module lands.

* manual_intervention_rate: orders with at least one audit_log row naming them / orders;
* fulfilment_cycle_hours: placed -> first ``shipment.delivered`` event, p50 and p90;
* on_time_rate: delivered within PROMISE_HOURS of placing / delivered orders (the order's own
  promise date, ``orders.promised_by``, is the kpis helper's);
* discrepancy_per_mille: None here (the reconciliation's figure).
Rates are fractions 0-1, None when the period has no data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t

PROMISE_HOURS = 96.0


def as_utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def outcome_kpis(conn: Connection, *, since: datetime, until: datetime,
                 channel: str | None = None, shop: str | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    o = t.orders
    query = sa.select(o.c.id, o.c.placed_at).where(o.c.placed_at >= since,
                                                   o.c.placed_at < until)
    if channel:
        query = query.where(o.c.channel == channel)
    if shop:
        query = query.where(o.c.shop_id == shop)
    placed = {str(r.id): as_utc(r.placed_at) for r in conn.execute(query)}
    touched = {str(r[0]) for r in conn.execute(
        sa.select(t.audit_log.c.order_id).distinct().where(t.audit_log.c.order_id.is_not(None)))}
    delivered: dict[str, datetime] = {}
    for order_id, at in conn.execute(
            sa.select(t.events.c.order_id, sa.func.min(t.events.c.occurred_at))
            .where(t.events.c.type == "shipment.delivered")
            .group_by(t.events.c.order_id)):
        if str(order_id) in placed and (now is None or as_utc(at) <= now):
            delivered[str(order_id)] = as_utc(at)
    hours = sorted((delivered[i] - placed[i]).total_seconds() / 3600.0 for i in delivered)
    n = len(placed)
    return {
        "orders": n,
        "fulfilment_cycle_hours": {"p50": _quantile(hours, 0.5), "p90": _quantile(hours, 0.9)},
        "on_time_rate": (sum(1 for h in hours if h <= PROMISE_HOURS) / len(hours)
                         if hours else None),
        "manual_intervention_rate": len(touched & placed.keys()) / n if n else None,
        "discrepancy_per_mille": None,
    }
