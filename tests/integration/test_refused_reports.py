"""Refused system reports are kept and shown per system, on SQLite and PostgreSQL; the refusal
itself is answered as before and changes nothing (docs/exceptions-retry-and-refusals.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from conftest import FakeClock, order_body
from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.errors import NotFound
from orderpilot.services.refused_reports import keep_refusal


def report(api: Any, order_id: str, type_: str, source: str, ref: str | None = None,
           **data: Any) -> Any:
    body: dict[str, Any] = {"type": type_, "source": source,
                            "occurred_at": "2026-11-26T10:05:00+08:00", "data": data}
    if ref is not None:
        body["source_event_id"] = ref
    return api.post(f"/api/v1/orders/{order_id}/events", json=body)


def placed(api: Any, ext: str = "R1") -> str:
    order_id: str = api.post("/api/v1/orders", json=order_body(ext)).json()["id"]
    return order_id


def drain(hub: Hub) -> None:
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():
        pass


def events_of(hub: Hub, order_id: str) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t.events)
                                .where(t.events.c.order_id == order_id)).scalar_one())


def test_an_illegal_step_is_refused_as_before_and_kept(api: Any, hub: Hub) -> None:
    order_id = placed(api)
    before = events_of(hub, order_id)
    r = report(api, order_id, "wms.packed", "wms", "WMS-7", parcel="P1")
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "placed"
    assert events_of(hub, order_id) == before
    [kept] = api.get("/api/v1/refused-reports").json()["items"]
    assert {k: kept[k] for k in ("system", "source", "order_id", "event_type",
                                 "source_event_id", "from_status", "reason", "times")} == {
        "system": "wms", "source": "wms", "order_id": order_id, "event_type": "wms.packed",
        "source_event_id": "WMS-7", "from_status": "placed", "reason": "illegal_step",
        "times": 1}
    assert kept["payload"] == {"data": {"parcel": "P1"}}
    assert "Placed" in kept["detail"]


def test_a_resent_refusal_counts_once_with_times(api: Any, hub: Hub, clock: FakeClock) -> None:
    order_id = placed(api)
    for _ in range(3):
        assert report(api, order_id, "wms.packed", "wms", "WMS-7").status_code == 409
        clock.advance(minutes=1)
    [kept] = api.get("/api/v1/refused-reports", params={"system": "wms"}).json()["items"]
    assert kept["times"] == 3 and kept["last_seen_at"] > kept["received_at"]


def test_unknown_orders_and_holds_are_kept_with_their_reason(api: Any, hub: Hub) -> None:
    missing = report(api, "no-such-order", "shipment.shipped", "sf", "SF-1")
    assert missing.status_code == 404
    order_id = placed(api)
    assert api.post(f"/api/v1/orders/{order_id}/holds",
                    json={"reason": "address_incomplete"}).status_code == 201
    assert report(api, order_id, "payment.succeeded", "shopee").status_code == 201
    on_hold = report(api, order_id, "wms.released", "wms")
    assert on_hold.status_code == 409
    kept = api.get("/api/v1/refused-reports").json()["items"]
    assert [(k["reason"], k["system"]) for k in kept] in (
        [("on_hold", "wms"), ("unknown_order", "carrier")],
        [("illegal_step", "wms"), ("unknown_order", "carrier")])
    assert kept[1]["from_status"] is None
    by_reason = api.get("/api/v1/refused-reports", params={"reason": "unknown_order"}).json()
    assert [k["order_id"] for k in by_reason["items"]] == ["no-such-order"]
    bad = api.get("/api/v1/refused-reports", params={"reason": "nonsense"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "reason"


def test_the_summary_per_system_and_paging(api: Any, hub: Hub) -> None:
    order_id = placed(api)
    for i in range(3):
        report(api, order_id, "wms.packed", "wms", f"W-{i}")
    report(api, order_id, "shipment.delivered", "sf", "SF-1")
    summary = api.get("/api/v1/refused-reports/summary").json()
    systems = {s["system"]: s for s in summary["systems"]}
    assert [s["system"] for s in summary["systems"]] == ["wms", "carrier"]
    assert systems["wms"]["count"] == 3 and systems["wms"]["today"] == 3
    assert systems["wms"]["reasons"] == {"illegal_step": 3}
    assert systems["wms"]["top_event_types"] == [{"event_type": "wms.packed", "count": 3}]
    assert sum(systems["wms"]["per_day"].values()) == 3
    assert summary["reasons"]["illegal_step"]["zh"] == "不允许的状态跳转"
    first = api.get("/api/v1/refused-reports", params={"limit": 3}).json()
    second = api.get("/api/v1/refused-reports",
                     params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert second["next_cursor"] is None
    assert api.get("/api/v1/refused-reports", params={"cursor": "x"}).status_code == 422


def test_refusals_are_kept_thirty_days(api: Any, hub: Hub, clock: FakeClock) -> None:
    order_id = placed(api)
    report(api, order_id, "wms.packed", "wms", "OLD")
    clock.advance(days=31)
    report(api, order_id, "wms.packed", "wms", "NEW")  # wakes the day's sweep
    drain(hub)
    kept = api.get("/api/v1/refused-reports").json()["items"]
    assert [k["source_event_id"] for k in kept] == ["NEW"]


def test_bad_input_is_not_a_refusal_and_is_not_kept(api: Any, hub: Hub) -> None:
    order_id = placed(api)
    assert report(api, order_id, "wms.teleported", "wms", "W-9").status_code == 422
    assert api.get("/api/v1/refused-reports").json()["items"] == []


def test_the_keeping_days_are_a_setting(database_url: str | None, tmp_path: Path,
                                        clock: FakeClock) -> None:
    hub = bootstrap(Settings(data_dir=tmp_path / "keep", database_url=database_url,
                             refused_reports_keep_days=2, _env_file=None),  # type: ignore[call-arg]
                    clock=clock)
    try:
        migrations.upgrade(hub.db)
        def refused(ref: str) -> None:
            keep_refusal(hub.uow, hub.clock, NotFound("gone"), order_id="x",
                         event_type="wms.packed", source="wms", source_event_id=ref, data={})

        refused("OLD")
        clock.advance(days=3)
        refused("NEW")  # wakes its day's sweep
        drain(hub)
        with hub.db.read() as conn:
            kept = conn.execute(sa.select(t.refused_reports.c.source_event_id)).scalars().all()
        assert kept == ["NEW"]
    finally:
        hub.close()


def test_the_payload_is_masked_without_pii_read(api: Any, hub: Hub,
                                                tokens: dict[str, str]) -> None:
    order_id = placed(api)
    report(api, order_id, "wms.packed", "wms", "W-1", receiver_phone="13912345678")
    seen = api.get("/api/v1/refused-reports",
                   headers={"Authorization": f"Bearer {tokens['viewer']}"}).json()
    assert "13912345678" not in str(seen["items"][0]["payload"])
