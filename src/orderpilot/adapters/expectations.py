"""Expectations and their breaches on SQLAlchemy Core (tables in tables_expectations.py), and
the few look-ups the live path makes in one order's events."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import insert_ignore
from orderpilot.adapters.tables_expectations import expectation_breaches as b
from orderpilot.adapters.tables_expectations import expectations as x
from orderpilot.domain.expectation_records import Breach, StoredExpectation
from orderpilot.domain.expectations import Expectation, parse_condition
from orderpilot.services.unit_of_work import SharedReads, shared_or_fresh

# Read for every event type a batch holds: built once (statements built per call cost more
# client CPU than they take to run).
_WATCHING = sa.select(x).where(
    x.c.enabled.is_(True),
    sa.or_(x.c.after_type == sa.bindparam("type"), x.c.expect_type == sa.bindparam("type"))
).order_by(x.c.code)

OPENED, CLOSED = "erp.receivable_opened", "erp.receivable_closed"


def _expectation(r: Any) -> StoredExpectation:
    return StoredExpectation(
        Expectation(r.code, r.name_zh, r.name_en, r.after_type, r.expect_type, r.within_minutes,
                    r.source, parse_condition(r.condition), r.severity, r.enabled),
        r.version, r.created_at, r.created_by, r.updated_at, r.updated_by, r.evaluated_at,
        r.retroactive_count)


def _breach(r: Any) -> Breach:
    return Breach(r.id, r.code, r.order_id, r.after_event_id, r.after_at, r.due_at,
                  r.resolved_at, r.late_by_seconds, r.status, r.amount_at_risk_cents,
                  r.currency, r.recorded_at)


def amount_cents(payload: Any) -> int:
    """``data.amount`` of a receivable report in cents; 0 when it gives none."""
    data = payload.get("data") if isinstance(payload, dict) else None
    raw = data.get("amount") if isinstance(data, dict) else None
    try:
        value = Decimal(str(raw)) if raw is not None else Decimal(0)
    except InvalidOperation:
        return 0
    return int((value * 100).to_integral_value()) if value.is_finite() else 0


class ExpectationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.shared: SharedReads | None = None  # the dispatcher's batch (SharedReads)

    def watching(self, event_type: str) -> list[Expectation]:
        """The enabled expectations whose A or B is EVENT_TYPE (read for every event, so an
        event no expectation names costs one empty look-up and no parsing)."""
        def read() -> list[Expectation]:
            rows = self.conn.execute(_WATCHING, {"type": event_type})
            return [_expectation(r).expectation for r in rows]

        return list(shared_or_fresh(self.shared, ("expectations.watching", event_type), read,
                                    lasting=True))

    def get(self, code: str) -> StoredExpectation | None:
        row = self.conn.execute(sa.select(x).where(x.c.code == code)).first()
        return None if row is None else _expectation(row)

    def listing(self) -> list[StoredExpectation]:
        return [_expectation(r) for r in self.conn.execute(sa.select(x).order_by(x.c.code))]

    def put(self, expectation: Expectation, by: str, now: datetime) -> int:
        """Create or replace; returns the new version (1 for a new code)."""
        if self.shared is not None:
            self.shared.forget()
        values = {"name_zh": expectation.name_zh, "name_en": expectation.name_en,
                  "after_type": expectation.after, "expect_type": expectation.expect,
                  "within_minutes": expectation.within_minutes, "source": expectation.source,
                  "condition": expectation.condition.as_list(),
                  "severity": expectation.severity, "enabled": expectation.enabled,
                  "updated_at": now, "updated_by": by[:100]}
        current = self.conn.execute(sa.select(x.c.version).where(
            x.c.code == expectation.code)).scalar()
        if current is None:
            self.conn.execute(x.insert().values(code=expectation.code, version=1,
                                                created_at=now, created_by=by[:100], **values))
            return 1
        self.conn.execute(x.update().where(x.c.code == expectation.code, x.c.version == current)
                          .values(version=current + 1, **values))
        return int(current) + 1

    def evaluated(self, code: str, count: int, now: datetime) -> None:
        self.conn.execute(x.update().where(x.c.code == code).values(evaluated_at=now,
                                                                    retroactive_count=count))

    def add_breach(self, breach: Breach) -> bool:
        return insert_ignore(self.conn, b, breach._asdict())

    def open_breaches(self, code: str, order_id: str, until: datetime) -> list[Breach]:
        rows = self.conn.execute(sa.select(b).where(
            b.c.code == code, b.c.order_id == order_id, b.c.status == "open",
            b.c.after_at <= until))
        return [_breach(r) for r in rows]

    def resolve(self, breach_id: str, resolved_at: datetime, late_by_seconds: int) -> None:
        self.conn.execute(b.update().where(b.c.id == breach_id, b.c.status == "open").values(
            status="resolved_late", resolved_at=resolved_at, late_by_seconds=late_by_seconds))

    def close_open(self, code: str) -> int:
        return int(self.conn.execute(b.update().where(b.c.code == code, b.c.status == "open")
                                     .values(status="closed")).rowcount)

    def breaches(self, code: str | None, status: str | None, limit: int) -> list[Breach]:
        query = sa.select(b)
        if code is not None:
            query = query.where(b.c.code == code)
        if status is not None:
            query = query.where(b.c.status == status)
        rows = self.conn.execute(query.order_by(b.c.due_at.desc(), b.c.id).limit(limit))
        return [_breach(r) for r in rows]

    def open_counts(self) -> dict[str, tuple[int, dict[str, int]]]:
        """Per code: open breaches, and their amount at risk per currency in cents."""
        rows = self.conn.execute(
            sa.select(b.c.code, b.c.currency, sa.func.count(), sa.func.sum(
                b.c.amount_at_risk_cents)).where(b.c.status == "open")
            .group_by(b.c.code, b.c.currency))
        counts: dict[str, tuple[int, dict[str, int]]] = {}
        for code, currency, number, cents in rows:
            total, amounts = counts.get(code, (0, {}))
            counts[code] = (total + int(number), {**amounts, currency: int(cents or 0)})
        return counts

    def first_after(self, order_id: str, event_type: str, since: datetime,
                    source: str | None) -> datetime | None:
        """When the first EVENT_TYPE at or after SINCE happened (from SOURCE, a system or a
        source name, when given)."""
        e = t.events
        query = sa.select(sa.func.min(e.c.occurred_at)).where(
            e.c.order_id == order_id, e.c.type == event_type, e.c.occurred_at >= since)
        if source is not None:
            query = query.where(sa.or_(sa.func.lower(e.c.source) == source,
                                       e.c.system == source))
        found: datetime | None = self.conn.execute(query).scalar()
        return found

    def after_event_ids(self, order_id: str, event_type: str, until: datetime) -> list[str]:
        e = t.events
        return list(self.conn.execute(sa.select(e.c.id).where(
            e.c.order_id == order_id, e.c.type == event_type,
            e.c.occurred_at <= until)).scalars())

    def open_receivable_cents(self, order_id: str) -> int:
        """Receivables opened minus closed for the order (``data.amount``), never below 0."""
        e = t.events
        rows = self.conn.execute(sa.select(e.c.type, e.c.payload).where(
            e.c.order_id == order_id, e.c.type.in_((OPENED, CLOSED))))
        total = sum(amount_cents(p) * (1 if kind == OPENED else -1) for kind, p in rows)
        return max(total, 0)
