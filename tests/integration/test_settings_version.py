"""The settings a dispatcher reads for every event (active webhooks, expectations, stock
strategies and sources) are kept from one batch to the next while the settings version stands,
and read again once it moves. Triggers raise it with every change to their tables, whoever
writes them: here plain SQL on another connection, which no repository would have told."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from conftest import order_body
from orderpilot.adapters import tables as t
from orderpilot.adapters.tables_settings_version import WATCHED
from orderpilot.bootstrap import Hub


def _version(hub: Hub) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(t.settings_version.c.n)).scalar_one())


def _subscription(hub: Hub, subscription_id: str, events: list[str]) -> None:
    with hub.db.write() as conn:
        conn.execute(t.webhook_subscriptions.insert(), {
            "id": subscription_id, "url": "http://127.0.0.1:9/hooks/", "events": events,
            "secret": "s" * 32, "status": "active", "created_at": hub.clock()})


def test_every_change_to_a_watched_table_raises_the_version(hub: Hub) -> None:
    with hub.db.read() as conn:
        if hub.db.is_sqlite:
            watched = {r[0] for r in conn.execute(sa.text(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'settings_version_%'"))}
        else:
            watched = {r[0] for r in conn.execute(sa.text(
                "SELECT event_object_table FROM information_schema.triggers "
                "WHERE trigger_name = 'settings_version_raise'"))}
    assert watched == set(WATCHED)
    seen = [_version(hub)]
    _subscription(hub, "w-1", ["order.placed"])
    seen.append(_version(hub))
    with hub.db.write() as conn:
        conn.execute(t.webhook_subscriptions.update().values(status="disabled"))
    seen.append(_version(hub))
    with hub.db.write() as conn:
        conn.execute(t.webhook_subscriptions.delete())
    seen.append(_version(hub))
    assert seen == sorted(set(seen)), seen  # raised by each change
    with hub.db.write() as conn:  # a table not watched leaves it alone
        conn.execute(t.wms_outbound.insert(), {"order_id": "o-1", "status": "due",
                                               "due_at": hub.clock(), "attempts": 0})
    assert _version(hub) == seen[-1]


def test_a_dispatcher_keeps_the_settings_until_the_version_moves(hub: Hub, api: Any) -> None:
    reads: list[str] = []

    @sa.event.listens_for(hub.db.engine, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM webhook_subscriptions" in statement:
            reads.append(statement)

    dispatcher = hub.dispatcher("kept")
    for number in (1, 2):
        assert api.post("/api/v1/orders", json=order_body(f"K-{number}")).status_code == 201
        assert dispatcher.run_once() >= 1
    assert len(reads) == 1  # read for the first batch, kept for the second
    _subscription(hub, "w-1", ["order.placed"])  # no repository forgets anything here
    placed = api.post("/api/v1/orders", json=order_body("K-3"))
    assert placed.status_code == 201
    assert dispatcher.run_once() >= 1
    assert len(reads) == 2
    with hub.db.read() as conn:
        delivered_for = [r.order_key for r in conn.execute(sa.select(t.webhook_deliveries))]
    assert delivered_for == [placed.json()["id"]]
    sa.event.remove(hub.db.engine, "before_cursor_execute", count)
