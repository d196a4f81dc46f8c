"""A return's route as the return page and GET /api/v1/returns/{id} show it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters.tables_return_routing import return_routes as r
from orderpilot.adapters.views.orders import iso


def route_of(conn: Connection, return_id: str) -> dict[str, Any] | None:
    """``{"outlet_code", "return_centre", "address", "pickup_window": {"start", "end"}}``
    (the window null until a pickup is booked), or ``{"decision_required": true,
    "exception": {"reason", "message_zh", "message_en"}}``; None when not routed yet.
    ``decided`` is a person's decision ``{"decision": "centre"|"retry", "by", "at", "note"}``
    (null when nobody had to decide); status ``rerouting`` until the retry has run."""
    row = conn.execute(sa.select(r).where(r.c.return_id == return_id)).first()
    if row is None:
        return None
    decided = {"decision": row.decision, "by": row.decided_by, "at": iso(row.decided_at),
               "note": row.decision_note} if row.decided_by else None
    if row.decision_required:
        return {"decision_required": True,
                "exception": {"reason": row.exception_reason, "message_zh": row.exception_zh,
                              "message_en": row.exception_en},
                "outlet_code": row.outlet_code, "status": row.status, "decided": decided}
    window = {"start": iso(row.pickup_start), "end": iso(row.pickup_end)} \
        if row.pickup_start is not None else None
    return {"decision_required": False, "outlet_code": row.outlet_code,
            "return_centre": row.return_centre, "address": row.address,
            "pickup_window": window, "pickup_waybill": row.pickup_waybill,
            "status": row.status, "policy_version": row.policy_version, "decided": decided}


def customer_address_of(conn: Connection, return_id: str) -> Any:
    """The address the customer typed, kept for audit (PII: mask for roles without
    ``pii.read``)."""
    return conn.execute(sa.select(r.c.customer_address)
                        .where(r.c.return_id == return_id)).scalar()
