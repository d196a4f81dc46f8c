"""System reports the hub refused, kept so a misbehaving system is visible
(docs/exceptions-retry-and-refusals.md).

A refused report changes nothing on the order and its answer (409, 404) is unchanged; what is
kept is who sent what, when, against which status and why. A report sent again with the same
``source_event_id`` is one refusal counted ``times`` times.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderpilot.domain.errors import (
    ConcurrentUpdate,
    Conflict,
    IllegalTransition,
    NotFound,
    OrderOnHold,
    OrderpilotError,
)

# reason code -> (zh, en); the console shows these, the API answers the code.
REASONS: dict[str, tuple[str, str]] = {
    "illegal_step": ("不允许的状态跳转", "Illegal lifecycle step"),
    "on_hold": ("订单挂起中", "Order on hold"),
    "unknown_order": ("订单不存在", "Unknown order"),
    "event_id_reused": ("事件编号重复用于其他订单", "Event id reused for another order"),
}
KEEP_DAYS = 30  # default of ORDERPILOT_REFUSED_REPORTS_KEEP_DAYS
PAYLOAD_CHARS = 4000  # the report's data kept, at most (as JSON text)
DETAIL_CHARS = 1000


def reason_of(error: OrderpilotError) -> str | None:
    """The refusal's reason code, or None when the error is no refusal of the report (a
    concurrent writer, bad input: those are the caller's to fix, not the system's to see)."""
    if isinstance(error, IllegalTransition):
        return "illegal_step"
    if isinstance(error, OrderOnHold):
        return "on_hold"
    if isinstance(error, NotFound):
        return "unknown_order"
    if isinstance(error, Conflict) and not isinstance(error, ConcurrentUpdate) \
            and error.field == "source_event_id":
        return "event_id_reused"
    return None


def capped(data: Any) -> dict[str, Any]:
    """The report's data as kept: whole when small, else its first characters as text."""
    body = json.dumps(data, ensure_ascii=False, default=str)
    if len(body) <= PAYLOAD_CHARS:
        return {"data": data}
    return {"truncated": True, "text": body[:PAYLOAD_CHARS]}


@dataclass(frozen=True)
class RefusedReport:
    received_at: datetime
    source: str
    system: str
    order_id: str
    event_type: str
    source_event_id: str | None
    from_status: str | None
    reason: str
    detail: str
    detail_zh: str
    payload: dict[str, Any]
