"""The columnar snapshot: what is loaded from the hub's tables, in chunks, and what a second
refresh adds (new events, changed orders, duplicate reports); on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from conftest import FakeClock, order_body
from orderpilot.adapters.analytics import snapshot as snapshot_module
from orderpilot.adapters.analytics.snapshot import Snapshot, cents
from orderpilot.bootstrap import Hub


def report(api: Any, order_id: str, type_: str, source: str, ref: str, at: str,
           **data: Any) -> Any:
    answer = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": type_, "source": source, "source_event_id": ref, "occurred_at": at,
        "data": data})
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def test_a_refresh_loads_events_orders_lines_and_duplicates_then_only_what_changed(
        hub: Hub, api: Any, clock: FakeClock, monkeypatch: Any) -> None:
    monkeypatch.setattr(snapshot_module, "CHUNK", 2)  # several chunks even for a few rows
    ids = [api.post("/api/v1/orders", json=order_body(f"SNAP-{n}")).json()["id"]
           for n in range(3)]
    report(api, ids[0], "payment.succeeded", "shopee", "p0", "2026-11-26T10:05:00+08:00",
           amount="128.50")
    report(api, ids[0], "payment.succeeded", "shopee", "p0", "2026-11-26T10:05:00+08:00",
           amount="128.50")  # a duplicate
    snap = Snapshot(hub.db)
    first = snap.refresh()
    assert (first.orders, first.lines, first.duplicates) == (3, 3, 1)
    with snap.cursor() as cur:
        rows = cur.execute(
            "SELECT type, source, system, outcome, from_node, to_node, amount_cents, "
            "strftime(occurred_at, '%Y-%m-%d %H:%M:%S') FROM events "
            "WHERE order_id = ? AND type = 'payment.succeeded'", [ids[0]]).fetchall()
        assert rows == [("payment.succeeded", "shopee", "storefront", "moved", "placed", "paid",
                         12850, "2026-11-26 02:05:00")]
        assert cur.execute("SELECT count(*) FROM events").fetchone()[0] == first.events
        assert cur.execute("SELECT status FROM orders WHERE id = ?",
                           [ids[0]]).fetchone()[0] == "paid"
        assert cur.execute("SELECT source, source_event_id, order_id FROM duplicate_reports"
                           ).fetchall() == [("shopee", "p0", ids[0])]

    clock.advance(minutes=5)
    report(api, ids[1], "payment.succeeded", "shopee", "p1", "2026-11-26T10:06:00+08:00")
    second = snap.refresh()
    assert second.events >= 1 and second.orders >= 1
    with snap.cursor() as cur:
        statuses = dict(cur.execute("SELECT id, status FROM orders").fetchall())
        assert statuses == {ids[0]: "paid", ids[1]: "paid", ids[2]: "placed"}
        assert cur.execute("SELECT count(*) FROM order_lines").fetchone()[0] == 3
        assert cur.execute("SELECT count(*), count(DISTINCT id) FROM events").fetchone() == \
            (first.events + second.events,) * 2
        assert cur.execute("SELECT count(*) FROM duplicate_reports").fetchone()[0] == 1
    third = snap.refresh()
    assert third.events == 0
    snap.close()


def test_amounts_in_cents_and_what_is_not_an_amount() -> None:
    assert [cents(v) for v in ("128.50", 99, "0.005", None, "", "1e3x", "NaN")] == \
        [12850, 9900, 0, None, None, None, None]


def test_order_tags_are_copied_and_an_older_copy_without_them_is_loaded_again(
        hub: Hub, api: Any, tmp_path: Any) -> None:
    tagged = api.post("/api/v1/orders", json=order_body("TAG-1", tags=["vip", "赠品"])).json()
    plain = api.post("/api/v1/orders", json=order_body("TAG-2")).json()
    path = tmp_path / "old.duckdb"
    old = Snapshot(hub.db, path)
    old.refresh()
    with old.cursor() as cur:  # what a copy written by an earlier version looks like
        cur.execute("ALTER TABLE orders DROP COLUMN tags")
        cur.execute("ALTER TABLE events DROP COLUMN order_seq")
        cur.execute("UPDATE snapshot_meta SET value = '1' WHERE key = 'schema'")
        cur.execute("CREATE TABLE flow_pairs (order_id VARCHAR)")  # derived from the old rows
    old.close()
    snap = Snapshot(hub.db, path)
    first = snap.refresh()
    assert first.orders == 2 and first.events > 0  # loaded again from the start
    with snap.cursor() as cur:
        tags = dict(cur.execute("SELECT id, tags FROM orders").fetchall())
        assert cur.execute("SELECT count(*) FROM events e JOIN orders o ON o.seq = e.order_seq "
                           "AND o.id = e.order_id").fetchone()[0] == first.events
        assert cur.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_name = 'flow_pairs'").fetchone()[0] == 0
    assert tags == {tagged["id"]: ["vip", "赠品"], plain["id"]: []}
    snap.close()
