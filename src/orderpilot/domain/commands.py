"""Commands: what a user or a system asks the hub to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: str
    name: str = ""
    discount: str = "0"


@dataclass(frozen=True)
class PlaceOrder:
    channel: str
    shop_id: str
    external_id: str
    placed_at: datetime
    currency: str
    customer_name: str
    customer_phone: str
    address: dict[str, str]
    lines: tuple[LineInput, ...]
    total: str
    shipping_fee: str = "0"
    tags: tuple[str, ...] = ()
    raw_payload: Any = None
    raw_source: str = "api"
    raw_version: str = "canonical-v1"
    idempotency_key: str | None = None
    correlation_id: str | None = None
    # Named differences between the lines (+ shipping) and the total: vouchers, coins...
    # (kind, signed decimal string); total = lines + shipping_fee + adjustments.
    adjustments: tuple[tuple[str, str], ...] = ()
    # A sales platform's order: buyer fields kept as received (masked, encrypted or absent),
    # SKUs as the seller typed them.
    as_received: bool = False


@dataclass(frozen=True)
class ReportEvent:
    order_id: str
    type: str
    source: str
    occurred_at: datetime
    source_event_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    correlation_id: str | None = None
    causation_id: str | None = None


@dataclass(frozen=True)
class PlaceHold:
    order_id: str
    reason: str
    note: str = ""
    placed_by: str = "system"
    placed_by_kind: str = "user"  # user | rule | system
    release_after_minutes: int | None = None


@dataclass(frozen=True)
class ReleaseHold:
    order_id: str
    hold_id: str
    released_by: str = "system"
    note: str = ""
    causation_id: str | None = None  # what made it happen, e.g. the auto-release timer
    reason: str = ""  # a person's reason code (domain/hold_release.py); required from people
