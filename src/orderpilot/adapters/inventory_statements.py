"""The inventory's statements on every order's path, built once (building one costs more than
running it on SQLite); the hot ones run on the driver cursor (adapters/driver_sql.py)."""

from __future__ import annotations

import functools

import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.driver_sql import DriverInsert, DriverQuery
from orderpilot.domain.inventory_records import ACTIVE

lv, src, al = t.inventory_levels, t.inventory_sources, t.allocations

LEVEL_STATE = (lv.c.source, lv.c.sku, lv.c.on_hand, lv.c.reserved,
               sa.func.coalesce(lv.c.safety_stock, src.c.safety_stock).label("safety"),
               sa.func.coalesce(lv.c.low_threshold, src.c.low_threshold).label("threshold"),
               lv.c.low)
SAFETY = sa.func.coalesce(lv.c.safety_stock, sa.bindparam("source_safety"))
# On every placed order's path: run on the driver cursor (adapters/driver_sql.py).
STATE = DriverQuery(sa.select(*LEVEL_STATE).join(src, src.c.code == lv.c.source)
                    .where(lv.c.source == sa.bindparam("s"), lv.c.sku == sa.bindparam("k")))
ALLOCATIONS_OF_STATEMENT = (sa.select(al).where(al.c.order_id == sa.bindparam("o"))
                            .order_by(al.c.created_at, al.c.line_no, al.c.id))
ALLOCATIONS_OF = DriverQuery(ALLOCATIONS_OF_STATEMENT)
ACTIVE_ALLOCATIONS_OF = DriverQuery(ALLOCATIONS_OF_STATEMENT.where(al.c.status == ACTIVE))
ADD_ALLOCATIONS = DriverInsert(al, ("id", "order_id", "line_no", "promotion_id", "sku",
                                    "source", "quantity", "status", "reserved_until",
                                    "created_at"))
TAKE = DriverQuery(lv.update()
                   .where(lv.c.source == sa.bindparam("s"), lv.c.sku == sa.bindparam("k"),
                          lv.c.on_hand - lv.c.reserved - SAFETY >= sa.bindparam("q"))
                   .values(reserved=lv.c.reserved + sa.bindparam("q"))
                   .returning(lv.c.on_hand, lv.c.reserved, lv.c.safety_stock,
                              lv.c.low_threshold, lv.c.low))
GIVE_BACK = (lv.update().where(lv.c.source == sa.bindparam("s"), lv.c.sku == sa.bindparam("k"))
             .values(reserved=sa.func.max(lv.c.reserved - sa.bindparam("q"), 0)))
GIVE_BACK_PG = (lv.update().where(lv.c.source == sa.bindparam("s"),
                                  lv.c.sku == sa.bindparam("k"))
                .values(reserved=sa.func.greatest(lv.c.reserved - sa.bindparam("q"), 0)))

# On the path of every allocation and promise: built once (construction costs more than the
# query itself on SQLite).
STRATEGIES = sa.select(t.inventory_strategies).where(t.inventory_strategies.c.channel.in_(
    [sa.bindparam("channel"), "default"]))


@functools.lru_cache(maxsize=64)
def stock_of(skus: int) -> DriverQuery:
    """The stock of SKUS skus (bound as sku0, sku1...: one statement per count, so it runs
    on the driver cursor, which has no expanding IN).

    The expired reservations of each level are summed by a subquery correlated to that level,
    so each is a seek into ``ix_allocations_level`` (source, sku, status, reserved_until) over
    only the reservations past their time. A join to a grouped subquery filtered on the SKUs
    alone, as this was until 2026-12-07, could not use the index (its first column is the
    source) and read every allocation ever made, for every order allocated: 48% of an order's
    processing at 8,000 allocations, and more with every order (docs/performance.md, "A stock
    read that grew with every order")."""
    names: list[sa.BindParameter[str]] = [sa.bindparam(f"sku{i}") for i in range(skus)]
    expired = (sa.select(sa.func.coalesce(sa.func.sum(al.c.quantity), 0))
               .where(al.c.source == lv.c.source, al.c.sku == lv.c.sku,
                      al.c.status == ACTIVE, al.c.reserved_until.is_not(None),
                      al.c.reserved_until <= sa.bindparam("now", type_=t.Time))
               .correlate(lv).scalar_subquery())
    return DriverQuery(
        sa.select(lv.c.source, lv.c.sku, lv.c.on_hand, lv.c.reserved, lv.c.expected_at,
                  sa.func.coalesce(lv.c.safety_stock, src.c.safety_stock).label("safety"),
                  expired.label("expired"))
        .join(src, src.c.code == lv.c.source)
        .where(lv.c.sku.in_(names)))
