"""Migration 0022 backfills the returns metrics' facts from what the metrics read before it: each
step's first order event naming the return, the reason tags (none: "other") and the typed
address (the route's copy, else the return's) against the centre. SQLite and PostgreSQL."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from orderpilot.adapters import migrations
from orderpilot.adapters.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for conftest_pg
from conftest import require_pg  # noqa: E402
from conftest_pg import create_pg_database, drop_pg_database  # noqa: E402

AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
CENTRE = {"country": "CN", "province": "浙江省", "city": "金华市", "district": "义乌市",
          "line1": "稠江街道退货路88号", "postal_code": "322000"}
ELSEWHERE = CENTRE | {"city": "深圳市"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'orderpilot.db'}")
        yield database
        database.dispose()
        return
    require_pg()
    url = create_pg_database("mig22")
    database = Database(url)
    try:
        yield database
    finally:
        database.dispose()
        drop_pg_database(url)


def _table(conn: sa.Connection, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), autoload_with=conn)


def _seed(conn: sa.Connection) -> dict[str, str]:
    """An order with four returns as they stood before 0022 (no facts on the records)."""
    orders, events, returns, routes, centres = (_table(conn, n) for n in (
        "orders", "events", "returns", "return_routes", "return_centres"))
    oid = str(uuid.uuid4())
    ids = {name: str(uuid.uuid4()) for name in ("both", "route_copy", "return_copy", "none")}
    conn.execute(orders.insert().values(
        id=oid, channel="shopee", shop_id="S", external_id="M22", placed_at=AT, currency="CNY",
        customer_name="-", customer_phone="-", address_country="CN", address_line1="-",
        total_cents=1, tags=[], status="return_requested", status_changed_at=AT,
        created_at=AT, updated_at=AT))
    conn.execute(centres.insert().values(code="YIWU", name_zh="义乌", name_en="Yiwu",
                                         phone="", updated_by="t", updated_at=AT, **CENTRE))
    typed = {"both": (None, CENTRE), "route_copy": (CENTRE, ELSEWHERE),
             "return_copy": (CENTRE, None), "none": (None, None)}
    tags = {"both": ["wrong_size", "quality_issue", "wrong_size"], "route_copy": [],
            "return_copy": ["changed_mind"], "none": ["quality_issue"]}
    for name, rid in ids.items():
        on_return, on_route = typed[name]
        conn.execute(returns.insert().values(
            id=rid, order_id=oid, status="requested", source="api", reason_tags=tags[name],
            reason_text="", reasons_from="given", customer_address=on_return, rejected=False,
            created_at=AT, updated_at=AT, version=1))
        conn.execute(routes.insert().values(
            return_id=rid, order_id=oid, return_centre=None if name == "none" else "YIWU",
            status="routed", decision_required=False, routed_at=AT, updated_at=AT,
            customer_address=on_route))
    steps = [("both", "return.pickup_booked", 5), ("both", "return.pickup_booked", 2),
             ("both", "refund.succeeded", 30), ("route_copy", "return.received", 7),
             ("none", "return.shipped", 3)]
    for name, kind, hours in steps:
        conn.execute(events.insert().values(
            id=str(uuid.uuid4()), order_id=oid, type=kind, source="hub", system="hub",
            occurred_at=AT + timedelta(hours=hours), recorded_at=AT,
            payload={"data": {"return_id": ids[name]}}))
    conn.execute(events.insert().values(  # a step event naming no return counts for none
        id=str(uuid.uuid4()), order_id=oid, type="return.received", source="wms",
        system="wms", occurred_at=AT + timedelta(hours=1), recorded_at=AT,
        payload={"data": {}}))
    return ids


def _hours(value: Any) -> float | None:
    if value is None:
        return None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return float((value - AT) / timedelta(hours=1))


def test_the_backfill_finds_what_the_metrics_read_before(db: Database) -> None:
    migrations.upgrade(db, "0021")
    with db.write() as conn:
        ids = _seed(conn)
    migrations.upgrade(db, "0022")
    with db.read() as conn:
        returns, routes, tags = (_table(conn, n) for n in (
            "returns", "return_routes", "return_reason_tags"))
        steps = {r.id: (_hours(r.pickup_booked_at), _hours(r.received_at),
                        _hours(r.refunded_at)) for r in conn.execute(sa.select(returns))}
        matched = {r.return_id: r.typed_address_matched
                   for r in conn.execute(sa.select(routes))}
        by_return: dict[str, list[str]] = {}
        for r in conn.execute(sa.select(tags).order_by(tags.c.tag)):
            by_return.setdefault(r.return_id, []).append(r.tag)
    assert steps == {ids["both"]: (2.0, None, 30.0), ids["route_copy"]: (None, 7.0, None),
                     ids["return_copy"]: (None, None, None), ids["none"]: (None, None, None)}
    assert matched == {ids["both"]: True, ids["route_copy"]: False,
                       ids["return_copy"]: True, ids["none"]: None}
    assert by_return == {ids["both"]: ["quality_issue", "wrong_size"],
                         ids["route_copy"]: ["other"], ids["return_copy"]: ["changed_mind"],
                         ids["none"]: ["quality_issue"]}
    migrations.downgrade(db, "0021")  # and back: the facts go, the records stay
    with db.read() as conn:
        assert "return_reason_tags" not in sa.inspect(conn).get_table_names()
        assert "received_at" not in {c["name"] for c in sa.inspect(conn).get_columns("returns")}
        assert conn.execute(sa.select(sa.func.count()).select_from(
            _table(conn, "returns"))).scalar() == 4
