"""The returns metrics' read side: the facts of the returns requested in a period, gathered with
a handful of SQLAlchemy Core queries (each an indexed range or a join on a key), computed by
``domain/return_metrics.py``. No personal data leaves here: the typed addresses are compared,
never returned.

The period is by the time a return was requested (``returns.created_at``); shipped units are
those of the orders placed in the same period that reached shipped, quantity minus what the
channel cancelled. A channel narrows both to its orders.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from orderpilot.adapters import tables as t
from orderpilot.adapters.tables_return_routing import return_centres as rc
from orderpilot.adapters.tables_return_routing import return_policy_rows as prow
from orderpilot.adapters.tables_return_routing import return_policy_versions as pv
from orderpilot.adapters.tables_return_routing import return_routes as rr
from orderpilot.adapters.tables_returns import return_lines as rl
from orderpilot.adapters.tables_returns import returns as rt
from orderpilot.domain import lifecycle
from orderpilot.domain import return_metrics as m
from orderpilot.domain.return_reasons import REASONS

# The order event that marks each step of a return (domain/returns.py EVENT_OF_MOVE).
STEP_EVENTS = {"return.pickup_booked": "pickup_booked", "return.received": "received",
               "refund.succeeded": "refunded"}
SHIPPED_STATUSES = tuple(sorted(n.id for n in lifecycle.NODES if n.id == "shipped"
                                or "shipped" in lifecycle.predecessors(n.id)))
TOP_SKUS = 20
TOP_PAIRS = 10


class hours_between(FunctionElement[float]):  # noqa: N801 - an SQL function's name
    """Hours from the second time to the first, computed by the database (no time objects
    made in Python for each of hundreds of thousands of events)."""
    type = sa.Float()
    inherit_cache = True


@compiles(hours_between, "postgresql")
def _hours_pg(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) / 3600.0)"


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime
    channel: str | None = None


def _scoped(query: sa.Select[Any], period: Period) -> sa.Select[Any]:
    """QUERY (which reads ``returns``) narrowed to the returns requested in the period, in the
    channel: a range on the created_at index, no IN over a subquery."""
    query = query.where(rt.c.created_at >= period.since, rt.c.created_at < period.until)
    if period.channel:
        query = query.join(t.orders, t.orders.c.id == rt.c.order_id).where(
            t.orders.c.channel == period.channel)
    return query


def _routes(conn: Connection, period: Period) -> list[m.RouteFacts]:
    current = conn.execute(sa.select(sa.func.max(pv.c.version))).scalar()
    then, now = prow.alias("policy_then"), prow.alias("policy_now")
    # The typed address's parts as text, the route's copy else the return's: no JSON
    # document decoded per row.
    typed = [sa.func.coalesce(rr.c.customer_address[p].as_string(),
                              rt.c.customer_address[p].as_string()).label(f"typed_{p}")
             for p in m.ADDRESS_PARTS]
    query = (sa.select(rr.c.return_id, rr.c.decision_required, rr.c.exception_reason,
                       rr.c.outlet_code, rr.c.return_centre, *typed,
                       then.c.return_centre.label("centre_then"),
                       now.c.return_centre.label("centre_now"),
                       *(rc.c[p] for p in m.ADDRESS_PARTS))
             .join(rt, rt.c.id == rr.c.return_id)
             .outerjoin(then, sa.and_(then.c.version == rr.c.policy_version,
                                      then.c.outlet_code == rr.c.outlet_code))
             .outerjoin(now, sa.and_(now.c.version == current,
                                     now.c.outlet_code == rr.c.outlet_code))
             .outerjoin(rc, rc.c.code == rr.c.return_centre))
    facts = []
    for row in conn.execute(_scoped(query, period)).all():
        centre = {p: getattr(row, p) for p in m.ADDRESS_PARTS} \
            if row.province is not None else None
        typed_parts = {p: getattr(row, f"typed_{p}") for p in m.ADDRESS_PARTS}
        facts.append(m.RouteFacts(
            row.return_id, bool(row.decision_required), row.exception_reason, row.outlet_code,
            row.return_centre, row.centre_then, row.centre_now,
            typed_parts if any(typed_parts.values()) else None, centre))
    return facts


def _step_hours(conn: Connection, period: Period) -> dict[str, list[float]]:
    """Hours from each return's request to the first event of each step naming it: the step
    events of the orders that have a return in the period, found by the order_id index."""
    return_id = t.events.c.payload["data"]["return_id"].as_string()
    orders = _scoped(sa.select(rt.c.order_id), period)
    first = (sa.select(return_id.label("return_id"), t.events.c.type,
                       sa.func.min(t.events.c.occurred_at).label("at"))
             .where(t.events.c.order_id.in_(orders), t.events.c.type.in_(STEP_EVENTS))
             .group_by(return_id, t.events.c.type)).subquery("first_step")
    query = _scoped(sa.select(first.c.type, hours_between(first.c.at, rt.c.created_at))
                    .join(rt, rt.c.id == first.c.return_id), period)
    hours: dict[str, list[float]] = defaultdict(list)
    for kind, elapsed in conn.execute(query).all():
        hours[STEP_EVENTS[kind]].append(max(0.0, float(elapsed)))
    return hours


def _shipped_units(conn: Connection, period: Period) -> dict[str, int]:
    o, ol = t.orders, t.order_lines
    query = (sa.select(ol.c.sku, sa.func.sum(ol.c.quantity - ol.c.cancelled_quantity))
             .join(o, o.c.id == ol.c.order_id)
             .where(o.c.placed_at >= period.since, o.c.placed_at < period.until,
                    o.c.status.in_(SHIPPED_STATUSES))
             .group_by(ol.c.sku))
    if period.channel:
        query = query.where(o.c.channel == period.channel)
    return {sku: int(n or 0) for sku, n in conn.execute(query)}


def metrics(conn: Connection, period: Period) -> dict[str, Any]:
    returns = conn.execute(_scoped(sa.select(rt.c.id, rt.c.order_id, rt.c.reason_tags,
                                             rt.c.rejected), period)).all()
    accepted = {r.id for r in returns if not r.rejected}
    lines = conn.execute(_scoped(sa.select(rl.c.return_id, rl.c.sku, rl.c.quantity,
                                           rt.c.order_id)
                                 .join(rt, rt.c.id == rl.c.return_id), period)).all()
    returned: Counter[str] = Counter()
    skus_by_order: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        if line.return_id in accepted:
            returned[line.sku] += line.quantity
            skus_by_order[line.order_id].add(line.sku)
    reasons: Counter[str] = Counter(tag for r in returns for tag in dict.fromkeys(
        r.reason_tags or ["other"]))
    accuracy = m.address_accuracy(_routes(conn, period))
    times = m.processing_times(_step_hours(conn, period))
    rates = m.sku_rates(returned, _shipped_units(conn, period), TOP_SKUS)
    pairs = m.co_returned_pairs(skus_by_order.values(), TOP_PAIRS)
    return {
        "period": {"since": period.since.isoformat(), "until": period.until.isoformat(),
                   "channel": period.channel},
        "returns": len(returns), "rejected": len(returns) - len(accepted),
        "returned_units": sum(returned.values()),
        "address_accuracy": {
            "routes": accuracy.routes, "routed": accuracy.routed,
            "matching_policy": accuracy.matching_policy, "rate": accuracy.rate,
            "decision_required": accuracy.decision_required,
            "decision_required_by_reason": [
                {"reason": reason, "zh": m.DECISION_REASONS.get(reason, (reason, reason))[0],
                 "en": m.DECISION_REASONS.get(reason, (reason, reason))[1], "count": n}
                for reason, n in accuracy.by_reason.items()],
            "typed_address_baseline": {"compared": accuracy.typed_known,
                                       "already_right": accuracy.typed_right,
                                       "rate": accuracy.typed_rate},
            "current_policy_differs": accuracy.policy_changed},
        "processing_hours": [
            {"step": s.step, "zh": m.STEP_NAMES[s.step][0], "en": m.STEP_NAMES[s.step][1],
             "count": s.count, "p50": s.p50_hours, "p90": s.p90_hours} for s in times],
        "by_reason": [
            {"tag": tag, "zh": REASONS[tag].zh if tag in REASONS else tag,
             "en": REASONS[tag].en if tag in REASONS else tag, "returns": n,
             "share": m.ratio(n, len(returns))}
            for tag, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))],
        "by_sku": [{"sku": s.sku, "returned_units": s.returned, "shipped_units": s.shipped,
                    "rate": s.rate} for s in rates],
        "co_returned_pairs": [{"skus": [a, b], "orders": n} for a, b, n in pairs],
    }
