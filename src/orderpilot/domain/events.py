"""What happened to an order: the event every state change appends to the log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class OrderEvent:
    order_id: str | None
    type: str
    source: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    source_event_id: str | None = None
    causation_id: str | None = None
    correlation_id: str | None = None
    system: str = "hub"
    id: str = field(default_factory=new_id)
