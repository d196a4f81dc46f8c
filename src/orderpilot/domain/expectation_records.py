"""Stored expectations and breaches, as the service layer receives them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from orderpilot.domain.expectations import Expectation
from orderpilot.domain.money import from_cents


class StoredExpectation(NamedTuple):
    expectation: Expectation
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str
    evaluated_at: datetime | None
    retroactive_count: int | None

    def shown(self) -> dict[str, Any]:
        return {**self.expectation.as_dict(), "version": self.version,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by,
                "updated_at": self.updated_at.isoformat(), "updated_by": self.updated_by,
                "evaluated_at": self.evaluated_at.isoformat() if self.evaluated_at else None,
                "retroactive_count": self.retroactive_count}


class Breach(NamedTuple):
    id: str
    code: str
    order_id: str
    after_event_id: str
    after_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    late_by_seconds: int | None
    status: str  # open | resolved_late | closed
    amount_at_risk_cents: int
    currency: str
    recorded_at: datetime

    def shown(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "order_id": self.order_id,
                "after_event_id": self.after_event_id, "after_at": self.after_at.isoformat(),
                "due_at": self.due_at.isoformat(),
                "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
                "late_by_seconds": self.late_by_seconds, "status": self.status,
                "amount_at_risk": str(from_cents(self.amount_at_risk_cents)),
                "currency": self.currency}
