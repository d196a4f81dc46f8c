"""The walkthrough asking SF Express (the simulator) live: a parcel SF delivered whose
delivery never reached the hub shows up only when SF's route is asked; an order without a
waybill is not asked. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from back_office.conftest import shipped_order
from back_office.test_sf_express import add_routes, client_for, sim  # noqa: F401
from conftest import order_body
from orderpilot.adapters.audit_files import AuditFileWriter
from orderpilot.adapters.audit_runs import SqlAuditRuns
from orderpilot.adapters.walkthrough import SqlHistory
from orderpilot.adapters.walkthrough_live import CarrierRoutes
from orderpilot.bootstrap import Hub
from orderpilot.domain.times import SHANGHAI
from orderpilot.domain.walkthrough import Params
from orderpilot.integrations.sf_express import simulator
from orderpilot.integrations.sf_express.client import SfError
from orderpilot.services.walkthrough import LiveLookup, Walkthrough


def walkthrough(hub: Hub, lookups: list[LiveLookup]) -> Walkthrough:
    return Walkthrough(SqlHistory(hub.db), SqlAuditRuns(hub.db), AuditFileWriter(), hub.clock,
                       lookups)


def test_only_the_live_route_shows_a_delivery_the_hub_never_heard_of(
        hub: Hub, api: TestClient, sim: TestClient) -> None:  # noqa: F811
    shipped_order(api, hub, "SFW-1", "SF300")
    api.post("/api/v1/orders", json=order_body("NO-WAYBILL"))
    add_routes(sim, "SF300", simulator.timeline(datetime(2026, 11, 26, 15, tzinfo=SHANGHAI),
                                                "SF300"))
    quiet = walkthrough(hub, []).run(Params(10, 1), "test", None, pii=True)
    assert [f for o in quiet.result["orders"] for f in o["findings"]] == []

    routes = CarrierRoutes(hub.db, "sf", client_for(sim), errors=(SfError, ValueError))
    live = walkthrough(hub, [routes]).run(Params(10, 1), "test", None, pii=True)
    found = [(f["external_id"], f["system"], f["field"], f["hub_value"], f["system_value"],
              f["origin"], f["en"]) for o in live.result["orders"] for f in o["findings"]]
    assert found == [("SFW-1", "carrier", "status", "shipped", "delivered", "live",
                      "Carrier tracking says Delivered, the hub says Shipped")]
    carrier_views = {o["external_id"]: [(s["origin"], s["reference"]) for s in o["systems"]
                                        if s["system"] == "carrier"]
                     for o in live.result["orders"]}
    assert carrier_views["SFW-1"] == [("live", "SF300")]
    assert carrier_views["NO-WAYBILL"] == []
