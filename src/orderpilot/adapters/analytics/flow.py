"""The lifecycle board's numbers, read from the columnar snapshot (``snapshot.py``).

Drawn from what happened, not from the configured lifecycle: each selected order starts at
``placed`` (its ``placed_at``), then every lifecycle report it got (outcome ``moved`` or
``late``; the node is the event type's, since a late report does not move the order) in the
order things happened at their source (``occurred_at``, then ``seq``). When a node was
reported more than once (a warehouse and a carrier both saying shipped), its first report
counts. Consecutive nodes make the edges; an edge's seconds are between the two reports'
``occurred_at``. Per reporting source: the lag of each report (``recorded_at - occurred_at``),
its late reports, its duplicates (``duplicate_reports``) and its out-of-order reports (one that
happened before the source's previous report on the same order, taken in recorded order).

Everything is one duckdb statement per question: window functions and aggregates over the
whole history, no Python loop over rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from orderpilot.adapters.analytics.snapshot import Snapshot
from orderpilot.domain.flow import FlowFilter, SlowOrder, SourceReports, Transition
from orderpilot.domain.flow_findings import findings
from orderpilot.domain.lifecycle import EVENT_TYPES, SOURCE_SYSTEM

Cursor = duckdb.DuckDBPyConnection

# The node each lifecycle event type reports (a late report has no "to" in its payload).
_NODE_OF = "node_of(type, node) AS (VALUES " + ", ".join(
    f"('{e.type}', '{e.node}')" for e in EVENT_TYPES.values() if e.node) + ")"


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _selected(f: FlowFilter) -> tuple[str, dict[str, Any], bool]:
    """The selected orders as a CTE, its parameters, and whether it filters at all."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if f.since is not None:
        where.append("o.placed_at >= $since")
        params["since"] = _naive(f.since)
    if f.until is not None:
        where.append("o.placed_at < $until")
        params["until"] = _naive(f.until)
    if f.channel is not None:
        where.append("o.channel = $channel")
        params["channel"] = f.channel
    if f.shop_id is not None:
        where.append("o.shop_id = $shop_id")
        params["shop_id"] = f.shop_id
    if f.sku is not None:
        where.append("o.id IN (SELECT order_id FROM order_lines WHERE sku = $sku)")
        params["sku"] = f.sku
    sql = "sel AS (SELECT o.id, o.placed_at FROM orders o" + (
        " WHERE " + " AND ".join(where) if where else "") + ")"
    return sql, params, bool(where)


def _pairs(f: FlowFilter) -> tuple[str, dict[str, Any]]:
    """CTEs ending in ``pairs(order_id, from_node, to_node, from_at, to_at, seconds)``."""
    sel, params, filtered = _selected(f)
    join = "JOIN sel ON sel.id = e.order_id" if filtered else ""
    sql = f"""WITH {sel}, {_NODE_OF},
steps AS (
    SELECT id AS order_id, 'placed' AS node, placed_at AS happened_at, 0::BIGINT AS seq FROM sel
    UNION ALL
    SELECT e.order_id, n.node, min(e.occurred_at), min(e.seq)
    FROM events e JOIN node_of n ON n.type = e.type {join}
    WHERE e.outcome IN ('moved', 'late') AND e.order_id IS NOT NULL
    GROUP BY e.order_id, n.node
),
ordered AS (
    SELECT order_id, node AS to_node, happened_at AS to_at,
           lag(node) OVER w AS from_node, lag(happened_at) OVER w AS from_at
    FROM steps WINDOW w AS (PARTITION BY order_id ORDER BY happened_at, seq)
),
pairs AS (
    SELECT order_id, from_node, to_node, from_at, to_at,
           (epoch_us(to_at) - epoch_us(from_at)) / 1e6 AS seconds
    FROM ordered WHERE from_node IS NOT NULL
)"""
    return sql, params


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def transitions(cur: Cursor, f: FlowFilter) -> list[Transition]:
    """Every edge that happened, busiest first."""
    ctes, params = _pairs(f)
    rows = cur.execute(f"""{ctes}
SELECT from_node, to_node, count(*) AS n, quantile_cont(seconds, [0.5, 0.9, 0.99]) AS q,
       avg(seconds) AS mean
FROM pairs GROUP BY from_node, to_node ORDER BY n DESC, from_node, to_node""",
                       params).fetchall()
    return [Transition(a, b, int(n), round(q[0], 3), round(q[1], 3), round(q[2], 3),
                       round(mean, 3)) for a, b, n, q, mean in rows]


def slowest(cur: Cursor, f: FlowFilter, from_node: str, to_node: str,
            limit: int) -> list[SlowOrder]:
    """The orders that took longest on one edge, slowest first."""
    ctes, params = _pairs(f)
    rows = cur.execute(f"""{ctes}
SELECT p.order_id, o.external_id, o.channel, p.seconds, p.from_at, p.to_at
FROM pairs p JOIN orders o ON o.id = p.order_id
WHERE p.from_node = $from_node AND p.to_node = $to_node
ORDER BY p.seconds DESC, p.order_id LIMIT $limit""",
                       {**params, "from_node": from_node, "to_node": to_node,
                        "limit": limit}).fetchall()
    return [SlowOrder(i, x, c, round(s, 3), a.replace(tzinfo=UTC), b.replace(tzinfo=UTC))
            for i, x, c, s, a, b in rows]


def sources(cur: Cursor, f: FlowFilter) -> list[SourceReports]:
    """Each reporting source: its reports' lag, late, duplicated and out-of-order ones."""
    sel, params, filtered = _selected(f)
    join = "JOIN sel ON sel.id = {}.order_id" if filtered else ""
    rows = cur.execute(f"""WITH {sel},
reports AS (
    SELECT e.source, e.system, e.outcome,
           (epoch_us(e.recorded_at) - epoch_us(e.occurred_at)) / 1e6 AS lag,
           e.occurred_at < lag(e.occurred_at) OVER (
               PARTITION BY e.order_id, e.source ORDER BY e.seq) AS out_of_order
    FROM events e {join.format('e')}
    WHERE e.outcome IS NOT NULL AND e.order_id IS NOT NULL
),
per_source AS (
    SELECT source, mode(system) AS system, count(*) AS n,
           quantile_cont(lag, [0.5, 0.99]) AS q,
           count(*) FILTER (WHERE outcome = 'late') AS late,
           count(*) FILTER (WHERE out_of_order) AS out_of_order
    FROM reports GROUP BY source
),
dups AS (
    SELECT d.source, count(*) AS n FROM duplicate_reports d {join.format('d')}
    GROUP BY d.source
)
SELECT coalesce(p.source, d.source), p.system, coalesce(p.n, 0), p.q, coalesce(p.late, 0),
       coalesce(d.n, 0), coalesce(p.out_of_order, 0)
FROM per_source p FULL JOIN dups d ON d.source = p.source
ORDER BY 3 DESC, 1""", params).fetchall()
    return [SourceReports(source, system or SOURCE_SYSTEM.get(source.lower(), "unknown"),
                          int(n), _seconds(q[0]) if q else None,
                          _seconds(q[1]) if q else None, int(late), int(dups), int(ooo))
            for source, system, n, q, late, dups, ooo in rows]


def orders_count(cur: Cursor, f: FlowFilter) -> int:
    sel, params, _ = _selected(f)
    row = cur.execute(f"WITH {sel} SELECT count(*) FROM sel", params).fetchone()
    return int(row[0]) if row else 0


def board(snapshot: Snapshot, f: FlowFilter) -> dict[str, Any]:
    """The whole board as the API sends it: edges, sources, findings, the order count and
    what the snapshot's last refresh loaded."""
    with snapshot.cursor() as cur:
        edges = transitions(cur, f)
        reporting = sources(cur, f)
        orders = orders_count(cur, f)
    loaded = snapshot.last_refresh
    return {
        "transitions": [
            {"from": t.from_node, "to": t.to_node, "count": t.count,
             "p50_seconds": t.p50_seconds, "p90_seconds": t.p90_seconds,
             "p99_seconds": t.p99_seconds, "mean_seconds": t.mean_seconds,
             "target_seconds": t.target_seconds, "grade": t.grade} for t in edges],
        "sources": [
            {"source": s.source, "system": s.system, "count": s.count,
             "lag_p50_seconds": s.lag_p50_seconds, "lag_p99_seconds": s.lag_p99_seconds,
             "late": s.late, "duplicates": s.duplicates, "out_of_order": s.out_of_order}
            for s in reporting],
        "findings": [x.as_dict() for x in findings(orders, edges, reporting)],
        "orders": orders,
        "snapshot": loaded.as_dict() if loaded is not None else None,
    }


def slowest_orders(snapshot: Snapshot, f: FlowFilter, from_node: str, to_node: str,
                   limit: int) -> list[dict[str, Any]]:
    with snapshot.cursor() as cur:
        found = slowest(cur, f, from_node, to_node, limit)
    return [{"order_id": s.order_id, "external_id": s.external_id, "channel": s.channel,
             "seconds": s.seconds, "from_at": s.from_at.isoformat(),
             "to_at": s.to_at.isoformat()} for s in found]
