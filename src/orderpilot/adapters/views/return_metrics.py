"""The returns metrics' read side: the facts of the returns requested in a period, gathered with
a handful of SQLAlchemy Core queries (each an indexed range or a join on a key), computed by
``domain/return_metrics.py``. No personal data leaves here: the typed addresses are compared,
never returned.

The period is by the time a return was requested (``returns.created_at``); shipped units are
those of the orders placed in the same period that reached shipped, quantity minus what the
channel cancelled. A channel narrows both to its orders.

Each part is an aggregate or a narrow range read (migration 0022): the step times are columns
of the return, the typed-address baseline a column of the route decided when it was written,
the reason tags a row each; SKU counts and co-returned pairs are grouped by the database.
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
from orderpilot.adapters.tables_return_routing import return_policy_rows as prow
from orderpilot.adapters.tables_return_routing import return_policy_versions as pv
from orderpilot.adapters.tables_return_routing import return_routes as rr
from orderpilot.adapters.tables_returns import return_lines as rl
from orderpilot.adapters.tables_returns import return_reason_tags as rtag
from orderpilot.adapters.tables_returns import returns as rt
from orderpilot.domain import lifecycle
from orderpilot.domain import return_metrics as m
from orderpilot.domain.return_reasons import REASONS

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
    # EXTRACT answers numeric (PostgreSQL 14+): as double precision no Decimal is made per row
    return f"(CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION) / 3600.0)"


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


def _accuracy(conn: Connection, period: Period) -> m.Accuracy:
    """The routes of the period's returns counted by kind (needed a person and why, went to
    the centre the policy then named, typed-address baseline decided when routed), and the
    routed ones the current policy sends elsewhere."""
    current = conn.execute(sa.select(sa.func.max(pv.c.version))).scalar()
    then, now = prow.alias("policy_then"), prow.alias("policy_now")
    matching = sa.and_(rr.c.return_centre.is_not(None),
                       rr.c.return_centre == then.c.return_centre)
    routed = sa.not_(rr.c.decision_required)
    kind = sa.case((routed, matching), else_=sa.false())
    reason = sa.case((routed, sa.null()), else_=rr.c.exception_reason)
    typed = sa.case((routed, rr.c.typed_address_matched), else_=sa.null())
    counted = (sa.select(rr.c.decision_required, reason, kind, typed, sa.func.count())
               .join(rt, rt.c.id == rr.c.return_id)
               .outerjoin(then, sa.and_(then.c.version == rr.c.policy_version,
                                        then.c.outlet_code == rr.c.outlet_code)))
    groups = [(m.RouteGroup(bool(d), r, bool(k), None if ty is None else bool(ty)), int(n))
              for d, r, k, ty, n in conn.execute(
                  _scoped(counted, period).group_by(rr.c.decision_required, reason, kind, typed))]
    elsewhere = (sa.select(rr.c.return_id, rr.c.outlet_code, rr.c.return_centre,
                           now.c.return_centre.label("centre_now"))
                 .join(rt, rt.c.id == rr.c.return_id)
                 .outerjoin(now, sa.and_(now.c.version == current,
                                         now.c.outlet_code == rr.c.outlet_code))
                 .where(routed, now.c.return_centre.is_distinct_from(rr.c.return_centre)))
    changed = [m.RouteFacts(row.return_id, False, None, row.outlet_code, row.return_centre,
                            None, row.centre_now, None, None)
               for row in conn.execute(_scoped(elsewhere, period))]
    return m.tallied_accuracy(groups, changed)


def _step_hours(conn: Connection, period: Period) -> dict[str, list[float]]:
    """Hours from each return's request to the first time it reached each step (kept on the
    return when the step's order event was appended: adapters/returns.py STEP_COLUMNS), one
    pass over the period's returns that reached any."""
    columns = [rt.c[f"{step}_at"] for step in m.STEPS]
    elapsed: list[sa.ColumnElement[Any]] = [hours_between(c, rt.c.created_at) for c in columns]
    query = _scoped(sa.select(*elapsed).where(sa.or_(*(c.is_not(None) for c in columns))),
                    period)
    hours: dict[str, list[float]] = {step: [] for step in m.STEPS}
    lists = [hours[step] for step in m.STEPS]
    for row in conn.execute(query):
        for values, took in zip(lists, row, strict=True):
            if took is not None:
                values.append(max(0.0, float(took)))
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


def _reasons(conn: Connection, period: Period) -> Counter[str]:
    """Returns per reason tag (a row per tag per return, "other" for none)."""
    query = _scoped(sa.select(rtag.c.tag, sa.func.count()).join(rt, rt.c.id == rtag.c.return_id),
                    period).group_by(rtag.c.tag)
    return Counter({tag: int(n) for tag, n in conn.execute(query)})


def metrics(conn: Connection, period: Period) -> dict[str, Any]:
    counts = conn.execute(_scoped(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((rt.c.rejected, 1), else_=0)), 0)),
        period)).one()
    total, rejected = int(counts[0]), int(counts[1])
    returned: Counter[str] = Counter()
    skus_by_order: dict[str, set[str]] = defaultdict(set)
    for order_id, sku, quantity in conn.execute(_scoped(
            sa.select(rt.c.order_id, rl.c.sku, rl.c.quantity)
            .join(rt, rt.c.id == rl.c.return_id).where(sa.not_(rt.c.rejected)), period)):
        returned[sku] += quantity
        skus_by_order[order_id].add(sku)
    reasons = _reasons(conn, period)
    accuracy = _accuracy(conn, period)
    times = m.processing_times(_step_hours(conn, period))
    rates = m.sku_rates(returned, _shipped_units(conn, period), TOP_SKUS)
    pairs = m.co_returned_pairs(skus_by_order.values(), TOP_PAIRS)
    return {
        "period": {"since": period.since.isoformat(), "until": period.until.isoformat(),
                   "channel": period.channel},
        "returns": total, "rejected": rejected,
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
             "share": m.ratio(n, total)}
            for tag, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))],
        "by_sku": [{"sku": s.sku, "returned_units": s.returned, "shipped_units": s.shipped,
                    "rate": s.rate} for s in rates],
        "co_returned_pairs": [{"skus": [a, b], "orders": n} for a, b, n in pairs],
    }
