"""The orders list for daily work: every filter of domain/order_filters.py as SQL, a total
count, stable sorts with keyset cursors (a page never repeats or skips a row, also while
orders arrive), and the ids a bulk action on "the whole filter" touches.

Each filter has an index (tables.py, migration 0011) except the address fragment and the tag,
which are substring matches over rows the other filters have already narrowed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from orderpilot.adapters import tables as t
from orderpilot.adapters.views.orders import MAX_PAGE, active_hold_reasons, summary
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.lifecycle import NODE_BY_ID
from orderpilot.domain.money import to_cents
from orderpilot.domain.order_filters import OrderFilter
from orderpilot.domain.times import SHANGHAI

o = t.orders
# sort -> (key column or None for arrival order, descending)
_SORT_KEYS: dict[str, tuple[Any, bool]] = {
    "newest": (None, True),
    "placed_desc": (o.c.placed_at, True), "placed_asc": (o.c.placed_at, False),
    "total_desc": (o.c.total_cents, True), "total_asc": (o.c.total_cents, False),
    "updated_asc": (o.c.updated_at, False),
}


def _bad_cursor() -> InvalidInput:
    return InvalidInput("cursor is not one this API returned for this sort", field="cursor",
                        zh="cursor 不是本 API 为此排序返回的游标")


def _encode(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None


def sort_of(f: OrderFilter) -> str:
    """A sync client asking for changes since a time gets them in change order."""
    return "updated_asc" if f.updated_since and f.sort == "newest" else f.sort


def conditions(f: OrderFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.status:
        if f.status not in NODE_BY_ID:
            raise InvalidInput(f"unknown status {f.status!r}", field="status",
                               zh=f"未知状态 {f.status!r}")
        where.append(o.c.status == f.status)
    if f.channel:
        where.append(o.c.channel == f.channel)
    if f.shop:
        where.append(o.c.shop_id == f.shop)
    if f.held is not None:
        where.append(o.c.held == f.held)
    # IN (a subquery on the indexed column), not a correlated EXISTS: SQLite would otherwise
    # probe the SKU's lines once per order.
    if f.sku:
        lines = t.order_lines
        where.append(o.c.id.in_(sa.select(lines.c.order_id).where(lines.c.sku == f.sku)))
    if f.reason:
        h = t.holds
        where.append(o.c.id.in_(sa.select(h.c.order_id).where(h.c.reason == f.reason,
                                                              h.c.released_at.is_(None))))
    if f.tag:
        # Tags are a JSON list, stored as written (json.dumps): the tag's own JSON text,
        # quotes included, is found in it, and only as a whole tag.
        where.append(sa.cast(o.c.tags, sa.Text).contains(json.dumps(f.tag), autoescape=True))
    if f.placed_from:
        where.append(o.c.placed_at >= datetime.combine(f.placed_from, time(), SHANGHAI))
    if f.placed_to:
        end = datetime.combine(f.placed_to + timedelta(days=1), time(), SHANGHAI)
        where.append(o.c.placed_at < end)
    if f.currency:
        where.append(o.c.currency == f.currency)
    if f.min_total is not None:
        where.append(o.c.total_cents >= to_cents(f.min_total))
    if f.max_total is not None:
        where.append(o.c.total_cents <= to_cents(f.max_total))
    if f.phone:
        where.append(o.c.phone_tail == f.phone[-4:])
        if len(f.phone) > 4:
            where.append(o.c.customer_phone.endswith(f.phone, autoescape=True))
    if f.address:
        where.append(sa.or_(*(column.contains(f.address, autoescape=True) for column in (
            o.c.address_line1, o.c.address_district, o.c.address_city, o.c.address_province))))
    if f.updated_since:
        where.append(o.c.updated_at >= f.updated_since.astimezone(UTC))
    if f.q:
        text = f.q
        where.append(sa.or_(o.c.external_id == text, o.c.id == text,
                            o.c.external_id.contains(text, autoescape=True),
                            o.c.customer_name.contains(text, autoescape=True),
                            o.c.customer_phone == text))
    return where


def count(conn: Connection, f: OrderFilter) -> int:
    query = sa.select(sa.func.count()).select_from(o).where(*conditions(f))
    return int(conn.execute(query).scalar_one())


def _after(sort: str, cursor: str) -> ColumnElement[bool]:
    key, descending = _SORT_KEYS[sort]
    raw = _decode(cursor)
    try:
        if sort == "newest":
            kind, seq_text = raw.split(":", 1)
            if kind != "o":
                raise ValueError
            value: Any = None
        else:
            kind, named, value_text, seq_text = raw.split("|", 3)
            if kind != "k" or named != sort:
                raise ValueError
            value = int(value_text) if key is o.c.total_cents \
                else datetime.fromisoformat(value_text)
        seq = int(seq_text)
        if not 0 < seq < 2**63:
            raise ValueError
    except ValueError:
        raise _bad_cursor() from None
    if key is None:
        return o.c.seq < seq
    if descending:
        return sa.or_(key < value, sa.and_(key == value, o.c.seq < seq))
    return sa.or_(key > value, sa.and_(key == value, o.c.seq > seq))


def _cursor_of(sort: str, row: Any) -> str:
    key, _ = _SORT_KEYS[sort]
    if key is None:
        return _encode(f"o:{row.seq}")
    value = row.total_cents if key is o.c.total_cents else getattr(row, key.name).isoformat()
    return _encode(f"k|{sort}|{value}|{row.seq}")


def _ordered(query: sa.Select[Any], sort: str) -> sa.Select[Any]:
    key, descending = _SORT_KEYS[sort]
    columns = [o.c.seq] if key is None else [key, o.c.seq]
    return query.order_by(*(c.desc() if descending else c.asc() for c in columns))


def search(conn: Connection, f: OrderFilter, *, limit: int = 50, cursor: str | None = None,
           with_total: bool = True) -> tuple[list[dict[str, Any]], str | None, int | None]:
    """One page of the filtered list, the cursor of the next page and the total count."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}", field="limit",
                           zh=f"limit 应在 1 到 {MAX_PAGE} 之间")
    sort = sort_of(f)
    where = conditions(f)
    query = sa.select(o).where(*where)
    if cursor:
        query = query.where(_after(sort, cursor))
    rows = conn.execute(_ordered(query, sort).limit(limit + 1)).all()
    page = rows[:limit]
    holds = active_hold_reasons(conn, [r.id for r in page if r.held])
    items = [summary(r, holds.get(r.id, [])) | {"updated_at": r.updated_at.isoformat()}
             for r in page]
    next_cursor = _cursor_of(sort, page[-1]) if len(rows) > limit else None
    return items, next_cursor, count(conn, f) if with_total else None


def matching_ids(conn: Connection, f: OrderFilter, cap: int) -> list[str]:
    """The ids of the orders a bulk action on the whole filter touches, in list order (at
    most CAP: the caller refuses more)."""
    query = _ordered(sa.select(o.c.id).where(*conditions(f)), sort_of(f)).limit(cap)
    return [r.id for r in conn.execute(query)]


def existing_ids(conn: Connection, order_ids: list[str]) -> list[str]:
    """The ids of a selection that name orders, in the order given."""
    found = {r.id for r in conn.execute(sa.select(o.c.id).where(o.c.id.in_(order_ids)))}
    return [i for i in order_ids if i in found]


def held_among(conn: Connection, order_ids: list[str]) -> int:
    """How many of these orders are on hold now (what a bulk release would touch)."""
    if not order_ids:
        return 0
    query = sa.select(sa.func.count()).select_from(o).where(o.c.id.in_(order_ids),
                                                            o.c.held.is_(True))
    return int(conn.execute(query).scalar_one())


def sheet_rows(conn: Connection, order_ids: list[str]) -> list[dict[str, Any]]:
    """The orders to export, in the order given, with their lines' SKUs and active holds."""
    rows: dict[str, Any] = {}
    for chunk in _chunks(order_ids, 500):
        rows.update({r.id: r for r in conn.execute(sa.select(o).where(o.c.id.in_(chunk)))})
    skus: dict[str, list[str]] = {}
    holds: dict[str, list[str]] = {}
    for chunk in _chunks(order_ids, 500):
        lines = t.order_lines
        for ln in conn.execute(sa.select(lines.c.order_id, lines.c.sku, lines.c.quantity)
                               .where(lines.c.order_id.in_(chunk))
                               .order_by(lines.c.order_id, lines.c.line_no)):
            skus.setdefault(ln.order_id, []).append(f"{ln.sku}×{ln.quantity}")
        holds.update(active_hold_reasons(conn, chunk))
    return [summary(rows[i], holds.get(i, [])) | {
        "skus": skus.get(i, []), "address_line1": rows[i].address_line1,
        "address_city": rows[i].address_city, "address_province": rows[i].address_province,
        "address_district": rows[i].address_district} for i in order_ids if i in rows]


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
