"""The outcome KPIs' read side (成效, docs/outcomes.md): a handful of SQLAlchemy Core queries
over the orders placed in a period (an order counts in the period of its ``placed_at``,
since inclusive, until exclusive), optionally one channel's or one shop's, computed by
``domain/kpis.py``. No personal data leaves here: the buyer's phone is only a key.

Each query is a range on an index of migration 0026 (orders by channel/shop and placed_at,
by phone and placed_at; events by type and order) joined on keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.views.return_metrics import hours_between
from orderpilot.adapters.views.sql_time import epoch_seconds
from orderpilot.domain import kpis as k
from orderpilot.domain import lifecycle
from orderpilot.domain.reconciliation import utc_bounds
from orderpilot.domain.times import SHANGHAI

o, e = t.orders, t.events
CANCELLED = tuple(sorted(x.type for x in lifecycle.EVENT_TYPES.values() if x.node == "cancelled"))


@dataclass(frozen=True)
class Scope:
    since: datetime | None
    until: datetime | None
    channel: str | None = None
    shop: str | None = None


def scoped(query: sa.Select[Any], scope: Scope) -> sa.Select[Any]:
    """QUERY (which reads ``orders``) narrowed to the scope's orders."""
    if scope.since is not None:
        query = query.where(o.c.placed_at >= scope.since)
    if scope.until is not None:
        query = query.where(o.c.placed_at < scope.until)
    if scope.channel:
        query = query.where(o.c.channel == scope.channel)
    if scope.shop:
        query = query.where(o.c.shop_id == scope.shop)
    return query


def _delivered(conn: Connection, scope: Scope) -> list[tuple[float, bool | None]]:
    """(hours placed → delivered, delivered by the promise or None without one) of the
    scope's delivered orders (``orders.delivered_at``: the first delivered event's time),
    computed by the database."""
    at = o.c.delivered_at
    in_time = sa.case((o.c.promised_by.is_(None), sa.null()),
                      (at <= o.c.promised_by, 1), else_=0)
    query = scoped(sa.select(hours_between(at, o.c.placed_at), in_time)
                   .where(at.is_not(None)), scope)
    return [(max(0.0, round(float(h), 4)), None if t_ is None else bool(t_))
            for h, t_ in conn.execute(query)]


def _late_undelivered(conn: Connection, scope: Scope, now: datetime) -> int:
    query = scoped(sa.select(sa.func.count()).select_from(o)
                   .where(o.c.promised_by.is_not(None), o.c.promised_by < now,
                          o.c.delivered_at.is_(None)), scope)
    return int(conn.execute(query).scalar() or 0)


def _repurchase(conn: Connection, scope: Scope, now: datetime) -> dict[int, float | None]:
    """Buyers of the period and their orders up to 90 days after it (index by phone)."""
    buyers = scoped(sa.select(o.c.customer_phone).distinct(), scope).subquery()
    query = sa.select(o.c.customer_phone, epoch_seconds(o.c.placed_at)).join(
        buyers, buyers.c.customer_phone == o.c.customer_phone)
    if scope.since is not None:
        query = query.where(o.c.placed_at >= scope.since)
    horizon = (scope.until or now) + timedelta(days=90)
    query = query.where(o.c.placed_at <= min(horizon, now))
    if scope.channel:
        query = query.where(o.c.channel == scope.channel)
    if scope.shop:
        query = query.where(o.c.shop_id == scope.shop)
    rows = [(r[0], float(r[1])) for r in conn.execute(query)]
    since = scope.since.timestamp() if scope.since else None
    until = scope.until.timestamp() if scope.until else None
    answer: dict[int, float | None] = {}
    for days in (30, 90):
        counted, again = k.repurchase(rows, since, until, now.timestamp(), days)
        answer[days] = k.rate(again, counted)
    return answer


def _return_hours(conn: Connection, scope: Scope) -> list[float]:
    r = t.returns
    query = scoped(sa.select(hours_between(r.c.refunded_at, r.c.created_at))
                   .join(o, o.c.id == r.c.order_id).where(r.c.refunded_at.is_not(None)), scope)
    return [max(0.0, round(float(h), 4)) for (h,) in conn.execute(query)]


def count(conn: Connection, scope: Scope) -> int:
    return int(conn.execute(scoped(sa.select(sa.func.count()).select_from(o), scope)).scalar()
               or 0)


def cancelled(conn: Connection, scope: Scope) -> dict[str, str]:
    """The scope's cancelled orders and the reason each was given: the first cancel event
    that moved the order (a cancel reported after the order moved on changes nothing), its
    ``reason`` (or ``reason_code``) in the reported data, "" when none."""
    rows = conn.execute(scoped(sa.select(o.c.id, e.c.payload)
                               .join(e, sa.and_(e.c.order_id == o.c.id,
                                                e.c.type.in_(CANCELLED))), scope)
                        .order_by(o.c.id, e.c.occurred_at, e.c.seq))
    reasons: dict[str, str] = {}
    for order_id, payload in rows:
        body = payload if isinstance(payload, dict) else {}
        if order_id in reasons or body.get("outcome", "moved") != "moved":
            continue
        inner = body.get("data")
        data = inner if isinstance(inner, dict) else body
        reasons[order_id] = str(data.get("reason") or data.get("reason_code") or "")[:100]
    return reasons


def manual_orders(scope: Scope) -> sa.Select[Any]:
    """The scope's orders with at least one audit_log row naming them (S12b)."""
    touched = sa.select(t.audit_log.c.order_id).where(
        t.audit_log.c.order_id == o.c.id).exists()
    return scoped(sa.select(o.c.id).where(touched), scope)


def _manual(conn: Connection, scope: Scope) -> int:
    query = sa.select(sa.func.count()).select_from(manual_orders(scope).subquery())
    return int(conn.execute(query).scalar() or 0)


def _bounds(conn: Connection, scope: Scope) -> tuple[datetime, datetime] | None:
    if scope.since is not None and scope.until is not None:
        return scope.since, scope.until
    low, high = conn.execute(scoped(sa.select(sa.func.min(o.c.placed_at),
                                              sa.func.max(o.c.placed_at)), scope)).one()
    if low is None:
        return None
    return scope.since or low, scope.until or high + timedelta(microseconds=1)


def covering_run(conn: Connection, scope: Scope) -> Any:
    """The latest reconciliation run whose Beijing days cover the period (None if none)."""
    bounds = _bounds(conn, scope)
    if bounds is None:
        return None
    first = bounds[0].astimezone(SHANGHAI).date()
    last = (bounds[1] - timedelta(microseconds=1)).astimezone(SHANGHAI).date()
    rr = t.reconciliation_runs
    return conn.execute(sa.select(rr.c.id, rr.c.since, rr.c.until, rr.c.orders,
                                  rr.c.discrepant_orders)
                        .where(rr.c.since <= first, rr.c.until >= last)
                        .order_by(rr.c.created_at.desc(), rr.c.seq.desc()).limit(1)).first()


def discrepancy(conn: Connection, scope: Scope) -> float | None:
    """Discrepant orders per thousand orders compared, from the latest reconciliation run whose
    Beijing days cover the period; per channel or shop, that run's discrepant orders of the
    channel or shop over its orders placed in the run's days. None when no run covers it."""
    run = covering_run(conn, scope)
    if run is None:
        return None
    if not scope.channel and not scope.shop:
        return k.per_mille(int(run.discrepant_orders), int(run.orders))
    start, end = utc_bounds(run.since, run.until)
    compared = count(conn, Scope(start, end, scope.channel, scope.shop))
    d = t.reconciliation_discrepancies
    discrepant = conn.execute(scoped(
        sa.select(sa.func.count(sa.distinct(d.c.order_id)))
        .select_from(d).join(o, o.c.id == d.c.order_id).where(d.c.run_id == run.id),
        Scope(None, None, scope.channel, scope.shop))).scalar()
    return k.per_mille(int(discrepant or 0), compared)


def outcome_kpis(conn: Connection, *, since: datetime | None, until: datetime | None,
                 channel: str | None = None, shop: str | None = None,
                 now: datetime) -> dict[str, Any]:
    """The outcome KPIs of the orders placed in [since, until) (the API's shape)."""
    scope = Scope(since, until, channel or None, shop or None)
    orders = count(conn, scope)
    delivered = _delivered(conn, scope)
    on_time = sum(1 for _h, in_time in delivered if in_time)
    judged = sum(1 for _h, in_time in delivered if in_time is not None) \
        + _late_undelivered(conn, scope, now)
    repurchase = _repurchase(conn, scope, now)
    return {
        "orders": orders,
        "fulfilment_cycle_hours": k.spread([h for h, _in_time in delivered]).shown(),
        "on_time_rate": k.rate(on_time, judged),
        "repurchase_rate_30d": repurchase[30],
        "repurchase_rate_90d": repurchase[90],
        "return_processing_hours": k.spread(_return_hours(conn, scope)).shown(),
        "cancellation_rate": k.rate(len(cancelled(conn, scope)), orders),
        "manual_intervention_rate": k.rate(_manual(conn, scope), orders),
        "discrepancy_per_mille": discrepancy(conn, scope),
    }
