"""The event log with its outbox, the inbox, and durable timers, on SQLAlchemy Core.

Appending events and the state change share one transaction (the caller's connection).
Claims take a lease: PostgreSQL workers claim with FOR UPDATE SKIP LOCKED; SQLite claims inside
BEGIN IMMEDIATE, which already makes the claimer the only writer.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.driver_sql import DriverInsert, DriverQuery
from orderpilot.adapters.pg_wake import EVENTS, notify
from orderpilot.adapters.returns import record_step_times
from orderpilot.domain import lifecycle
from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.records import Claim, JsonObject, TimerRecord


@functools.cache
def _insert_ignore_statement(dialect_name: str, table: sa.Table,
                             columns: tuple[str, ...]) -> DriverQuery:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    first_key = table.primary_key.columns.values()[0]
    # RETURNING tells reliably whether a row went in (psycopg reports rowcount -1 here).
    return DriverQuery(dialect.insert(table).values({c: sa.bindparam(c) for c in columns})
                       .on_conflict_do_nothing().returning(first_key))


def insert_ignore(conn: Connection, table: sa.Table, row: Mapping[str, object]) -> bool:
    """Insert unless the key exists; True when this call inserted the row."""
    statement = _insert_ignore_statement(conn.dialect.name, table, tuple(row))
    return statement.first(conn, row) is not None


def event_from_row(r: Any) -> OrderEvent:
    return OrderEvent(order_id=r.order_id, type=r.type, source=r.source,
                      occurred_at=r.occurred_at, recorded_at=r.recorded_at,
                      payload=r.payload, source_event_id=r.source_event_id,
                      causation_id=r.causation_id, correlation_id=r.correlation_id,
                      system=r.system, id=r.id)


_INSERT_EVENTS = DriverInsert(t.events, (
    "id", "order_id", "type", "source", "system", "source_event_id", "occurred_at",
    "recorded_at", "causation_id", "correlation_id", "payload"))
_HAPPENED = sa.select(t.events.c.seq).where(
    t.events.c.order_id == sa.bindparam("order_id"),
    t.events.c.type == sa.bindparam("type")).limit(1)
_HAPPENED_SINCE = sa.select(t.events.c.seq).where(
    t.events.c.order_id == sa.bindparam("order_id"), t.events.c.type == sa.bindparam("type"),
    t.events.c.recorded_at >= sa.bindparam("since")).limit(1)
_COMPLETE = t.outbox.delete().where(t.outbox.c.seq.in_(sa.bindparam("seqs", expanding=True)),
                                    t.outbox.c.claimed_by == sa.bindparam("worker"))
DELIVERED = frozenset(e.type for e in lifecycle.EVENT_TYPES.values() if e.node == "delivered")


def record_delivered_at(conn: Connection, events: Iterable[OrderEvent]) -> None:
    """A delivered event being appended keeps its time on the order when it is the first
    (one conditional update: the earliest stays; late and out-of-order reports included)."""
    for event in events:
        if event.type in DELIVERED and event.order_id:
            conn.execute(t.orders.update().where(
                t.orders.c.id == event.order_id,
                sa.or_(t.orders.c.delivered_at.is_(None),
                       t.orders.c.delivered_at > event.occurred_at))
                .values(delivered_at=event.occurred_at))
_INSERT_OUTBOX = DriverInsert(t.outbox, ("event_id", "available_at", "order_id"))
_EVENTS_BY_ID = sa.select(t.events).where(t.events.c.id.in_(sa.bindparam("ids", expanding=True)))
_BY_SOURCE = sa.select(t.events).where(t.events.c.source == sa.bindparam("source"),
                                       t.events.c.source_event_id == sa.bindparam("ref"))


class EventLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, events: list[OrderEvent]) -> None:
        if not events:
            return
        _INSERT_EVENTS.run(self.conn, [
            {"id": e.id, "order_id": e.order_id, "type": e.type, "source": e.source,
             "system": e.system, "source_event_id": e.source_event_id,
             "occurred_at": e.occurred_at, "recorded_at": e.recorded_at,
             "causation_id": e.causation_id, "correlation_id": e.correlation_id,
             "payload": e.payload} for e in events])
        _INSERT_OUTBOX.run(self.conn, [
            {"event_id": e.id, "available_at": e.recorded_at, "order_id": e.order_id}
            for e in events])
        record_step_times(self.conn, events)  # the returns metrics' step times (0022)
        record_delivered_at(self.conn, events)  # the outcome KPIs' delivery time (0026)
        notify(self.conn, EVENTS)  # every process's dispatchers wake at the commit
        events.clear()

    def find_by_source(self, source: str, source_event_id: str) -> OrderEvent | None:
        row = self.conn.execute(_BY_SOURCE, {"source": source, "ref": source_event_id}).first()
        return None if row is None else event_from_row(row)

    def record_duplicate(self, source: str, source_event_id: str, order_id: str,
                         now: datetime) -> None:
        """A report already recorded came again: counted for the lifecycle board."""
        self.conn.execute(sa.insert(t.duplicate_reports).values(
            source=source, source_event_id=source_event_id, order_id=order_id, received_at=now))

    def of_type_since(self, event_type: str, since: datetime, limit: int) -> list[OrderEvent]:
        rows = self.conn.execute(sa.select(t.events).where(t.events.c.type == event_type,
                                                           t.events.c.recorded_at >= since)
                                 .order_by(t.events.c.seq).limit(limit))
        return [event_from_row(r) for r in rows]

    def happened_since(self, order_id: str | None, event_type: str,
                       since: datetime | None = None) -> bool:
        """Whether the order got an event of this type (at or after ``since``, if given)."""
        if since is None:
            return self.conn.execute(_HAPPENED, {"order_id": order_id, "type": event_type}
                                     ).first() is not None
        return self.conn.execute(_HAPPENED_SINCE, {"order_id": order_id, "type": event_type,
                                                   "since": since}).first() is not None

    def get_many(self, event_ids: list[str]) -> dict[str, OrderEvent]:
        if not event_ids:
            return {}
        rows = self.conn.execute(_EVENTS_BY_ID, {"ids": event_ids})
        return {r.id: event_from_row(r) for r in rows}


# status = 'pending' written as a literal, not a parameter: only then may PostgreSQL (even in
# a prepared statement's generic plan) and SQLite read the partial indexes of pending rows
# (migration 0033), walking the queue from its head instead of sorting all of it.
_PENDING: sa.ColumnElement[str] = sa.literal_column("'pending'")
_EARLIER = t.outbox.alias("earlier")
_FIRST_OF_ORDER = sa.or_(t.outbox.c.order_id.is_(None), ~sa.exists().where(
    _EARLIER.c.order_id == t.outbox.c.order_id, _EARLIER.c.seq < t.outbox.c.seq,
    _EARLIER.c.status == _PENDING))


class Outbox:
    """Pending deliveries of events to handlers."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def claim(self, worker: str, limit: int, lease: timedelta, now: datetime) -> list[Claim]:
        """Lease due rows. On PostgreSQL, where workers claim side by side, only an order's
        earliest pending row can be claimed: a later one waits until the earlier is delivered
        (deleted) or dead, so one order's events are never handled at once or out of order.
        SQLite's claimer is the only writer and handles its batch in order, in one go."""
        first_of_order = None if self.conn.dialect.name == "sqlite" else _FIRST_OF_ORDER
        return _claim(self.conn, t.outbox, t.outbox.c.available_at, worker, limit, lease, now,
                      id_column="event_id", only=first_of_order, pending=_PENDING)

    def complete_many(self, seqs: list[int | str], worker: str) -> None:
        if seqs:
            self.conn.execute(_COMPLETE, {"seqs": seqs, "worker": worker})

    def fail(self, seq: int | str, worker: str, error: str,
             retry_at: datetime | None) -> None:
        _release_failed(self.conn, t.outbox.c.seq == seq, t.outbox, "available_at", worker,
                        error, retry_at)

    def release_claims(self, worker: str) -> int:
        """Give back what this worker claimed and is no longer delivering (a failed cycle)."""
        return int(self.conn.execute(
            t.outbox.update().where(t.outbox.c.claimed_by == worker,
                                    t.outbox.c.status == "pending")
            .values(claimed_by=None, claimed_until=None)).rowcount)

    def retry_dead(self, now: datetime, event_id: str | None = None) -> int:
        query = t.outbox.update().where(t.outbox.c.status == "dead")
        if event_id is not None:
            query = query.where(t.outbox.c.event_id == event_id)
        return self.conn.execute(query.values(status="pending", available_at=now,
                                              attempts=0)).rowcount


class Inbox:
    """Which handler has already had its effect for which message."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def first_time(self, handler: str, message_id: str, now: datetime) -> bool:
        return insert_ignore(self.conn, t.inbox,
                             {"handler": handler, "message_id": message_id, "handled_at": now})


class Timers:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def schedule(self, key: str, kind: str, fire_at: datetime, payload: JsonObject,
                 now: datetime, order_id: str | None = None) -> bool:
        """Schedule once per key; scheduling the same key again changes nothing."""
        return insert_ignore(self.conn, t.timers, {
            "id": new_id(), "key": key, "kind": kind, "order_id": order_id, "fire_at": fire_at,
            "payload": payload, "status": "pending", "attempts": 0, "created_at": now})

    def cancel(self, key: str) -> bool:
        return self.conn.execute(t.timers.update().where(
            t.timers.c.key == key, t.timers.c.status == "pending")
            .values(status="cancelled")).rowcount == 1

    def cancel_prefix(self, prefix: str) -> int:
        """Cancel every pending timer whose key starts with ``prefix``."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return int(self.conn.execute(t.timers.update().where(
            t.timers.c.key.like(pattern, escape="\\"), t.timers.c.status == "pending")
            .values(status="cancelled")).rowcount)

    def claim(self, worker: str, limit: int, lease: timedelta, now: datetime) -> list[Claim]:
        return _claim(self.conn, t.timers, t.timers.c.fire_at, worker, limit, lease, now,
                      id_column="id", seq_column="id")

    def get(self, timer_id: str) -> TimerRecord | None:
        row = self.conn.execute(sa.select(t.timers).where(t.timers.c.id == timer_id)).first()
        return None if row is None else TimerRecord(*row)

    def complete(self, timer_id: str, worker: str, now: datetime) -> None:
        self.conn.execute(t.timers.update().where(t.timers.c.id == timer_id,
                                                  t.timers.c.claimed_by == worker)
                          .values(status="fired", fired_at=now, claimed_by=None,
                                  claimed_until=None))

    def fail(self, timer_id: str, worker: str, error: str, retry_at: datetime | None) -> None:
        _release_failed(self.conn, t.timers.c.id == timer_id, t.timers, "fire_at", worker,
                        error, retry_at)


def _release_failed(conn: Connection, which: Any, table: sa.Table, due_column: str,
                    worker: str, error: str, retry_at: datetime | None) -> None:
    """Give a failed claim back: due again at ``retry_at``, or dead when there is none."""
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None,
                              "attempts": table.c.attempts + 1, "last_error": error[:4000]}
    if retry_at is None:
        values["status"] = "dead"
    else:
        values[due_column] = retry_at
    conn.execute(table.update().where(which, table.c.claimed_by == worker).values(values))


def _claim(conn: Connection, table: sa.Table, due_column: sa.Column[Any], worker: str,
           limit: int, lease: timedelta, now: datetime, *, id_column: str,
           seq_column: str = "seq", only: Any = None,
           pending: Any = "pending") -> list[Claim]:
    # Built once per queue: built on every claim, the statement cost more CPU (building it,
    # then SQLAlchemy's cache key) than running it did, on PostgreSQL workers. Keyed by the
    # identity of ONLY and PENDING (module constants), checked on every hit.
    key = (table.name, due_column.name, id_column, seq_column, id(only), id(pending))
    built = _CLAIMS.get(key)
    if built is None or built[0] is not only or built[1] is not pending:
        built = _CLAIMS[key] = (only, pending, _claim_statement(
            table, due_column, id_column, seq_column, only, pending))
    statement = built[2]
    rows = conn.execute(statement, {"now": now, "until": now + lease, "worker": worker,
                                    "limit": limit}).all()
    return sorted((Claim(r[0], r[1], r[2]) for r in rows), key=lambda c: c.seq)


_CLAIMS: dict[tuple[object, ...], tuple[Any, Any, Any]] = {}


def _claim_statement(table: sa.Table, due_column: sa.Column[Any], id_column: str,
                     seq_column: str, only: Any, pending: Any) -> Any:
    seq = table.c[seq_column]
    now = sa.bindparam("now", type_=due_column.type)
    due = (sa.select(seq)
           .where(table.c.status == pending, due_column <= now,
                  sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
                  *([] if only is None else [only]))
           .order_by(due_column, seq).limit(sa.bindparam("limit", type_=sa.Integer))
           .with_for_update(skip_locked=True))
    return (table.update().where(seq.in_(due.scalar_subquery()))
            .values(claimed_by=sa.bindparam("worker", type_=sa.String),
                    claimed_until=sa.bindparam("until", type_=table.c.claimed_until.type))
            .returning(seq, table.c[id_column], table.c.attempts))
