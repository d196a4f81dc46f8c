"""The back office's storage: bookings claimed with a lease, and the ERP settings.

Claims work like the outbox's: PostgreSQL workers claim with FOR UPDATE SKIP LOCKED; SQLite
claims inside BEGIN IMMEDIATE, which already makes the claimer the only writer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.outbox import insert_ignore
from orderpilot.domain.records import JsonObject
from orderpilot.services.back_office.store import (
    BOOKED,
    QUEUED,
    STATUSES,
    STOPPED,
    Booking,
    BookingView,
)

bk, st = t.erp_bookings, t.erp_settings
_ORDER_OF_BILL = sa.select(bk.c.order_id).where(bk.c.bill_no == sa.bindparam("bill_no"))


def _free(now: datetime) -> Any:
    return sa.or_(bk.c.claimed_until.is_(None), bk.c.claimed_until < now)


class BackOfficeRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def queue(self, order_id: str, bill_no: str, now: datetime, *,
              stopped: str | None = None) -> bool:
        """Queue the order's bill (once per order); STOPPED: stored stopped, with that
        reason (staff must look at it first)."""
        return insert_ignore(self.conn, bk, {
            "order_id": order_id, "bill_no": bill_no, "status": STOPPED if stopped else QUEUED,
            "attempts": 0, "due_at": now, "last_error": stopped, "created_at": now,
            "updated_at": now})

    def bill_taken_by(self, bill_no: str) -> str | None:
        return self.order_of_bill(bill_no)

    def order_of_bill(self, bill_no: str) -> str | None:
        found = self.conn.execute(_ORDER_OF_BILL, {"bill_no": bill_no}).first()
        return str(found[0]) if found else None

    def any_due(self, now: datetime) -> bool:
        return self.conn.execute(sa.select(bk.c.order_id).where(
            bk.c.status == QUEUED, bk.c.due_at <= now, _free(now)).limit(1)).first() is not None

    def claim(self, worker: str, limit: int, lease: timedelta, now: datetime) -> list[Booking]:
        due = (sa.select(bk.c.order_id)
               .where(bk.c.status == QUEUED, bk.c.due_at <= now, _free(now))
               .order_by(bk.c.due_at, bk.c.order_id).limit(limit)
               .with_for_update(skip_locked=True))
        ids = [r[0] for r in self.conn.execute(
            bk.update().where(bk.c.order_id.in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_until=now + lease).returning(bk.c.order_id))]
        if not ids:
            return []
        rows = self.conn.execute(sa.select(bk).where(bk.c.order_id.in_(ids))
                                 .order_by(bk.c.due_at, bk.c.order_id))
        return [Booking(r.order_id, r.bill_no, r.attempts, r.sent_at) for r in rows]

    def _mine(self, order_id: str, worker: str) -> Any:
        return sa.and_(bk.c.order_id == order_id, bk.c.claimed_by == worker,
                       bk.c.status == QUEUED)

    def mark_sending(self, order_ids: list[str], worker: str, now: datetime) -> None:
        self.conn.execute(bk.update().where(
            bk.c.order_id.in_(order_ids), bk.c.claimed_by == worker, bk.c.status == QUEUED)
            .values(sent_at=now, updated_at=now))

    def booked(self, order_id: str, worker: str, erp_id: str | None, now: datetime,
               note: str | None = None) -> bool:
        return bool(self.conn.execute(bk.update().where(self._mine(order_id, worker)).values(
            status=BOOKED, erp_id=erp_id, last_error=note and note[:4000], claimed_by=None,
            claimed_until=None, updated_at=now)).rowcount)

    def retry_later(self, order_id: str, worker: str, due_at: datetime, error: str,
                    now: datetime) -> None:
        self.conn.execute(bk.update().where(self._mine(order_id, worker)).values(
            due_at=due_at, attempts=bk.c.attempts + 1, last_error=error[:4000],
            claimed_by=None, claimed_until=None, updated_at=now))

    def stop(self, order_id: str, worker: str, error: str, now: datetime) -> None:
        self.conn.execute(bk.update().where(self._mine(order_id, worker)).values(
            status=STOPPED, attempts=bk.c.attempts + 1, last_error=error[:4000],
            claimed_by=None, claimed_until=None, updated_at=now))

    def requeue(self, order_id: str, now: datetime) -> bool:
        """Try a stopped booking again (staff fixed the mapping or the ERP's data)."""
        return bool(self.conn.execute(bk.update().where(
            bk.c.order_id == order_id, bk.c.status == STOPPED).values(
            status=QUEUED, due_at=now, attempts=0, updated_at=now)).rowcount)

    def counts(self) -> dict[str, int]:
        found = {s: 0 for s in STATUSES}
        for status, n in self.conn.execute(
                sa.select(bk.c.status, sa.func.count()).group_by(bk.c.status)):
            found[str(status)] = int(n)
        return found

    def bookings(self, status: str | None, limit: int) -> list[BookingView]:
        query = sa.select(bk)
        if status:
            query = query.where(bk.c.status == status)
        return [BookingView(r.order_id, r.bill_no, r.status, r.attempts, r.due_at, r.erp_id,
                            r.last_error, r.updated_at)
                for r in self.conn.execute(
                    query.order_by(bk.c.updated_at.desc(), bk.c.order_id).limit(limit))]

    def setting(self, key: str) -> JsonObject | None:
        found = self.conn.execute(sa.select(st.c.value).where(st.c.key == key)).first()
        return dict(found[0]) if found and isinstance(found[0], dict) else None

    def put_setting(self, key: str, value: JsonObject, now: datetime, by: str) -> None:
        if not insert_ignore(self.conn, st, {"key": key, "value": value, "updated_at": now,
                                             "updated_by": by}):
            self.conn.execute(st.update().where(st.c.key == key).values(
                value=value, updated_at=now, updated_by=by))


__all__ = ["STOPPED", "BackOfficeRepository"]
