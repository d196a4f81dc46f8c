"""What the surge counts in the database and the simulators' logs: effects that must happen
once, the backlog left, the rule's event-to-action times."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.benchmarks.scratch import Scratch

# (inventory.allocated is not among them: an order reserved on placing records it when the
# stock is taken and again when payment moves the order to allocated, by design.)
ONCE_PER_ORDER = ("order.placed", "payment.succeeded", "shipment.shipped")


def engine(scratch: Scratch) -> sa.Engine:
    url = scratch.database_url or f"sqlite:///{scratch.data_dir / 'orderpilot.db'}"
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def backlog(conn: sa.Connection) -> dict[str, int]:
    """What is left to do: events not delivered, rule runs not finished, outbound orders not
    sent (empty: drained)."""
    left = {
        "events": conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one(),
        "rule_runs": conn.execute(sa.select(sa.func.count()).select_from(t.rule_runs).where(
            t.rule_runs.c.status == "pending")).scalar_one(),
        "wms_outbound": conn.execute(sa.select(sa.func.count()).select_from(t.wms_outbound)
                                     .where(t.wms_outbound.c.status == "due")).scalar_one(),
    }
    return {k: int(v) for k, v in left.items() if v}


def _over_one(conn: sa.Connection, *columns: Any, where: Any = None) -> int:
    """Rows beyond the first per group of COLUMNS."""
    table = columns[0].table
    grouped = sa.select(sa.func.count().label("n")).select_from(table) \
        .where(sa.true() if where is None else where).group_by(*columns).subquery()
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(grouped.c.n - 1), 0))
                            .where(grouped.c.n > 1)).scalar_one())


def duplicated(conn: sa.Connection) -> dict[str, int]:
    """Effects beyond one where there must be one: orders per storefront number, events per
    source report, allocated units beyond the line's quantity, rule runs per order (the rule
    triggers once, on the payment), rule steps done per run."""
    held = t.allocations.c.status.in_(("active", "consumed"))
    per_line = sa.select(t.allocations.c.order_id, t.allocations.c.line_no,
                         sa.func.sum(t.allocations.c.quantity).label("units")) \
        .where(held, t.allocations.c.promotion_id.is_(None)) \
        .group_by(t.allocations.c.order_id, t.allocations.c.line_no).subquery()
    over_allocated = conn.execute(
        sa.select(sa.func.count()).select_from(per_line.join(
            t.order_lines, sa.and_(t.order_lines.c.order_id == per_line.c.order_id,
                                   t.order_lines.c.line_no == per_line.c.line_no)))
        .where(per_line.c.units > t.order_lines.c.quantity)).scalar_one()
    return {
        "orders": _over_one(conn, t.orders.c.channel, t.orders.c.shop_id,
                            t.orders.c.external_id),
        "events": _over_one(conn, t.events.c.order_id, t.events.c.source,
                            t.events.c.source_event_id,
                            where=t.events.c.source_event_id.is_not(None)),
        **{f"events_per_order:{kind}": _over_one(conn, t.events.c.order_id, t.events.c.type,
                                                 where=t.events.c.type == kind)
           for kind in ONCE_PER_ORDER},
        "allocated_lines": int(over_allocated),
        "rule_runs": _over_one(conn, t.rule_runs.c.rule_id, t.rule_runs.c.order_id),
        "rule_steps": _over_one(conn, t.rule_attempts.c.run_id, t.rule_attempts.c.step_no,
                                where=t.rule_attempts.c.status == "ok"),
    }


def simulator_duplicates(sim: str) -> dict[str, int]:
    """Outside effects done more than once: the simulators keep one record per idempotency key
    (a resend under the same key is the receiver's to drop, as the hub's contract says), so a
    second record for one order's outbound order, or for one rule step, is a real double."""
    with httpx.Client(base_url=sim, timeout=60) as http:
        wms = http.get("/_sim/wms/requests").json()["requests"]
        customs = http.get("/_sim/customs/requests").json()["requests"]
    outbound = Counter(str((r.get("body") or {}).get("order_id")) for r in wms
                       if r["path"].endswith("/outbound-orders") and r["status_code"] < 300)
    steps = Counter(str(r["idempotency_key"]) for r in customs if r["status_code"] < 300)
    return {"wms_outbound_orders": sum(n - 1 for n in outbound.values() if n > 1),
            "customs_checks": sum(n - 1 for n in steps.values() if n > 1),
            "customs_checks_per_order": _customs_per_order(customs)}


def _customs_per_order(records: list[dict[str, Any]]) -> int:
    """The rule checks each order once: more than one acted check naming one order is a
    double, whatever its key."""
    per_order = Counter(str((r.get("body") or {}).get("order_no")
                            or (r.get("body") or {}).get("order_id")) for r in records
                        if r["status_code"] < 300)
    per_order.pop("None", None)
    per_order.pop("", None)
    return sum(n - 1 for n in per_order.values() if n > 1)


def event_to_action_ms(conn: sa.Connection) -> list[float]:
    """Per rule run: from the payment's recording to its first step (the customs check) done,
    sorted."""
    rows = conn.execute(
        sa.select(t.rule_runs.c.event_recorded_at, t.rule_attempts.c.finished_at)
        .join(t.rule_runs, t.rule_runs.c.id == t.rule_attempts.c.run_id)
        .where(t.rule_attempts.c.step_no == 0, t.rule_attempts.c.status == "ok")).all()
    return sorted((done - recorded).total_seconds() * 1000 for recorded, done in rows
                  if recorded is not None and done is not None)


def rule_runs(conn: sa.Connection) -> dict[str, int]:
    return {str(k): int(v) for k, v in conn.execute(
        sa.select(t.rule_runs.c.status, sa.func.count()).group_by(t.rule_runs.c.status))}
