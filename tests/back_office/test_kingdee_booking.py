"""Paid orders booked in Kingdee (the simulator) exactly once: the queue, partial batches,
transient failures, a crash between the call and the record, receivables as events, and the
mapping API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import FakeClock, order_body, require_pg
from conftest_pg import create_pg_database, drop_pg_database
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.bootstrap import Hub
from orderpilot.integrations import kingdee
from orderpilot.integrations.kingdee import simulator
from orderpilot.integrations.kingdee.client import KingdeeClient
from orderpilot.integrations.kingdee.erp import KingdeeErp
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.services.back_office.booking import BookingSettings, ErpBookingWorker
from orderpilot.simulators.external.app import create_app


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """SQLite for most tests (fast); the claims and the crash run on PostgreSQL as well."""
    if request.param == "sqlite":
        yield None
        return
    require_pg()
    url = create_pg_database("kd")
    try:
        yield url
    finally:
        drop_pg_database(url)


BOTH = pytest.mark.parametrize("database_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def api(hub: Hub, tokens: dict[str, str]) -> Iterator[Any]:
    """The hub's API with the ERP routes (app.py includes them once the lead wires them)."""
    from orderpilot.entrypoints.api import back_office
    from orderpilot.entrypoints.api.app import create_app as create_api

    app = create_api(hub, with_console=False)
    if not any(getattr(r, "path", "").startswith("/api/v1/erp") for r in app.routes):
        app.include_router(back_office.router)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {tokens['admin']}"
        yield client


@pytest.fixture
def sim() -> Iterator[TestClient]:
    app = create_app(integrations=IntegrationRegistry.of(kingdee.INTEGRATION))
    with TestClient(app) as client:
        client.delete("/_sim/kingdee")
        yield client


class Crash(BaseException):
    """As a kill -9 would: nothing after it runs (a BaseException passes every handler)."""


def make_worker(hub: Hub, sim: TestClient, *, crash_at: str | None = None,
                batch_size: int = 50) -> ErpBookingWorker:
    client = KingdeeClient(sim, "http://testserver/kingdee/k3cloud",
                           acct_id=simulator.SIM_ACCT_ID, username=simulator.SIM_USERNAME,
                           app_id=simulator.SIM_APP_ID, app_secret=simulator.SIM_APP_SECRET)

    def stop_at(point: str) -> None:
        if point == crash_at:
            raise Crash(point)

    return ErpBookingWorker(lambda: SqlUnitOfWork(hub.db), KingdeeErp(client), hub.clock,
                            "test-worker", BookingSettings(batch_size=batch_size),
                            stop_at=stop_at)


def paid_order(api: Any, hub: Hub, external_id: str, **changes: Any) -> str:
    order_id: str = api.post("/api/v1/orders", json=order_body(external_id, **changes)
                             ).json()["id"]
    response = api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "shopee", "source_event_id": f"pay-{external_id}",
        "occurred_at": "2026-11-26T10:05:00+08:00"})
    assert response.status_code == 201, response.text
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():
        pass
    return order_id


def events(api: Any, order_id: str, kind: str) -> list[dict[str, Any]]:
    timeline = api.get(f"/api/v1/orders/{order_id}/events").json()
    found = timeline["items"]
    return [e for e in found if e["type"] == kind]


def bills(sim: TestClient) -> list[str]:
    return sorted(b["FBillNo"] for b in sim.get("/_sim/kingdee/bills").json()["bills"])


def test_a_paid_order_is_booked_once_with_erp_booked(hub: Hub, api: Any,
                                                     sim: TestClient) -> None:
    order_id = paid_order(api, hub, "2411260001SG")
    worker = make_worker(hub, sim)
    done = worker.run_once()
    assert done.booked == ["2411260001SG"]
    assert bills(sim) == ["2411260001SG"]
    booked = events(api, order_id, "erp.booked")
    assert len(booked) == 1 and booked[0]["source"] == "kingdee"
    assert booked[0]["source_event_id"] == "2411260001SG"
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "erp_booked"
    assert len(worker.run_once()) == 0  # nothing left to do
    overview = api.get("/api/v1/erp/bookings").json()
    assert overview["counts"] == {"queued": 0, "booked": 1, "stopped": 0}


def test_a_partial_batch_books_the_good_bills_and_stops_the_bad_one(
        hub: Hub, api: Any, sim: TestClient) -> None:
    ids = [paid_order(api, hub, f"PB{i}") for i in range(3)]
    sim.post("/_sim/kingdee/partial", json={"fail_bill_nos": ["PB1"],
                                             "reason": "第1行分录，物料编码“DIAPER-L”不存在"})
    done = make_worker(hub, sim).run_once()
    assert sorted(done.booked) == ["PB0", "PB2"] and done.stopped == ["PB1"]
    assert bills(sim) == ["PB0", "PB2"]
    assert events(api, ids[1], "erp.booked") == []
    failures = api.get("/api/v1/erp/bookings").json()["failures"]
    assert [(f["bill_no"], f["status"]) for f in failures] == [("PB1", "stopped")]
    assert "物料编码" in failures[0]["last_error"]
    # staff fix the material in Kingdee, then queue it again
    sim.post("/_sim/kingdee/partial", json={"fail_bill_nos": []})
    assert api.post(f"/api/v1/erp/bookings/{ids[1]}/retry").status_code == 200
    assert make_worker(hub, sim).run_once().booked == ["PB1"]
    assert bills(sim) == ["PB0", "PB1", "PB2"]


def test_an_outage_is_retried_with_backoff(hub: Hub, api: Any, sim: TestClient,
                                           clock: FakeClock) -> None:
    paid_order(api, hub, "OUT1")
    worker = make_worker(hub, sim)
    # the receivables read meets the first 503, the booking's login the second
    sim.post("/_sim/kingdee/faults", json={"status": 503, "times": 3})
    assert worker.run_once().retried == ["OUT1"]
    assert len(worker.run_once()) == 0  # not due yet
    clock.advance(seconds=31)
    assert worker.run_once().retried == ["OUT1"]  # the third, on the look-up before resend
    assert len(worker.run_once()) == 0
    clock.advance(seconds=61)
    assert worker.run_once().booked == ["OUT1"]  # looked up (not there), then sent
    assert bills(sim) == ["OUT1"]


@pytest.mark.parametrize(("database_url", "point"), [
    ("sqlite", "erp.after_call"), ("sqlite", "erp.before_call"),
    ("postgres", "erp.after_call")], indirect=["database_url"])
def test_a_crash_around_the_call_never_books_twice(hub: Hub, api: Any, sim: TestClient,
                                                   clock: FakeClock, point: str) -> None:
    order_id = paid_order(api, hub, "CRASH1")
    with pytest.raises(Crash):
        make_worker(hub, sim, crash_at=point).run_once()
    clock.advance(seconds=121)  # the lease runs out; another worker takes over
    done = make_worker(hub, sim).run_once()
    if point == "erp.after_call":  # Kingdee has it: found by the look-up, not sent again
        assert done.found == ["CRASH1"] and done.booked == []
    else:  # never sent: the look-up finds nothing and it is sent now
        assert done.booked == ["CRASH1"]
    assert bills(sim) == ["CRASH1"]
    assert len(events(api, order_id, "erp.booked")) == 1


def test_a_taken_bill_number_that_is_ours_counts_as_booked(hub: Hub, api: Any,
                                                           sim: TestClient) -> None:
    paid_order(api, hub, "DUP1")
    # Kingdee already holds DUP1 (sent by an earlier hub run whose record was lost), and the
    # booking row does not know it was sent: the duplicate answer leads to a look-up
    client = KingdeeClient(sim, "http://testserver/kingdee/k3cloud",
                           acct_id=simulator.SIM_ACCT_ID, username=simulator.SIM_USERNAME,
                           app_id=simulator.SIM_APP_ID, app_secret=simulator.SIM_APP_SECRET)
    client.save_sale_orders([{"FBillNo": "DUP1", "FDate": "2026-11-26",
                              "FCustId": {"FNumber": "C"}, "FSaleOrgId": {"FNumber": "100"},
                              "FSaleOrderEntry": [{"FMaterialId": {"FNumber": "X"},
                                                   "FQty": 1}]}], auto_audit=True)
    done = make_worker(hub, sim).run_once()
    assert done.found == ["DUP1"] and bills(sim) == ["DUP1"]


def test_receivables_become_events_once(hub: Hub, api: Any, sim: TestClient,
                                        clock: FakeClock) -> None:
    order_id = paid_order(api, hub, "AR1")
    worker = make_worker(hub, sim)
    worker.run_once()
    sim.post("/_sim/kingdee/receivables", json={"receivables": [
        {"bill_no": "AR00001", "order_no": "AR1", "amount": "258.00", "status": "A",
         "modified_at": "2026-11-26T11:00:00+08:00"},
        {"bill_no": "AR00002", "order_no": "NOT-OURS", "amount": "9.00", "status": "A",
         "modified_at": "2026-11-26T11:00:00+08:00"}]})
    assert worker.poll_receivables() == 1
    opened = events(api, order_id, "erp.receivable_opened")
    assert len(opened) == 1
    assert opened[0]["payload"]["data"]["amount"] == "258.00"
    assert opened[0]["source_event_id"] == "AR00001:opened"
    assert opened[0]["occurred_at"].startswith("2026-11-26T03:00:00")  # Kingdee's time, UTC
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "erp_booked"  # view only
    assert worker.poll_receivables() == 0  # the same bill again: nothing new
    sim.post("/_sim/kingdee/close", json={"bill_no": "AR00001",
                                          "at": "2026-11-26T12:00:00+08:00"})
    assert worker.poll_receivables() == 1
    assert len(events(api, order_id, "erp.receivable_closed")) == 1
    clock.advance(minutes=6)
    assert worker.run_once().receivable_events == 0  # on its timer: nothing new


def test_the_demo_receivables_follow_the_booked_bills(hub: Hub, api: Any,
                                                     sim: TestClient) -> None:
    order_id = paid_order(api, hub, "DEMO1")
    worker = make_worker(hub, sim)
    worker.run_once()
    made = sim.post("/_sim/kingdee/receivables_from_bills", json={}).json()["made"]
    assert len(made) == 1
    assert worker.poll_receivables() == 1
    opened = events(api, order_id, "erp.receivable_opened")
    assert opened[0]["payload"]["data"]["amount"] == "258.00"  # 2 x 129.00, no discount


def test_the_mapping_api_validates_in_both_languages(hub: Hub, api: Any, sim: TestClient,
                                                     tokens: dict[str, str]) -> None:
    shown = api.get("/api/v1/erp/mapping").json()
    assert shown["customised"] is False and shown["mapping"]["head"]["FBillNo"] == \
        "order.external_id"
    document = shown["mapping"]
    document["head"]["FBillNo"] = "order.id"
    document["entry"]["FQty"] = "order.nothing"
    refused = api.put("/api/v1/erp/mapping", json=document)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "erp.mapping_invalid" and "金蝶字段映射无效" in error["message_zh"]
    assert {d["field"] for d in error["details"]} == {"head.FBillNo", "entry.FQty"}
    assert all(d["message_zh"] for d in error["details"])
    viewer = api.put("/api/v1/erp/mapping", json=shown["mapping"],
                     headers={"Authorization": f"Bearer {tokens['viewer']}"})
    assert viewer.status_code == 403
    document = api.get("/api/v1/erp/mapping").json()["mapping"]
    document["lookups"]["customers"]["values"] = {"shopee": "C-SHOPEE"}
    assert api.put("/api/v1/erp/mapping", json=document).status_code == 200
    assert api.get("/api/v1/erp/mapping").json()["customised"] is True
    paid_order(api, hub, "MAP1")
    make_worker(hub, sim).run_once()
    held = sim.get("/_sim/kingdee/bills").json()["bills"]
    assert held[0]["Model"]["FCustId"] == {"FNumber": "C-SHOPEE"}


def test_an_order_the_mapping_cannot_express_stops_alone(hub: Hub, api: Any,
                                                         sim: TestClient) -> None:
    paid_order(api, hub, "SGD1", currency="SGD")
    paid_order(api, hub, "CNY1")
    done = make_worker(hub, sim).run_once()
    assert done.booked == ["CNY1"] and done.stopped == ["SGD1"]
    failures = api.get("/api/v1/erp/bookings?status=stopped").json()["bookings"]
    assert "SGD" in failures[0]["last_error"] and "查找表" in failures[0]["last_error"]


@BOTH
def test_the_lease_keeps_two_workers_apart(hub: Hub, api: Any, sim: TestClient,
                                           clock: FakeClock) -> None:
    paid_order(api, hub, "L1")
    with SqlUnitOfWork(hub.db) as uow:
        claimed = uow.back_office.claim("other", 10, timedelta(seconds=120), clock())
    assert [b.bill_no for b in claimed] == ["L1"]
    assert len(make_worker(hub, sim).run_once()) == 0
    clock.advance(seconds=121)
    assert make_worker(hub, sim).run_once().booked == ["L1"]


def test_with_the_simulator_the_hub_has_an_erp_worker(tmp_path: Any) -> None:
    from orderpilot.bootstrap import bootstrap
    from orderpilot.config import Settings

    hub = bootstrap(Settings(data_dir=tmp_path / "d", sim_url="http://127.0.0.1:9100",
                             _env_file=None))  # type: ignore[call-arg]
    try:
        worker = hub.erp_worker()
        assert worker is not None and worker.erp.name == "kingdee"
    finally:
        hub.close()
    plain = bootstrap(Settings(data_dir=tmp_path / "e", _env_file=None))  # type: ignore[call-arg]
    try:
        assert plain.erp_worker() is None  # not configured: no worker, bookings wait
    finally:
        plain.close()
