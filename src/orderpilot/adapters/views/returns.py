"""The read side of returns: one return with its lines, refund, timeline and route; the list.

The route block comes from the routing module (``adapters/views/return_routes.py``,
``route_of(conn, return_id)``) when it is installed; without it ``route`` is None.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters import tables as t
from orderpilot.adapters.returns import load_returns
from orderpilot.adapters.tables_returns import return_lines as rl
from orderpilot.adapters.tables_returns import returns as rt
from orderpilot.domain import returns as rd
from orderpilot.domain.return_reasons import REASONS

RouteOf = Callable[[Connection, str], "dict[str, Any] | None"]
MAX_PAGE = 200


def route_reader() -> RouteOf | None:
    try:
        module = importlib.import_module("orderpilot.adapters.views.return_routes")
    except ModuleNotFoundError:
        return None
    return cast(RouteOf | None, getattr(module, "route_of", None))


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _cents(value: int | None) -> str | None:
    return None if value is None else f"{value // 100}.{value % 100:02d}"


def present(ret: rd.Return) -> dict[str, Any]:
    zh, en = rd.STATUSES[ret.status]
    return {
        "id": ret.id, "order_id": ret.order_id, "status": ret.status,
        "status_name": {"zh": zh, "en": en}, "source": ret.source,
        "source_event_id": ret.source_event_id,
        "lines": [{"sku": ln.sku, "quantity": ln.quantity, "restockable": ln.restockable,
                   "damaged": ln.damaged, "refund": _cents(ln.refund_cents),
                   "refund_cents": ln.refund_cents} for ln in ret.lines],
        "reason_tags": list(ret.reason_tags),
        "reasons": [{"tag": tag, "zh": REASONS[tag].zh, "en": REASONS[tag].en}
                    for tag in ret.reason_tags if tag in REASONS],
        "reason_text": ret.reason_text, "reasons_from": ret.reasons_from,
        "customer_address": ret.customer_address, "restock_source": ret.restock_source,
        "refund": None if ret.refund_cents is None else {
            "amount": _cents(ret.refund_cents), "amount_cents": ret.refund_cents},
        "next": list(rd.MOVES[ret.status]),
        "created_at": _iso(ret.created_at), "updated_at": _iso(ret.updated_at)}


def timeline(conn: Connection, ret: rd.Return) -> list[dict[str, Any]]:
    """The order's events that name this return (data.return_id), oldest first."""
    rows = conn.execute(sa.select(t.events).where(t.events.c.order_id == ret.order_id)
                        .order_by(t.events.c.seq))
    return [{"id": e.id, "type": e.type, "source": e.source,
             "occurred_at": _iso(e.occurred_at), "recorded_at": _iso(e.recorded_at),
             "outcome": e.payload.get("outcome"), "data": e.payload.get("data", {})}
            for e in rows
            if isinstance(e.payload.get("data"), dict)
            and e.payload["data"].get("return_id") == ret.id]


def return_detail(conn: Connection, return_id: str,
                  route_of: RouteOf | None = None) -> dict[str, Any] | None:
    found = load_returns(conn, sa.select(rt).where(rt.c.id == return_id))
    if not found:
        return None
    ret = found[0]
    reader = route_of if route_of is not None else route_reader()
    route = reader(conn, ret.id) if reader is not None else None
    return present(ret) | {"timeline": timeline(conn, ret), "route": route,
                           "channel_refund": channel_refund(conn, ret.id)}


def channel_refund(conn: Connection, return_id: str) -> dict[str, Any] | None:
    """The refund asked of the return's channel (services/channels/return_refunds.py):
    ``{"status": pending | done | failed, "platform", "error"}``, or None when none was."""
    j, a = t.channel_jobs.c, t.channel_accounts.c
    row = conn.execute(sa.select(j.status, j.last_error, a.platform)
                       .select_from(t.channel_jobs.outerjoin(t.channel_accounts,
                                                             a.code == j.account))
                       .where(j.key == f"refund:{return_id}")).first()
    if row is None:
        return None
    status = {"dead": "failed"}.get(row.status, row.status)
    return {"status": status, "platform": row.platform,
            "error": row.last_error if status != "done" else None}


def list_returns(conn: Connection, *, status: str | None = None, reason: str | None = None,
                 order_id: str | None = None, sku: str | None = None, limit: int = 50,
                 offset: int = 0) -> dict[str, Any]:
    """Newest first; ``reason`` matches a tag, ``sku`` a line."""
    query = sa.select(rt)
    if status:
        query = query.where(rt.c.status == status)
    if order_id:
        query = query.where(rt.c.order_id == order_id)
    if sku:
        query = query.where(rt.c.id.in_(sa.select(rl.c.return_id).where(rl.c.sku == sku)))
    rows = load_returns(conn, query.order_by(rt.c.created_at.desc(), rt.c.id.desc()))
    if reason:  # tags are a JSON list: filtered here, the same on SQLite and PostgreSQL
        rows = [r for r in rows if reason in r.reason_tags]
    page = rows[offset:offset + limit]
    more = offset + limit < len(rows)
    return {"items": [present(r) for r in page], "total": len(rows),
            "next_offset": offset + limit if more else None}


def status_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(rt.c.status, sa.func.count()).group_by(rt.c.status))
    return {status: int(n) for status, n in rows}
