"""What the carrier services need from storage (the adapter is adapters/shipments.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from orderpilot.domain.shipments import Shipment


class Shipments(Protocol):
    def add(self, carrier: str, tracking_number: str, order_id: str, now: datetime) -> bool: ...
    def get(self, carrier: str, tracking_number: str) -> Shipment | None: ...
    def record_route(self, carrier: str, tracking_number: str, at: datetime,
                     outlet: str | None, delivered: bool) -> None: ...
    def claim_due(self, carrier: str, due_before: datetime, now: datetime,
                  limit: int) -> list[str]: ...
