"""The outbox claim reads the queue's head, not the whole queue (migration 0033).

Under ``bench ingest --workers 2`` on PostgreSQL a claim once took 34-685 ms: it fetched every
due row, sorted them, and for each one scanned all pending rows of ``ix_outbox_due`` to learn
whether an earlier event of the same order was still pending. These tests hold the claim to
the partial indexes of pending rows: the statement names ``status = 'pending'`` as a literal
(a parameter would keep a prepared statement's generic plan off the partial indexes), and on
PostgreSQL the "earlier event pending?" check is one probe of ``ix_outbox_pending_order``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import Outbox
from orderpilot.bootstrap import Hub

ORDERS = 1500


def _fill(hub: Hub) -> None:
    """Two pending events for each of ORDERS orders, all due."""
    now = hub.clock()
    rows = [{"event_id": f"e-{n}-{k}", "status": "pending", "attempts": 0,
             "available_at": now - timedelta(minutes=5), "order_id": f"o-{n}"}
            for n in range(ORDERS) for k in (0, 1)]
    with hub.db.write() as conn:
        conn.execute(t.outbox.insert(), rows)
    if not hub.db.is_sqlite:
        with hub.db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "ANALYZE outbox")


def _claim_sql(hub: Hub) -> tuple[str, Any]:
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, params: Any, _context: Any,
             _many: bool) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
            seen.append((statement, params))

    sa.event.listen(hub.db.engine, "before_cursor_execute", keep)
    try:
        with hub.db.write() as conn:
            claims = Outbox(conn).claim("w1", 20, timedelta(minutes=1), hub.clock())
    finally:
        sa.event.remove(hub.db.engine, "before_cursor_execute", keep)
    assert len(claims) == 20
    assert len(seen) == 1
    return seen[0]


def test_the_claim_names_pending_as_a_literal(hub: Hub) -> None:
    _fill(hub)
    statement, params = _claim_sql(hub)
    flat = " ".join(statement.split())
    # the queue's head, and (PostgreSQL) the earlier-event check, both say it literally
    expected = 1 if hub.db.is_sqlite else 2
    assert flat.count("status = 'pending'") == expected, flat
    assert "pending" not in [v for v in (params.values() if isinstance(params, dict)
                                         else params)]


def test_postgresql_checks_an_earlier_event_with_one_index_probe(hub: Hub) -> None:
    if hub.db.is_sqlite:
        return  # SQLite's claimer is the only writer and does not make this check
    _fill(hub)
    statement, params = _claim_sql(hub)
    with hub.db.engine.connect() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, params))
        conn.rollback()
    assert "ix_outbox_pending_order" in plan, plan
    assert "BitmapAnd" not in plan, plan
