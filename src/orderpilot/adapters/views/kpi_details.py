"""What lies behind the outcome KPIs (docs/outcomes.md): the manual-intervention rate per day,
channel and reason with the orders behind each figure (S12b), the cancellation reasons, the
figures per channel and per bucket of a trend, and the orders behind any figure. Order lists
carry no buyer data (order number, channel, shop, times, status)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.views.kpis import (
    Scope,
    cancelled,
    covering_run,
    manual_orders,
    outcome_kpis,
    scoped,
)
from orderpilot.adapters.views.sql_time import shanghai_day
from orderpilot.domain import kpis as k
from orderpilot.domain.intake import CHANNELS

o, e, a = t.orders, t.events, t.audit_log
HOLD_ACTIONS = ("hold.place", "hold.release")
# The figures an order list can be asked for (the dashboard links each card to one).
FIGURES = ("orders", "delivered", "late", "cancelled", "manual", "returned", "discrepant")


def reason_of(action: str, before: Any, after: Any) -> str:
    """The audit action; for a hold, the action and the hold's reason (hold.place:address)."""
    if action in HOLD_ACTIONS:
        for side in (after, before):
            if isinstance(side, dict) and side.get("reason"):
                return f"{action}:{side['reason']}"
    return action


def manual_interventions(conn: Connection, scope: Scope, *, day: str | None = None,
                         reason: str | None = None, offset: int = 0,
                         limit: int = 50) -> dict[str, Any]:
    """The period's orders needing a person, per day (Beijing, of placed_at), channel and
    reason, and the orders behind the figure narrowed by DAY and REASON (a page of them)."""
    day_of: Any = shanghai_day(o.c.placed_at)
    per_day = Counter({d: int(n) for d, n in conn.execute(
        scoped(sa.select(day_of, sa.func.count()), scope).group_by(day_of))})
    per_channel = Counter({ch: int(n) for ch, n in conn.execute(
        scoped(sa.select(o.c.channel, sa.func.count()), scope).group_by(o.c.channel))})
    rows = conn.execute(scoped(
        sa.select(o.c.id, o.c.channel, o.c.shop_id, o.c.external_id, o.c.placed_at,
                  o.c.status, a.c.action, a.c.before, a.c.after)
        .join(a, a.c.order_id == o.c.id), scope).order_by(o.c.placed_at, o.c.id, a.c.seq))
    facts: dict[str, dict[str, Any]] = {}
    for r in rows:
        fact = facts.setdefault(r.id, {
            "order_id": r.id, "channel": r.channel, "shop_id": r.shop_id,
            "external_id": r.external_id, "placed_at": r.placed_at.isoformat(),
            "day": k.shanghai_day(r.placed_at), "status": r.status, "reasons": []})
        why = reason_of(r.action, r.before, r.after)
        if why not in fact["reasons"]:
            fact["reasons"].append(why)
    by_day: Counter[str] = Counter(f["day"] for f in facts.values())
    by_channel: Counter[str] = Counter(f["channel"] for f in facts.values())
    by_reason: Counter[str] = Counter(why for f in facts.values() for why in f["reasons"])
    behind = [f for f in facts.values() if (day is None or f["day"] == day)
              and (reason is None or reason in f["reasons"])]
    orders = sum(per_day.values())
    return {
        "orders": orders, "manual": len(facts), "rate": k.rate(len(facts), orders),
        "goal": k.MANUAL_GOAL,
        "by_day": [{"day": d, "orders": per_day[d], "manual": by_day[d],
                    "rate": k.rate(by_day[d], per_day[d])} for d in sorted(per_day)],
        "by_channel": [{"channel": ch, "orders": per_channel[ch], "manual": by_channel[ch],
                        "rate": k.rate(by_channel[ch], per_channel[ch])}
                       for ch in sorted(per_channel)],
        "by_reason": [{"reason": why, "orders": n}
                      for why, n in sorted(by_reason.items(), key=lambda x: (-x[1], x[0]))],
        "total": len(behind), "items": behind[offset:offset + limit],
    }


def cancellation_reasons(conn: Connection, scope: Scope) -> list[dict[str, Any]]:
    """Cancelled orders per reason given on the cancel event, most frequent first."""
    reasons = Counter(cancelled(conn, scope).values())
    return [{"reason": why, "orders": n}
            for why, n in sorted(reasons.items(), key=lambda x: (-x[1], x[0]))]


def by_channel(conn: Connection, scope: Scope, now: datetime) -> list[dict[str, Any]]:
    """The figures of each channel that has orders in the period."""
    present = [ch for (ch,) in conn.execute(
        scoped(sa.select(o.c.channel).distinct(), replace(scope, channel=None)))]
    return [{"channel": ch, **outcome_kpis(conn, since=scope.since, until=scope.until,
                                           channel=ch, shop=scope.shop, now=now)}
            for ch in sorted(present, key=lambda c: (c not in CHANNELS, c))]


def trend(conn: Connection, scope: Scope, bucket: str, now: datetime) -> list[dict[str, Any]]:
    """The figures per Beijing day or ISO week of [since, until) (each bucket clipped to it)."""
    assert scope.since is not None and scope.until is not None
    points = []
    for start in k.bucket_starts(scope.since, scope.until, bucket):
        end = start + timedelta(days=7 if bucket == "week" else 1)
        low, high = max(start, scope.since), min(end, scope.until)
        points.append({"start": low.isoformat(), "end": high.isoformat(),
                       **outcome_kpis(conn, since=low, until=high, channel=scope.channel,
                                      shop=scope.shop, now=now)})
    return points


def orders_behind(conn: Connection, scope: Scope, figure: str, now: datetime, *,
                  offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """The scope's orders behind FIGURE (FIGURES), newest first, a page of them."""
    query = scoped(sa.select(o.c.id, o.c.channel, o.c.shop_id, o.c.external_id,
                             o.c.placed_at, o.c.status, o.c.promised_by), scope)
    if figure == "delivered":
        query = query.where(o.c.delivered_at.is_not(None))
    elif figure == "late":
        delivered = o.c.delivered_at
        query = query.where(o.c.promised_by.is_not(None), sa.or_(
            delivered > o.c.promised_by,
            sa.and_(delivered.is_(None), o.c.promised_by < now)))
    elif figure == "cancelled":
        query = query.where(o.c.id.in_(sorted(cancelled(conn, scope))))
    elif figure == "manual":
        query = query.where(o.c.id.in_(manual_orders(scope).subquery().select()))
    elif figure == "returned":
        query = query.where(sa.select(t.returns.c.id).where(
            t.returns.c.order_id == o.c.id).exists())
    elif figure == "discrepant":
        run = covering_run(conn, scope)
        d = t.reconciliation_discrepancies
        query = query.where(sa.select(d.c.order_id).where(
            d.c.order_id == o.c.id, d.c.run_id == (run.id if run else "")).exists())
    total = int(conn.execute(sa.select(sa.func.count()).select_from(query.subquery()))
                .scalar() or 0)
    rows = conn.execute(query.order_by(o.c.placed_at.desc(), o.c.id)
                        .offset(offset).limit(limit))
    return {"figure": figure, "total": total, "items": [
        {"order_id": r.id, "channel": r.channel, "shop_id": r.shop_id,
         "external_id": r.external_id, "placed_at": r.placed_at.isoformat(),
         "status": r.status,
         "promised_by": r.promised_by.isoformat() if r.promised_by else None}
        for r in rows]}


def shops(conn: Connection, channel: str | None = None) -> list[str]:
    query = sa.select(o.c.shop_id).distinct().order_by(o.c.shop_id).limit(200)
    if channel:
        query = query.where(o.c.channel == channel)
    return [s for (s,) in conn.execute(query)]

