"""Webhook subscriptions and deliveries on SQLAlchemy Core (tables in tables_webhooks.py).

Claims take a lease: PostgreSQL senders claim with FOR UPDATE SKIP LOCKED, so two processes
never hold one delivery; SQLite claims inside BEGIN IMMEDIATE (the only writer). A delivery is
claimable only when no earlier delivery of the same subscription and order is still pending:
one order's deliveries go out in event order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters.outbox import insert_ignore
from orderpilot.adapters.pg_wake import WEBHOOKS, notify
from orderpilot.adapters.tables_webhooks import nats_relay as r
from orderpilot.adapters.tables_webhooks import webhook_attempts as a
from orderpilot.adapters.tables_webhooks import webhook_deliveries as d
from orderpilot.adapters.tables_webhooks import webhook_subscriptions as s
from orderpilot.services.unit_of_work import SharedReads, shared_or_fresh

SHOWN = [s.c.id, s.c.url, s.c.events, s.c.description, s.c.status, s.c.created_at,
         s.c.created_by]  # never the secret
LOGGED = [c for c in d.c if c.name not in ("claimed_by",)]
OUTCOMES = {"delivered": "delivered", "pending": "retry", "dead": "dead"}  # status -> outcome
_ACTIVE = sa.select(s.c.id, s.c.events).where(s.c.status == "active").order_by(s.c.id)


class WebhookRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.shared: SharedReads | None = None  # the dispatcher's batch (SharedReads)

    # -- subscriptions -----------------------------------------------------------------------

    def add_subscription(self, row: dict[str, Any]) -> None:
        self._changed()
        self.conn.execute(s.insert().values(row))

    def _changed(self) -> None:
        if self.shared is not None:
            self.shared.forget()

    def subscriptions(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(sa.select(*SHOWN).order_by(s.c.created_at, s.c.id))
        return [dict(r._mapping) for r in rows]

    def subscription(self, subscription_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(sa.select(*SHOWN).where(s.c.id == subscription_id)).first()
        return dict(row._mapping) if row else None

    def active(self) -> list[tuple[str, list[str]]]:
        """Every active subscription: (id, the event types it wants)."""
        def read() -> list[tuple[str, list[str]]]:
            rows = self.conn.execute(_ACTIVE)
            return [(r.id, list(r.events)) for r in rows]

        return [(i, list(events)) for i, events in
                shared_or_fresh(self.shared, ("webhooks.active",), read, lasting=True)]

    def set_status(self, subscription_id: str, status: str) -> bool:
        self._changed()
        return bool(self.conn.execute(s.update().where(s.c.id == subscription_id)
                                      .values(status=status)).rowcount)

    # -- deliveries --------------------------------------------------------------------------

    def enqueue(self, row: dict[str, Any]) -> bool:
        """One delivery per subscription and event; False when it was queued before."""
        queued = insert_ignore(self.conn, d, row)
        if queued:  # the senders of every process wake at the commit
            notify(self.conn, WEBHOOKS)
        return queued

    def claim(self, worker: str, now: datetime, lease: timedelta,
              limit: int) -> list[dict[str, Any]]:
        """Due deliveries no live lease holds, of active subscriptions, with no earlier pending
        delivery of the same order, leased to WORKER: id, body, event type, attempts, url,
        secret."""
        earlier = d.alias("earlier")
        blocked = sa.exists().where(
            earlier.c.subscription_id == d.c.subscription_id,
            earlier.c.order_key == d.c.order_key, earlier.c.status == "pending",
            earlier.c.seq < d.c.seq)
        due = (sa.select(d.c.seq)
               .where(d.c.status == "pending", d.c.due_at <= now,
                      sa.or_(d.c.claimed_until.is_(None), d.c.claimed_until < now),
                      d.c.subscription_id.in_(sa.select(s.c.id).where(s.c.status == "active")),
                      sa.or_(d.c.order_key == "", ~blocked))
               .order_by(d.c.due_at, d.c.seq).limit(limit)
               .with_for_update(skip_locked=True, of=d))
        seqs = [r[0] for r in self.conn.execute(
            d.update().where(d.c.seq.in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_until=now + lease).returning(d.c.seq))]
        if not seqs:
            return []
        rows = self.conn.execute(
            sa.select(d.c.id, d.c.seq, d.c.body, d.c.event_type, d.c.attempts, s.c.url,
                      s.c.secret)
            .join(s, s.c.id == d.c.subscription_id).where(d.c.seq.in_(seqs))
            .order_by(d.c.seq))
        return [dict(r._mapping) for r in rows]

    def record(self, delivery_id: str, worker: str, now: datetime, *, status: str,
               retry_at: datetime | None, attempt: dict[str, Any]) -> bool:
        """An attempt's outcome, when WORKER still holds the lease: STATUS ``delivered``,
        ``dead`` or ``pending`` (then due again at RETRY_AT). ATTEMPT: request_headers,
        response_status, response_body, last_error, duration_ms."""
        values: dict[str, Any] = {
            **attempt, "status": status, "attempts": d.c.attempts + 1, "claimed_by": None,
            "claimed_until": None, "last_attempt_at": now,
            "first_attempt_at": sa.func.coalesce(d.c.first_attempt_at, now)}
        if status == "delivered":
            values["delivered_at"] = now
        if retry_at is not None:
            values["due_at"] = retry_at
        recorded = self.conn.execute(d.update().where(
            d.c.id == delivery_id, d.c.claimed_by == worker, d.c.status == "pending")
            .values(values).returning(d.c.replays)).first()
        if recorded is None:  # the lease was lost: another sender owns the delivery now
            return False
        took = attempt.get("duration_ms")
        self.conn.execute(a.insert().values(
            delivery_id=delivery_id, replay=recorded.replays,
            attempted_at=now - timedelta(milliseconds=took or 0), duration_ms=took,
            response_status=attempt.get("response_status"),
            response_body=attempt.get("response_body"), error=attempt.get("last_error"),
            outcome=OUTCOMES[status]))
        return True

    def prune_delivered(self, before: datetime, limit: int) -> int:
        """Forget deliveries delivered before BEFORE, with their attempts (at most LIMIT per
        call; the oldest first). Pending and dead ones stay: they still need someone."""
        ids = list(self.conn.execute(
            sa.select(d.c.id).where(d.c.status == "delivered", d.c.due_at < before,
                                    d.c.delivered_at < before)
            .order_by(d.c.seq).limit(limit)).scalars())
        if ids:
            self.conn.execute(a.delete().where(a.c.delivery_id.in_(ids)))
            self.conn.execute(d.delete().where(d.c.id.in_(ids)))
        return len(ids)

    def attempts(self, delivery_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """Every attempt of each delivery, oldest first (one query for a page of them)."""
        found: dict[str, list[dict[str, Any]]] = {i: [] for i in delivery_ids}
        if delivery_ids:
            for row in self.conn.execute(sa.select(a).where(a.c.delivery_id.in_(delivery_ids))
                                         .order_by(a.c.seq)):
                found[row.delivery_id].append(dict(row._mapping))
        return found

    def replay(self, delivery_id: str, now: datetime) -> str | None:
        """A dead or delivered delivery sent again from the first attempt: its status before
        (``dead``, ``delivered``), ``pending`` when it is still on its way, None if unknown."""
        row = self.conn.execute(sa.select(d.c.status).where(d.c.id == delivery_id)).first()
        if row is None or row.status == "pending":
            return None if row is None else "pending"
        self.conn.execute(d.update().where(d.c.id == delivery_id, d.c.status == row.status)
                          .values(status="pending", due_at=now, attempts=0, claimed_by=None,
                                  claimed_until=None, replays=d.c.replays + 1))
        notify(self.conn, WEBHOOKS)
        return str(row.status)

    def deliveries(self, subscription_id: str, *, status: str | None = None,
                   before_seq: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The subscription's deliveries, newest first."""
        query = sa.select(*LOGGED).where(d.c.subscription_id == subscription_id)
        if status is not None:
            query = query.where(d.c.status == status)
        if before_seq is not None:
            query = query.where(d.c.seq < before_seq)
        rows = self.conn.execute(query.order_by(d.c.seq.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]

    def delivery(self, delivery_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(sa.select(*LOGGED).where(d.c.id == delivery_id)).first()
        return dict(row._mapping) if row else None

    def counts(self) -> dict[str, int]:
        """Deliveries by status, over every subscription (the metrics, the console)."""
        rows = self.conn.execute(sa.select(d.c.status, sa.func.count()).group_by(d.c.status))
        return {str(k): int(n) for k, n in rows}


class RelayQueue:
    """The NATS relay's queue (table ``nats_relay``): rows leave once JetStream acked them."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, event_id: str, subject: str, body: str) -> bool:
        return insert_ignore(self.conn, r, {"event_id": event_id, "subject": subject,
                                            "body": body, "attempts": 0})

    def claim(self, now: datetime, lease: timedelta, limit: int) -> list[dict[str, Any]]:
        """The oldest waiting events no live lease holds, in the order they were queued."""
        due = (sa.select(r.c.seq)
               .where(sa.or_(r.c.claimed_until.is_(None), r.c.claimed_until < now))
               .order_by(r.c.seq).limit(limit).with_for_update(skip_locked=True))
        seqs = [row[0] for row in self.conn.execute(
            r.update().where(r.c.seq.in_(due.scalar_subquery()))
            .values(claimed_until=now + lease).returning(r.c.seq))]
        if not seqs:
            return []
        rows = self.conn.execute(sa.select(r.c.seq, r.c.event_id, r.c.subject, r.c.body)
                                 .where(r.c.seq.in_(seqs)).order_by(r.c.seq))
        return [dict(row._mapping) for row in rows]

    def published(self, seqs: list[int]) -> None:
        if seqs:
            self.conn.execute(r.delete().where(r.c.seq.in_(seqs)))

    def failed(self, seqs: list[int], error: str) -> None:
        if seqs:
            self.conn.execute(r.update().where(r.c.seq.in_(seqs)).values(
                claimed_until=None, attempts=r.c.attempts + 1, last_error=error[:1000]))

    def waiting(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(r)).scalar_one())
