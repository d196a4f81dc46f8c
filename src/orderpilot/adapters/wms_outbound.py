"""The WMS outbound-order queue on SQLAlchemy Core (table in tables_wms_outbound.py)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters.outbox import insert_ignore
from orderpilot.adapters.tables_wms_outbound import wms_checks as c
from orderpilot.adapters.tables_wms_outbound import wms_outbound as w


class WmsOutboundRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def make_due(self, order_id: str, now: datetime) -> bool:
        """Queue the order's outbound push once; False when it was queued before."""
        return insert_ignore(self.conn, w, {"order_id": order_id, "status": "due",
                                            "due_at": now, "attempts": 0})

    def claim(self, now: datetime, lease: timedelta, limit: int) -> list[tuple[str, int]]:
        """Due rows whose time has come and no live lease holds: (order id, attempts so far)."""
        return _claim(self.conn, w, now, lease, limit)

    def sent(self, order_id: str, now: datetime, answer: Any) -> None:
        self.conn.execute(_SENT, {"oid": order_id, "at": now, "reply": answer})

    def failed(self, order_id: str, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: due again at RETRY_AT, or ``failed`` for good when None."""
        values: dict[str, Any] = {"attempts": w.c.attempts + 1, "claimed_until": None,
                                  "last_error": error[:1000]}
        if retry_at is None:
            values["status"] = "failed"
        else:
            values["due_at"] = retry_at
        self.conn.execute(w.update().where(w.c.order_id == order_id).values(values))

    def requeue(self, order_id: str, now: datetime) -> bool:
        """A push that gave up (``failed``) due again now, with its attempts counted afresh;
        False when the order's push is not failed (sent meanwhile, or never queued)."""
        return bool(self.conn.execute(w.update().where(
            w.c.order_id == order_id, w.c.status == "failed").values(
            status="due", due_at=now, attempts=0, claimed_until=None)).rowcount)

    def withdraw(self, order_id: str, now: datetime, *, leased: bool = False) -> str:
        """Take back an outbound order that has not gone to the WMS (the order was
        cancelled): ``withdrawn`` (now or before), ``none`` (never queued), ``sent`` (the WMS
        has it) or ``in_flight`` (a pusher holds its lease: it may be on the way now).
        LEASED: the caller is the pusher that holds the lease."""
        free = sa.true() if leased else sa.or_(w.c.claimed_until.is_(None),
                                               w.c.claimed_until <= now)
        taken = self.conn.execute(w.update().where(
            w.c.order_id == order_id, w.c.status.in_(("due", "failed")), free)
            .values(status="withdrawn", claimed_until=None)).rowcount
        if taken:
            return "withdrawn"
        row = self.conn.execute(sa.select(w.c.status).where(w.c.order_id == order_id)).first()
        if row is None:
            return "none"
        return row.status if row.status in ("sent", "withdrawn") else "in_flight"

    def defer(self, order_id: str, until: datetime) -> None:
        """Not now: due again at UNTIL (an attempt not counted)."""
        self.conn.execute(w.update().where(w.c.order_id == order_id, w.c.status == "due")
                          .values(due_at=until, claimed_until=None))

    def status(self, order_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(sa.select(w).where(w.c.order_id == order_id)).first()
        return dict(row._mapping) if row else None

    # -- status checks (services/wms_checks.py) ---------------------------------------------

    def check_due(self, order_id: str, at: datetime) -> bool:
        """Queue the order's status check once, due AT; False when it was queued before."""
        return insert_ignore(self.conn, c, {"order_id": order_id, "status": "due",
                                            "due_at": at, "attempts": 0, "recovered": 0})

    def claim_checks(self, now: datetime, lease: timedelta,
                     limit: int) -> list[tuple[str, int]]:
        """Due checks whose time has come and no live lease holds: (order id, attempts)."""
        return _claim(self.conn, c, now, lease, limit)

    def check_done(self, order_id: str, now: datetime, outcome: str, recovered: int) -> None:
        self.conn.execute(c.update().where(c.c.order_id == order_id).values(
            status="done", checked_at=now, outcome=outcome, recovered=recovered,
            claimed_until=None, attempts=c.c.attempts + 1, last_error=None))

    def check_again(self, order_id: str, at: datetime, error: str) -> None:
        """A check that could not settle (the WMS did not answer, or not yet): due at AT."""
        self.conn.execute(c.update().where(c.c.order_id == order_id).values(
            due_at=at, claimed_until=None, attempts=c.c.attempts + 1,
            last_error=error[:1000]))

    def check_counts(self) -> dict[str, int]:
        """Checks by outcome (``due`` for those not settled yet)."""
        found = self.conn.execute(sa.select(sa.func.coalesce(c.c.outcome, c.c.status),
                                            sa.func.count()).group_by(
            sa.func.coalesce(c.c.outcome, c.c.status))).all()
        return {str(k): int(n) for k, n in found}


# (an update's parameters may not take a column's name)
_SENT = w.update().where(w.c.order_id == sa.bindparam("oid")).values(
    status="sent", sent_at=sa.bindparam("at", type_=w.c.sent_at.type), claimed_until=None,
    answer=sa.bindparam("reply", type_=w.c.answer.type), attempts=w.c.attempts + 1,
    last_error=None)


def _claim(conn: Connection, table: sa.Table, now: datetime, lease: timedelta,
           limit: int) -> list[tuple[str, int]]:
    """TABLE's due rows whose time has come and no live lease holds, leased to the caller.
    A row another claimer leased between the look-up and the lease is not leased again: the
    lease takes only a row still due and unleased (PostgreSQL re-reads a row a concurrent
    update changed), and only the rows leased here are returned."""
    due, lease_one = _claim_statements(table)
    rows = conn.execute(due, {"now": now, "limit": limit}).all()
    return [(order_id, attempts) for order_id, attempts in rows
            if conn.execute(lease_one, {"oid": order_id, "now": now,
                                        "until": now + lease}).rowcount == 1]


@functools.cache
def _claim_statements(table: sa.Table) -> tuple[Any, Any]:
    """Built once per table (statements built per call cost more client CPU than they take to
    run): the due rows, and the lease of one."""
    col = table.c
    now = sa.bindparam("now", type_=col.due_at.type)
    free = sa.or_(col.claimed_until.is_(None), col.claimed_until <= now)
    due = (sa.select(col.order_id, col.attempts).where(col.status == "due", col.due_at <= now,
                                                      free)
           .order_by(col.due_at, col.order_id).limit(sa.bindparam("limit", type_=sa.Integer)))
    lease_one = table.update().where(col.order_id == sa.bindparam("oid"), col.status == "due",
                                     free).values(
        claimed_until=sa.bindparam("until", type_=col.claimed_until.type))
    return due, lease_one
