"""Read queries only the console needs: dashboard counts, the chart series, the exception queue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.stats import StatsRepository
from orderpilot.adapters.views.orders import PRE_SHIPMENT, iso
from orderpilot.domain.money import from_cents
from orderpilot.domain.times import SHANGHAI

CHART_DAYS = 14
QUEUE_LIMIT = 500


def status_counts(conn: Connection) -> dict[str, int]:
    o = t.orders
    return {status: int(n) for status, n in
            conn.execute(sa.select(o.c.status, sa.func.count()).group_by(o.c.status))}


def held_counts(conn: Connection) -> tuple[int, int]:
    """(held orders, held orders not yet shipped)."""
    o = t.orders
    held = conn.execute(sa.select(sa.func.count()).select_from(o)
                        .where(o.c.held.is_(True))).scalar_one()
    pending = conn.execute(sa.select(sa.func.count()).select_from(o)
                           .where(o.c.held.is_(True), o.c.status.in_(PRE_SHIPMENT))).scalar_one()
    return int(held), int(pending)


def dead_timer_count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(t.timers)
                            .where(t.timers.c.status == "dead")).scalar_one())


def channel_days(conn: Connection, now: datetime) -> tuple[list[str], dict[str, list[int]]]:
    """The last CHART_DAYS business days (Beijing time), each channel's orders per day;
    days without orders are zeros, not gaps."""
    today = now.astimezone(SHANGHAI).date()
    days = [(today - timedelta(days=i)).isoformat() for i in range(CHART_DAYS - 1, -1, -1)]
    series: dict[str, list[int]] = {}
    for day, channel, orders, _gmv in StatsRepository(conn).channel_days(days[0]):
        if day in days:
            series.setdefault(channel, [0] * len(days))[days.index(day)] = orders
    return days, dict(sorted(series.items()))


def exception_queue(conn: Connection) -> list[dict[str, Any]]:
    """Active holds, oldest first (the longest-waiting order is at the top), with their order."""
    o, h = t.orders, t.holds
    rows = conn.execute(
        sa.select(o.c.id, o.c.channel, o.c.shop_id, o.c.external_id, o.c.status, o.c.currency,
                  o.c.total_cents, o.c.customer_name, o.c.placed_at, h.c.id.label("hold_id"),
                  h.c.reason, h.c.note, h.c.placed_by, h.c.placed_by_kind,
                  h.c.placed_at.label("held_at"), h.c.auto_release_at)
        .join(h, h.c.order_id == o.c.id).where(h.c.released_at.is_(None))
        .order_by(h.c.placed_at, h.c.id).limit(QUEUE_LIMIT))
    return [{"id": r.id, "channel": r.channel, "shop_id": r.shop_id,
             "external_id": r.external_id, "status": r.status, "currency": r.currency,
             "total": str(from_cents(r.total_cents)), "customer_name": r.customer_name,
             "placed_at": iso(r.placed_at), "hold_id": r.hold_id, "reason": r.reason,
             "note": r.note, "placed_by": r.placed_by, "placed_by_kind": r.placed_by_kind,
             "held_at": iso(r.held_at), "auto_release_at": iso(r.auto_release_at),
             "pre_shipment": r.status in PRE_SHIPMENT}
            for r in rows]


def business_day(now: datetime) -> date:
    return now.astimezone(SHANGHAI).date()
