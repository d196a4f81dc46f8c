"""What finance and staff do with the ERP link: read and change the field mapping, see the
bookings (counts and failures), and queue a stopped booking again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orderpilot.domain.errors import NotFound
from orderpilot.services.back_office.booking import MAPPING_KEY
from orderpilot.services.back_office.store import STATUSES, STOPPED
from orderpilot.services.unit_of_work import Clock, UowFactory

Validate = Callable[[object], dict[str, Any]]


def mapping(uow_factory: UowFactory, default: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The mapping in force: the stored one, or DEFAULT's until finance saves one."""
    with uow_factory() as uow:
        stored = uow.back_office.setting(MAPPING_KEY)
    return {"mapping": stored if stored is not None else default(),
            "customised": stored is not None}


def save_mapping(uow_factory: UowFactory, clock: Clock, document: object, by: str,
                 validate: Validate) -> dict[str, Any]:
    """Store DOCUMENT once VALIDATE accepts it (it raises naming every problem)."""
    checked = validate(document)
    with uow_factory() as uow:
        uow.back_office.put_setting(MAPPING_KEY, checked, clock(), by)
    return {"mapping": checked, "customised": True}


def overview(uow_factory: UowFactory, status: str | None = None,
             limit: int = 100) -> dict[str, Any]:
    """Counts by status and the latest bookings (the stopped ones first when no status)."""
    with uow_factory() as uow:
        counts = uow.back_office.counts()
        failures = uow.back_office.bookings(STOPPED, limit)
        listed = uow.back_office.bookings(status, limit) if status else []
    return {"counts": counts, "statuses": list(STATUSES),
            "failures": [b.shown() for b in failures],
            "bookings": [b.shown() for b in listed]}


def requeue(uow_factory: UowFactory, clock: Clock, order_id: str) -> None:
    with uow_factory() as uow:
        if not uow.back_office.requeue(order_id, clock()):
            raise NotFound(f"no stopped booking for order {order_id}", field="order_id",
                           zh=f"订单 {order_id} 没有已停止的入账")
