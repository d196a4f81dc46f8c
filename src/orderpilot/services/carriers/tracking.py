"""Waybills and their route events: which order a waybill carries, and recording a carrier's
route nodes on it as ``shipment.*`` events (idempotent by ``source_event_id``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from orderpilot.domain.commands import ReportEvent
from orderpilot.domain.errors import OrderpilotError
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.shipments import CarrierEvent, carrier_code
from orderpilot.services import ordering
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory


def follow_when_shipped(event: OrderEvent, uow: UnitOfWork, clock: Clock) -> None:
    """A ``shipment.shipped`` naming a tracking number starts following that waybill (once:
    a repeat finds the row and changes nothing)."""
    data = event.payload.get("data") or {}
    number = str(data.get("tracking_number") or data.get("tracking_no") or "").strip()
    if not number or event.order_id is None:
        return
    carrier = carrier_code(str(data.get("carrier") or event.source or "carrier"))
    uow.shipments.add(carrier, number[:64], event.order_id, clock())


@dataclass
class Recorded:
    """What became of a batch of route events."""

    recorded: int = 0
    duplicates: int = 0
    unknown: list[CarrierEvent] = field(default_factory=list)  # no order follows the waybill
    refused: list[tuple[CarrierEvent, OrderpilotError]] = field(default_factory=list)


def record_routes(events: Sequence[CarrierEvent], uow_factory: UowFactory,
                  clock: Clock) -> Recorded:
    """Each event on the order its waybill carries, oldest first; the caller quarantines the
    unknown and refused ones. One event, one transaction: a refused node keeps the others."""
    done = Recorded()
    for event in sorted(events, key=lambda e: e.occurred_at):
        with uow_factory() as uow:
            shipment = uow.shipments.get(event.carrier, event.tracking_number)
        if shipment is None:
            done.unknown.append(event)
            continue
        try:
            result = ordering.report_event(
                ReportEvent(shipment.order_id, event.type, event.carrier, event.occurred_at,
                            source_event_id=event.source_event_id, data=event.data),
                uow_factory, clock)
        except OrderpilotError as error:
            done.refused.append((event, error))
            continue
        if result.outcome == "duplicate":
            done.duplicates += 1
        else:
            done.recorded += 1
        with uow_factory() as uow:
            uow.shipments.record_route(event.carrier, event.tracking_number, event.occurred_at,
                                       event.data.get("outlet"), event.delivered)
    return done
