"""What the back office needs from storage (adapters/back_office.py implements it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from orderpilot.domain.records import JsonObject

QUEUED, BOOKED, STOPPED = "queued", "booked", "stopped"
STATUSES = (QUEUED, BOOKED, STOPPED)


@dataclass(frozen=True)
class Booking:
    order_id: str
    bill_no: str
    attempts: int  # failed attempts so far
    sent_at: datetime | None  # a send may have gone out then: look the bill up first


@dataclass(frozen=True)
class BookingView:
    order_id: str
    bill_no: str
    status: str
    attempts: int
    due_at: datetime
    erp_id: str | None
    last_error: str | None
    updated_at: datetime

    def shown(self) -> dict[str, object]:
        return {"order_id": self.order_id, "bill_no": self.bill_no, "status": self.status,
                "attempts": self.attempts, "due_at": self.due_at.isoformat(),
                "erp_id": self.erp_id, "last_error": self.last_error,
                "updated_at": self.updated_at.isoformat()}


class BackOfficeStore(Protocol):
    def queue(self, order_id: str, bill_no: str, now: datetime, *,
              stopped: str | None = None) -> bool: ...
    def bill_taken_by(self, bill_no: str) -> str | None: ...
    def order_of_bill(self, bill_no: str) -> str | None: ...
    def any_due(self, now: datetime) -> bool: ...
    def claim(self, worker: str, limit: int, lease: timedelta,
              now: datetime) -> list[Booking]: ...
    def mark_sending(self, order_ids: list[str], worker: str, now: datetime) -> None: ...
    def booked(self, order_id: str, worker: str, erp_id: str | None, now: datetime,
               note: str | None = None) -> bool: ...
    def retry_later(self, order_id: str, worker: str, due_at: datetime, error: str,
                    now: datetime) -> None: ...
    def stop(self, order_id: str, worker: str, error: str, now: datetime) -> None: ...
    def requeue(self, order_id: str, now: datetime) -> bool: ...
    def counts(self) -> dict[str, int]: ...
    def bookings(self, status: str | None, limit: int) -> list[BookingView]: ...
    def setting(self, key: str) -> JsonObject | None: ...
    def put_setting(self, key: str, value: JsonObject, now: datetime, by: str) -> None: ...
