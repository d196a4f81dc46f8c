"""What a carrier tells the hub about a parcel: route events on a waybill (运单).

A carrier event names its waybill (tracking number), the carrier, the hub event type it becomes
(``shipment.shipped`` / ``shipment.in_transit`` / ``shipment.delivered`` or ``system.status``
for what moves no order), when it happened (with its zone), and the data kept beside it: the
place, the outlet (网点) where the carrier scanned it, the carrier's own code and remark.
``source_event_id`` makes a repeated report of one node change nothing: it is the waybill, the
carrier's code and the time, so a duplicated or replayed push is recognised.

The generic carrier webhook (``POST /hooks/carriers/{carrier}``) speaks our own contract, whose
codes are in :data:`GENERIC_CODES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SHIPPED = "shipment.shipped"
IN_TRANSIT = "shipment.in_transit"
DELIVERED = "shipment.delivered"
STATUS_ONLY = "system.status"


@dataclass(frozen=True)
class CarrierEvent:
    tracking_number: str
    carrier: str
    type: str  # a hub event type (see domain/lifecycle.py EVENT_TYPES)
    occurred_at: datetime
    source_event_id: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def delivered(self) -> bool:
        return self.type == DELIVERED


# Our generic contract: code -> (hub event type, the status shown in the carrier's view).
GENERIC_CODES: dict[str, tuple[str, str]] = {
    "shipped": (SHIPPED, "shipped"),
    "in_transit": (IN_TRANSIT, "in_transit"),
    "out_for_delivery": (IN_TRANSIT, "out_for_delivery"),
    "delivered": (DELIVERED, "delivered"),
    "exception": (STATUS_ONLY, "carrier_exception"),
    "returned": (STATUS_ONLY, "returned_to_sender"),
}


CARRIER_ALIASES = {"sf": "sf", "sf-express": "sf", "sf_express": "sf", "sfexpress": "sf",
                   "顺丰": "sf", "顺丰速运": "sf", "shunfeng": "sf"}


def carrier_code(name: str) -> str:
    """One name per carrier everywhere (the shipments table, event sources): SF is ``sf``."""
    word = name.strip().lower()
    return CARRIER_ALIASES.get(word, word)[:32]


def event_data(tracking_number: str, carrier: str, status: str, **more: Any) -> dict[str, Any]:
    """The data every carrier event carries: the waybill and carrier (so the shipments table is
    filled from a ``shipment.shipped`` whoever reports it) and the carrier's status word."""
    data: dict[str, Any] = {"tracking_number": tracking_number, "carrier": carrier,
                            "status": status}
    data.update({k: v for k, v in more.items() if v not in (None, "")})
    return data


@dataclass(frozen=True)
class Shipment:
    """A waybill the hub follows: which order it carries, and how far the carrier has got."""

    carrier: str
    tracking_number: str
    order_id: str
    created_at: datetime
    last_route_at: datetime | None = None
    outlet_code: str | None = None
    delivered_at: datetime | None = None
    polled_at: datetime | None = None
