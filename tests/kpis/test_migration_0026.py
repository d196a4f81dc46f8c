"""Migration 0026 backfills ``orders.delivered_at`` from the first delivered event of each order
(nothing else: ``promised_by`` stays null, no promise was given before), and goes back down.
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from integration.test_migration_0022 import _table, db  # noqa: F401 - the database fixture
from orderpilot.adapters import migrations
from orderpilot.adapters.db import Database

AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def test_the_first_delivery_is_backfilled(db: Database) -> None:  # noqa: F811
    migrations.upgrade(db, "0023")
    ids = {name: str(uuid.uuid4()) for name in ("twice", "never")}
    with db.write() as conn:
        orders, events = _table(conn, "orders"), _table(conn, "events")
        for name, oid in ids.items():
            conn.execute(orders.insert().values(
                id=oid, channel="shopee", shop_id="S", external_id=name, placed_at=AT,
                currency="CNY", customer_name="-", customer_phone="-", address_country="CN",
                address_line1="-", total_cents=1, tags=[], status="delivered",
                status_changed_at=AT, created_at=AT, updated_at=AT))
        conn.execute(events.insert(), [
            {"id": str(uuid.uuid4()), "order_id": oid, "type": kind, "source": "sf",
             "system": "carrier", "occurred_at": AT + timedelta(hours=hours),
             "recorded_at": AT, "payload": {}}
            for oid, kind, hours in ((ids["twice"], "shipment.delivered", 50),
                                     (ids["twice"], "shipment.delivered", 30),
                                     (ids["twice"], "order.completed", 20),
                                     (ids["never"], "shipment.shipped", 10))])
    migrations.upgrade(db, "0026")
    with db.read() as conn:
        orders = _table(conn, "orders")
        found = {r.external_id: (r.delivered_at, r.promised_by)
                 for r in conn.execute(sa.select(orders))}
    delivered, promised = found["twice"]
    assert delivered is not None and promised is None
    assert delivered.replace(tzinfo=delivered.tzinfo or UTC) == AT + timedelta(hours=30)
    assert found["never"] == (None, None)
    migrations.downgrade(db, "0023")
    with db.read() as conn:
        assert "delivered_at" not in _table(conn, "orders").c
