"""The walkthrough asking Kingdee (the simulator) live: a receivable amount changed in the ERP
after the hub's last report, and a sale order the hub recorded as booked that the ERP does not
hold, show up only when the ERP is asked; a failed look-up falls back to the last reports and
says so. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import order_body
from orderpilot.adapters.audit_files import AuditFileWriter
from orderpilot.adapters.audit_runs import SqlAuditRuns
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.adapters.walkthrough import SqlHistory
from orderpilot.adapters.walkthrough_live import ErpReceivable, ErpSaleOrder
from orderpilot.bootstrap import Hub
from orderpilot.domain.walkthrough import Params
from orderpilot.integrations import kingdee
from orderpilot.integrations.kingdee import simulator
from orderpilot.integrations.kingdee.client import KingdeeClient
from orderpilot.integrations.kingdee.erp import KingdeeErp
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.services.back_office.booking import BookingSettings, ErpBookingWorker
from orderpilot.services.walkthrough import LiveLookup, Walkthrough
from orderpilot.simulators.external.app import create_app


@pytest.fixture
def sim() -> Iterator[TestClient]:
    app = create_app(integrations=IntegrationRegistry.of(kingdee.INTEGRATION))
    with TestClient(app) as client:
        client.delete("/_sim/kingdee")
        yield client


def kingdee_client(sim: TestClient, base: str = "http://testserver/kingdee/k3cloud"
                   ) -> KingdeeClient:
    return KingdeeClient(sim, base, acct_id=simulator.SIM_ACCT_ID,
                         username=simulator.SIM_USERNAME, app_id=simulator.SIM_APP_ID,
                         app_secret=simulator.SIM_APP_SECRET)


def walkthrough(hub: Hub, lookups: list[LiveLookup]) -> Walkthrough:
    return Walkthrough(SqlHistory(hub.db), SqlAuditRuns(hub.db), AuditFileWriter(), hub.clock,
                       lookups)


def findings(run: Any) -> set[tuple[str, str, str, str, str, str]]:
    return {(f["external_id"], f["system"], f["field"], f["hub_value"], f["system_value"],
             f["origin"]) for o in run.result["orders"] for f in o["findings"]}


def test_only_the_live_erp_shows_what_changed_after_the_last_report(
        hub: Hub, api: Any, sim: TestClient) -> None:
    ids = {}
    for name in ("LV-BOOKED", "LV-MISSING"):
        ids[name] = api.post("/api/v1/orders", json=order_body(name)).json()["id"]
        assert api.post(f"/api/v1/orders/{ids[name]}/events", json={
            "type": "payment.succeeded", "source": "shopee", "source_event_id": f"p-{name}",
            "occurred_at": "2026-11-26T09:59:50+08:00"}).status_code == 201
    dispatcher = hub.dispatcher("t")
    while dispatcher.run_once():  # queues both bookings
        pass
    # Kingdee books LV-BOOKED only (the simulator refuses the other one's bill for good).
    sim.post("/_sim/kingdee/partial", json={"fail_bill_nos": ["LV-MISSING"]})
    client = kingdee_client(sim)
    ErpBookingWorker(lambda: SqlUnitOfWork(hub.db), KingdeeErp(client), hub.clock, "w",
                     BookingSettings()).run_once()
    # ... but someone reported it booked by hand, so the hub believes the ERP has it.
    assert api.post(f"/api/v1/orders/{ids['LV-MISSING']}/events", json={
        "type": "erp.booked", "source": "kingdee", "source_event_id": "by-hand",
        "occurred_at": "2026-11-26T09:59:55+08:00"}).status_code == 201
    # The ERP's receivable was reported at the right amount; finance then changed it to
    # 200.00 in Kingdee, which reported nothing since.
    assert api.post(f"/api/v1/orders/{ids['LV-BOOKED']}/events", json={
        "type": "erp.receivable_opened", "source": "kingdee", "source_event_id": "ar-1",
        "occurred_at": "2026-11-26T09:59:58+08:00",
        "data": {"amount": "258.00", "bill_no": "AR-1"}}).status_code == 201
    sim.post("/_sim/kingdee/receivables", json={"receivables": [
        {"bill_no": "AR-1", "order_no": "LV-BOOKED", "amount": "200.00"}]})

    from_reports = walkthrough(hub, []).run(Params(10, 1), "test", None, pii=True)
    assert findings(from_reports) == set()
    assert from_reports.summary["en"].startswith("2/2 consistent")

    live = walkthrough(hub, [ErpSaleOrder(client), ErpReceivable(client)]).run(
        Params(10, 1), "test", None, pii=True)
    assert findings(live) == {
        ("LV-BOOKED", "erp_receivable", "amount", "258.00", "200.00", "live"),
        ("LV-MISSING", "erp", "presence", "LV-MISSING", "", "live")}
    assert live.summary["en"].startswith("0/2 consistent")
    booked = next(o for o in live.result["orders"] if o["external_id"] == "LV-BOOKED")
    assert {(s["system"], s["origin"], s["status"], s["reference"])
            for s in booked["systems"]} >= {("erp", "live", "audited", "LV-BOOKED"),
                                            ("erp_receivable", "live", "open", "AR-1")}
    assert live.result["live_systems"] == ["erp", "erp_receivable"]


def test_a_failed_live_look_up_falls_back_to_the_last_reports_and_says_so(
        hub: Hub, api: Any, sim: TestClient) -> None:
    order_id = api.post("/api/v1/orders", json=order_body("LV-DOWN")).json()["id"]
    assert api.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "erp.receivable_opened", "source": "kingdee", "source_event_id": "ar-d",
        "occurred_at": "2026-11-26T09:59:58+08:00",
        "data": {"amount": "250.00"}}).status_code == 201
    broken = kingdee_client(sim, "http://testserver/no-such-erp")
    run = walkthrough(hub, [ErpReceivable(broken)]).run(Params(10, 1), "test", None,
                                                         pii=True)
    assert findings(run) == {("LV-DOWN", "erp_receivable", "amount", "258.00", "250.00",
                              "report")}
    assert [(n["order_id"], n["system"]) for n in run.result["notes"]] == [
        (order_id, "erp_receivable")]
    assert run.result["notes"][0]["en"].startswith("live look-up failed")
