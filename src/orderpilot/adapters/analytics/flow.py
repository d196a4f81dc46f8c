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

The window functions (ordering each order's reports) run once per order in ``prepare``,
which writes two tables beside the snapshot and afterwards redoes only the orders that got new
events; each question of the board is then one aggregate over them. No Python loop over rows.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import duckdb

from orderpilot.adapters.analytics.snapshot import Snapshot
from orderpilot.domain.flow import FlowFilter, SlowOrder, SourceReports, Transition
from orderpilot.domain.flow_findings import AVERAGE_SENTENCES, findings
from orderpilot.domain.lifecycle import EVENT_TYPES, SOURCE_SYSTEM

Cursor = duckdb.DuckDBPyConnection

# The node each lifecycle event type reports (a late report has no "to" in its payload).
_NODE_OF = "node_of(type, node) AS (VALUES " + ", ".join(
    f"('{e.type}', '{e.node}')" for e in EVENT_TYPES.values() if e.node) + ")"

# Two tables derived from the snapshot, kept beside it and brought up to date for the orders
# that got new events (``prepare``): the edges each order made, and each report's facts. The
# board's questions are then one aggregate each, with the filters on the order's own columns.
_TABLES = """
CREATE TABLE IF NOT EXISTS flow_pairs (
    order_id VARCHAR, placed_at TIMESTAMP, channel VARCHAR, shop_id VARCHAR,
    from_node VARCHAR, to_node VARCHAR, from_at TIMESTAMP, to_at TIMESTAMP, seconds DOUBLE);
CREATE TABLE IF NOT EXISTS flow_elapsed (
    order_id VARCHAR, placed_at TIMESTAMP, channel VARCHAR, shop_id VARCHAR,
    from_node VARCHAR, to_node VARCHAR, seconds DOUBLE);
CREATE TABLE IF NOT EXISTS flow_reports (
    order_id VARCHAR, placed_at TIMESTAMP, channel VARCHAR, shop_id VARCHAR, source VARCHAR,
    system VARCHAR, late BOOLEAN, out_of_order BOOLEAN, lag DOUBLE);
"""
# in snapshot_meta: the last event seq the derived tables include (v2: with flow_elapsed)
_SEEN = "flow_v2_events_seq"
_preparing = threading.Lock()


def _pairs_of(orders: str) -> str:
    """The INSERT of the edges of the orders in the table named ORDERS (id, placed_at,
    channel, shop_id)."""
    return f"""INSERT INTO flow_pairs
WITH {_NODE_OF},
steps AS (
    SELECT id AS order_id, 'placed' AS node, placed_at AS happened_at, 0::BIGINT AS seq
    FROM {orders}
    UNION ALL
    SELECT e.order_id, n.node, min(e.occurred_at), min(e.seq)
    FROM events e JOIN node_of n ON n.type = e.type JOIN {orders} o ON o.id = e.order_id
    WHERE e.outcome IN ('moved', 'late')
    GROUP BY e.order_id, n.node
),
ordered AS (
    SELECT order_id, node AS to_node, happened_at AS to_at,
           lag(node) OVER w AS from_node, lag(happened_at) OVER w AS from_at
    FROM steps WINDOW w AS (PARTITION BY order_id ORDER BY happened_at, seq)
)
SELECT p.order_id, o.placed_at, o.channel, o.shop_id, p.from_node, p.to_node, p.from_at,
       p.to_at, (epoch_us(p.to_at) - epoch_us(p.from_at)) / 1e6
FROM ordered p JOIN {orders} o ON o.id = p.order_id WHERE p.from_node IS NOT NULL"""


def _elapsed_of(orders: str) -> str:
    """The INSERT of each order's node-to-node times for the pairs the business names (from
    its edges just written: a node's first time is the edge that reached it)."""
    pairs = ", ".join(f"('{a}', '{b}')" for a, b in AVERAGE_SENTENCES)
    nodes = ", ".join(sorted({f"'{n}'" for pair in AVERAGE_SENTENCES for n in pair}))
    mine = "" if orders == "orders" else f" AND p.order_id IN (SELECT id FROM {orders})"
    return f"""INSERT INTO flow_elapsed
WITH wanted(a, b) AS (VALUES {pairs}),
reached AS (
    SELECT order_id, placed_at, channel, shop_id, to_node AS node, to_at AS at
    FROM flow_pairs p WHERE p.to_node IN ({nodes}){mine}
    UNION ALL
    SELECT order_id, placed_at, channel, shop_id, 'placed', from_at
    FROM flow_pairs p WHERE p.from_node = 'placed'{mine}
)
SELECT x.order_id, x.placed_at, x.channel, x.shop_id, w.a, w.b,
       (epoch_us(y.at) - epoch_us(x.at)) / 1e6
FROM wanted w JOIN reached x ON x.node = w.a
JOIN reached y ON y.order_id = x.order_id AND y.node = w.b
WHERE y.at >= x.at"""


def _reports_of(orders: str) -> str:
    return f"""INSERT INTO flow_reports
SELECT e.order_id, o.placed_at, o.channel, o.shop_id, e.source, e.system,
       e.outcome = 'late',
       coalesce(e.occurred_at < lag(e.occurred_at) OVER (
           PARTITION BY e.order_id, e.source ORDER BY e.seq), false),
       (epoch_us(e.recorded_at) - epoch_us(e.occurred_at)) / 1e6
FROM events e JOIN {orders} o ON o.id = e.order_id
WHERE e.outcome IS NOT NULL"""


def prepare(snapshot: Snapshot) -> None:
    """Bring the derived tables up to date with the snapshot: everything the first time (or
    after the snapshot started again), then only the orders with events past the last seen."""
    with _preparing, snapshot.cursor() as cur:
        cur.execute(_TABLES)
        row = cur.execute("SELECT value FROM snapshot_meta WHERE key = ?", [_SEEN]).fetchone()
        seen = int(row[0]) if row else None
        top_row = cur.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
        top = int(top_row[0]) if top_row else 0
        if seen == top:
            return
        cur.execute("BEGIN")
        try:
            if seen is None or seen > top:
                cur.execute("DELETE FROM flow_pairs")
                cur.execute("DELETE FROM flow_elapsed")
                cur.execute("DELETE FROM flow_reports")
                orders = "orders"
            else:
                cur.execute("CREATE OR REPLACE TEMP TABLE flow_touched AS "
                            "SELECT id, placed_at, channel, shop_id FROM orders WHERE id IN "
                            "(SELECT order_id FROM events WHERE seq > ?)", [seen])
                cur.execute("DELETE FROM flow_pairs WHERE order_id IN "
                            "(SELECT id FROM flow_touched)")
                cur.execute("DELETE FROM flow_reports WHERE order_id IN "
                            "(SELECT id FROM flow_touched)")
                cur.execute("DELETE FROM flow_elapsed WHERE order_id IN "
                            "(SELECT id FROM flow_touched)")
                orders = "flow_touched"
            cur.execute(_pairs_of(orders))
            cur.execute(_elapsed_of(orders))
            cur.execute(_reports_of(orders))
            cur.execute("INSERT OR REPLACE INTO snapshot_meta VALUES (?, ?)", [_SEEN, str(top)])
            cur.execute("COMMIT")
        except Exception:
            cur.execute("ROLLBACK")
            raise


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _where(f: FlowFilter, alias: str) -> tuple[str, dict[str, Any]]:
    """The filters on a table with the order's placed_at, channel, shop_id (and id as
    ``id_column``); '' when nothing is filtered."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if f.since is not None:
        where.append(f"{alias}.placed_at >= $since")
        params["since"] = _naive(f.since)
    if f.until is not None:
        where.append(f"{alias}.placed_at < $until")
        params["until"] = _naive(f.until)
    if f.channel is not None:
        where.append(f"{alias}.channel = $channel")
        params["channel"] = f.channel
    if f.shop_id is not None:
        where.append(f"{alias}.shop_id = $shop_id")
        params["shop_id"] = f.shop_id
    if f.sku is not None:
        column = "id" if alias == "o" else "order_id"
        where.append(f"{alias}.{column} IN (SELECT order_id FROM order_lines WHERE sku = $sku)")
        params["sku"] = f.sku
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def transitions(cur: Cursor, f: FlowFilter) -> list[Transition]:
    """Every edge that happened, busiest first (after ``prepare``)."""
    where, params = _where(f, "p")
    rows = cur.execute(f"""
SELECT from_node, to_node, count(*) AS n, quantile_cont(seconds, [0.5, 0.9, 0.99]) AS q,
       avg(seconds) AS mean
FROM flow_pairs p{where} GROUP BY from_node, to_node ORDER BY n DESC, from_node, to_node""",
                       params).fetchall()
    return [Transition(a, b, int(n), round(q[0], 3), round(q[1], 3), round(q[2], 3),
                       round(mean, 3)) for a, b, n, q, mean in rows]


def slowest(cur: Cursor, f: FlowFilter, from_node: str, to_node: str,
            limit: int) -> list[SlowOrder]:
    """The orders that took longest on one edge, slowest first (after ``prepare``)."""
    where, params = _where(f, "p")
    edge = "p.from_node = $from_node AND p.to_node = $to_node"
    rows = cur.execute(f"""
WITH slow AS (
    SELECT order_id, channel, seconds, from_at, to_at FROM flow_pairs p
    {where + " AND " + edge if where else " WHERE " + edge}
    ORDER BY seconds DESC, order_id LIMIT $limit)
SELECT s.order_id, o.external_id, s.channel, s.seconds, s.from_at, s.to_at
FROM slow s JOIN orders o ON o.id = s.order_id ORDER BY s.seconds DESC, s.order_id""",
                       {**params, "from_node": from_node, "to_node": to_node,
                        "limit": limit}).fetchall()
    return [SlowOrder(i, x, c, round(s, 3), a.replace(tzinfo=UTC), b.replace(tzinfo=UTC))
            for i, x, c, s, a, b in rows]


def sources(cur: Cursor, f: FlowFilter) -> list[SourceReports]:
    """Each reporting source: its reports' lag, late, duplicated and out-of-order ones
    (after ``prepare``)."""
    where, params = _where(f, "r")
    order_where, _ = _where(f, "o")
    dup_join = (f" JOIN (SELECT id FROM orders o{order_where}) o ON o.id = d.order_id"
                if order_where else "")
    rows = cur.execute(f"""WITH
per_source AS (
    SELECT source, mode(system) AS system, count(*) AS n,
           quantile_cont(lag, [0.5, 0.99]) AS q,
           count(*) FILTER (WHERE late) AS late,
           count(*) FILTER (WHERE out_of_order) AS out_of_order
    FROM flow_reports r{where} GROUP BY source
),
dups AS (
    SELECT d.source, count(*) AS n FROM duplicate_reports d{dup_join} GROUP BY d.source
)
SELECT coalesce(p.source, d.source), p.system, coalesce(p.n, 0), p.q, coalesce(p.late, 0),
       coalesce(d.n, 0), coalesce(p.out_of_order, 0)
FROM per_source p FULL JOIN dups d ON d.source = p.source
ORDER BY 3 DESC, 1""", params).fetchall()
    return [SourceReports(source, system or SOURCE_SYSTEM.get(source.lower(), "unknown"),
                          int(n), _seconds(q[0]) if q else None,
                          _seconds(q[1]) if q else None, int(late), int(dups), int(ooo))
            for source, system, n, q, late, dups, ooo in rows]


def elapsed(cur: Cursor, f: FlowFilter) -> list[Transition]:
    """The time from one node to a later one per order, for the pairs the business names
    ("ERP books orders on average 12 min after payment"): from the first time the order
    reached the first node to the first time it reached the second, whatever happened in
    between (the ERP may book after the stock was allocated: the board's edge is then
    allocated -> erp_booked, and this still measures from payment). After ``prepare``."""
    where, params = _where(f, "p")
    rows = cur.execute(f"""
SELECT from_node, to_node, count(*), quantile_cont(seconds, [0.5, 0.9, 0.99]), avg(seconds)
FROM flow_elapsed p{where} GROUP BY from_node, to_node ORDER BY from_node, to_node""",
                       params).fetchall()
    return [Transition(a, b, int(n), round(q[0], 3), round(q[1], 3), round(q[2], 3),
                       round(mean, 3)) for a, b, n, q, mean in rows]


def orders_count(cur: Cursor, f: FlowFilter) -> int:
    where, params = _where(f, "o")
    row = cur.execute(f"SELECT count(*) FROM orders o{where}", params).fetchone()
    return int(row[0]) if row else 0


def board(snapshot: Snapshot, f: FlowFilter) -> dict[str, Any]:
    """The whole board as the API sends it: edges, sources, findings, the order count and
    what the snapshot's last refresh loaded."""
    prepare(snapshot)
    with snapshot.cursor() as cur:
        edges = transitions(cur, f)
        reporting = sources(cur, f)
        orders = orders_count(cur, f)
        gaps = elapsed(cur, f)
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
        "elapsed": [
            {"from": t.from_node, "to": t.to_node, "count": t.count,
             "p50_seconds": t.p50_seconds, "p90_seconds": t.p90_seconds,
             "p99_seconds": t.p99_seconds, "mean_seconds": t.mean_seconds} for t in gaps],
        "findings": [x.as_dict() for x in findings(orders, edges, reporting, gaps)],
        "orders": orders,
        "snapshot": loaded.as_dict() if loaded is not None else None,
    }


def slowest_orders(snapshot: Snapshot, f: FlowFilter, from_node: str, to_node: str,
                   limit: int) -> list[dict[str, Any]]:
    prepare(snapshot)
    with snapshot.cursor() as cur:
        found = slowest(cur, f, from_node, to_node, limit)
    return [{"order_id": s.order_id, "external_id": s.external_id, "channel": s.channel,
             "seconds": s.seconds, "from_at": s.from_at.isoformat(),
             "to_at": s.to_at.isoformat()} for s in found]
