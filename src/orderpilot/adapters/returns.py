"""The returns repository on SQLAlchemy Core (tables in tables_returns.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from orderpilot.adapters.tables_returns import return_lines as rl
from orderpilot.adapters.tables_returns import return_reason_keywords as rk
from orderpilot.adapters.tables_returns import return_reason_tags as rtag
from orderpilot.adapters.tables_returns import returns as rt
from orderpilot.domain.errors import ConcurrentUpdate
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.returns import Return, ReturnLine

# The order event of each step the metrics time, and the column keeping its first time
# (domain/returns.py EVENT_OF_MOVE; migration 0022).
STEP_COLUMNS = {"return.pickup_booked": rt.c.pickup_booked_at,
                "return.received": rt.c.received_at, "refund.succeeded": rt.c.refunded_at}


def record_step_times(conn: Connection, events: Iterable[OrderEvent]) -> None:
    """Events being appended (adapters/outbox.py EventLog.append, the same transaction): a
    step event naming a return (``data.return_id``: the returns service's moves, the SF
    booking, a client's report) keeps its time on the return when it is the first."""
    for event in events:
        column = STEP_COLUMNS.get(event.type)
        data = (event.payload or {}).get("data") if column is not None else None
        return_id = data.get("return_id") if isinstance(data, dict) else None
        if column is not None and isinstance(return_id, str) and return_id:
            conn.execute(rt.update().where(  # one conditional update: the earliest stays
                rt.c.id == return_id, sa.or_(column.is_(None), column > event.occurred_at))
                .values({column.name: event.occurred_at}))


def _lines(conn: Connection, ids: list[str]) -> dict[str, list[ReturnLine]]:
    found: dict[str, list[ReturnLine]] = {i: [] for i in ids}
    if ids:
        for r in conn.execute(sa.select(rl).where(rl.c.return_id.in_(ids))
                              .order_by(rl.c.return_id, rl.c.line_no)):
            found[r.return_id].append(ReturnLine(r.sku, r.quantity, r.restockable, r.damaged,
                                                 r.refund_cents))
    return found


def return_from_row(r: Any, lines: list[ReturnLine]) -> Return:
    return Return(r.id, r.order_id, r.status, r.source, r.source_event_id, lines,
                  list(r.reason_tags), r.reason_text, r.reasons_from, r.customer_address,
                  r.created_at, r.updated_at, r.restock_source, r.refund_cents, r.rejected,
                  r.version)


def load_returns(conn: Connection, query: sa.Select[Any]) -> list[Return]:
    rows = conn.execute(query).all()
    lines = _lines(conn, [r.id for r in rows])
    return [return_from_row(r, lines[r.id]) for r in rows]


class ReturnRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, ret: Return) -> None:
        self.conn.execute(rt.insert().values(
            id=ret.id, order_id=ret.order_id, status=ret.status, source=ret.source,
            source_event_id=ret.source_event_id, reason_tags=ret.reason_tags,
            reason_text=ret.reason_text, reasons_from=ret.reasons_from,
            customer_address=ret.customer_address, restock_source=ret.restock_source,
            refund_cents=ret.refund_cents, rejected=ret.rejected, created_at=ret.created_at,
            updated_at=ret.updated_at, version=ret.version))
        self.conn.execute(rtag.insert(), [{"return_id": ret.id, "tag": tag} for tag in
                                          dict.fromkeys(ret.reason_tags or ["other"])])
        self._write_lines(ret)

    def _write_lines(self, ret: Return) -> None:
        self.conn.execute(rl.delete().where(rl.c.return_id == ret.id))
        self.conn.execute(rl.insert(), [
            {"return_id": ret.id, "line_no": i + 1, "sku": ln.sku, "quantity": ln.quantity,
             "restockable": ln.restockable, "damaged": ln.damaged,
             "refund_cents": ln.refund_cents} for i, ln in enumerate(ret.lines)])

    def get(self, return_id: str, *, for_update: bool = False) -> Return | None:
        query = sa.select(rt).where(rt.c.id == return_id)
        if for_update and self.conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found = load_returns(self.conn, query)
        return found[0] if found else None

    def find_by_source(self, source: str, source_event_id: str) -> Return | None:
        found = load_returns(self.conn, sa.select(rt).where(
            rt.c.source == source, rt.c.source_event_id == source_event_id))
        return found[0] if found else None

    def of_order(self, order_id: str) -> list[Return]:
        return load_returns(self.conn, sa.select(rt).where(rt.c.order_id == order_id)
                            .order_by(rt.c.created_at, rt.c.id))

    def save(self, ret: Return) -> None:
        """Write the return if nobody changed it since it was read (its version)."""
        result = self.conn.execute(
            rt.update().where(rt.c.id == ret.id, rt.c.version == ret.version).values(
                status=ret.status, restock_source=ret.restock_source,
                refund_cents=ret.refund_cents, rejected=ret.rejected,
                updated_at=ret.updated_at, version=ret.version + 1))
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"return {ret.id} was changed by someone else; try again",
                                   zh=f"退货单 {ret.id} 已被他人修改，请重试")
        ret.version += 1
        self._write_lines(ret)

    def keywords(self) -> dict[str, str] | None:
        """The stored keyword table; None until ops first saved one."""
        rows = self.conn.execute(sa.select(rk.c.keyword, rk.c.reason_tag)).all()
        return {r.keyword: r.reason_tag for r in rows} or None

    def replace_keywords(self, table: Mapping[str, str], by: str, now: datetime) -> None:
        self.conn.execute(rk.delete())
        if table:
            self.conn.execute(rk.insert(), [{"keyword": k, "reason_tag": v, "updated_at": now,
                                             "updated_by": by} for k, v in table.items()])
