"""SF route pushes into the hub and the route poller: signed pushes become shipment events on
the order the waybill carries (with the outlet), bad signatures change nothing, unknown
waybills wait in quarantine, duplicates change nothing, and a lost push is caught up."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient
from pydantic import SecretStr

from back_office.conftest import (
    SF_PUSH_TOKEN,
    SQLITE_ONLY,
    drain,
    order_events,
    quarantined,
    shipment_row,
    shipped_order,
    status_of,
)
from orderpilot.adapters.quarantine import keep_in_quarantine
from orderpilot.bootstrap import Hub
from orderpilot.integrations.sf_express import simulator
from orderpilot.integrations.sf_express.client import SfExpress
from orderpilot.integrations.sf_express.settings import SfSettings
from orderpilot.services.carriers.route_poller import PollerSettings, RoutePoller

BEIJING = timezone(timedelta(hours=8))
HOOK = "http://testserver/hooks/carriers/sf"
START = datetime(2026, 11, 26, 18, 0, tzinfo=BEIJING)


def add_timeline(sim: TestClient, waybill: str, steps: int = 5) -> None:
    routes = simulator.timeline(START, waybill)[:steps]
    assert sim.post("/_sim/sf_express/routes",
                    json={"waybill": waybill, "routes": routes}).status_code == 200


def push(sim: TestClient, waybill: str, **more: Any) -> dict[str, Any]:
    r = sim.post("/_sim/sf_express/push", json={"hook_url": HOOK, "waybill": waybill, **more})
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_a_signed_push_moves_the_order_and_records_the_outlet(
        api: TestClient, hub: Hub, sim: TestClient) -> None:
    order_id = shipped_order(api, hub, "SF-A1", "SF1040275268927")
    add_timeline(sim, "SF1040275268927")
    answer = push(sim, "SF1040275268927")
    assert answer["status"] == 200
    assert json.loads(answer["body"]) == {"return_code": "0000", "return_msg": "成功"}
    assert status_of(api, order_id) == "delivered"
    events = order_events(hub, order_id, source="sf")
    assert [e.type for e in events] == ["shipment.shipped", "shipment.in_transit",
                                        "shipment.in_transit", "shipment.in_transit",
                                        "shipment.delivered"]
    sorted_node = events[1]
    assert sorted_node.payload["data"]["outlet"] == "深圳宝安集散中心"
    assert sorted_node.occurred_at == datetime(2026, 11, 27, 0, 0, tzinfo=BEIJING)
    row = shipment_row(hub, "sf", "SF1040275268927")
    assert row.order_id == order_id and row.delivered_at is not None
    assert row.outlet_code == "宁波北仑营业点"  # the latest node that named one


@SQLITE_ONLY
def test_a_bad_signature_is_401_and_changes_nothing(
        api: TestClient, hub: Hub, sim: TestClient) -> None:
    order_id = shipped_order(api, hub, "SF-A2", "SF200")
    add_timeline(sim, "SF200")
    nodes = simulator.timeline(START, "SF200")
    form = simulator.push_form("SF200", [{**n, "id": str(i)} for i, n in enumerate(nodes)],
                               credentials={**simulator.SIM_CREDENTIALS,
                                            "checkword": "a-forged-checkword"})
    before = len(order_events(hub, order_id))
    r = api.post("/hooks/carriers/sf", data=form)
    assert r.status_code == 401 and r.json()["return_code"] == "1000"
    tampered = {**simulator.push_form("SF200", [{**nodes[-1], "id": "9"}])}
    tampered["msgData"] = tampered["msgData"].replace("SF200", "SF201")
    assert api.post("/hooks/carriers/sf", data=tampered).status_code == 401
    unsigned = api.post("/hooks/carriers/sf", json={"Body": {"WaybillRoute": []}})
    assert unsigned.status_code == 401
    assert len(order_events(hub, order_id)) == before
    assert status_of(api, order_id) == "shipped" and quarantined(hub) == []


@SQLITE_ONLY
def test_sfs_documented_json_push_is_taken_with_the_url_token(api: TestClient,
                                                               hub: Hub) -> None:
    order_id = shipped_order(api, hub, "SF-J1", "SF600")
    body = {"Body": {"WaybillRoute": [
        {"mailno": "SF600", "orderid": "SF-J1", "acceptTime": "2026-11-27 08:00:00",
         "acceptAddress": "宁波市", "remark": "快件到达【宁波北仑营业点】", "opCode": "31",
         "id": "158729", "reasonCode": "", "reasonName": ""}]}}
    refused = [api.post("/hooks/carriers/sf", json=body),
               api.post("/hooks/carriers/sf?token=guess", json=body)]
    assert [r.status_code for r in refused] == [401, 401]
    assert status_of(api, order_id) == "shipped"
    r = api.post(f"/hooks/carriers/sf?token={SF_PUSH_TOKEN}", json=body)
    assert r.status_code == 200 and r.json() == {"return_code": "0000", "return_msg": "成功"}
    assert status_of(api, order_id) == "in_transit"
    assert shipment_row(hub, "sf", "SF600").outlet_code == "宁波北仑营业点"


@SQLITE_ONLY
def test_an_unknown_waybill_waits_in_quarantine(api: TestClient, hub: Hub,
                                                sim: TestClient) -> None:
    add_timeline(sim, "SF999", steps=2)
    answer = push(sim, "SF999")
    assert json.loads(answer["body"])["return_code"] == "0000"  # kept: no endless re-push
    [kept] = quarantined(hub)
    assert kept.source == "sf" and kept.field == "tracking_number"
    assert "SF999" in kept.reason and "2 route events" in kept.reason
    assert json.loads(kept.payload)["Body"]["WaybillRoute"][0]["mailno"] == "SF999"


@SQLITE_ONLY
def test_an_unreadable_push_is_kept_with_its_field(api: TestClient, hub: Hub) -> None:
    node = {**simulator.timeline(START, "SF300")[0], "id": "1", "acceptTime": "yesterday"}
    r = api.post("/hooks/carriers/sf", data=simulator.push_form("SF300", [node]))
    assert r.status_code == 200
    [kept] = quarantined(hub)
    assert kept.field == "Body.WaybillRoute[0].acceptTime"


def test_duplicate_and_replayed_pushes_change_nothing(
        api: TestClient, hub: Hub, sim: TestClient) -> None:
    order_id = shipped_order(api, hub, "SF-A3", "SF400")
    add_timeline(sim, "SF400", steps=3)
    assert push(sim, "SF400", times=3)["status"] == 200
    once = [(e.type, e.source_event_id) for e in order_events(hub, order_id, source="sf")]
    assert len(once) == 3
    push(sim, "SF400", all=True, times=2)  # SF pushing every node again
    drain(hub)
    assert [(e.type, e.source_event_id)
            for e in order_events(hub, order_id, source="sf")] == once
    assert status_of(api, order_id) == "in_transit" and quarantined(hub) == []


def poller(hub: Hub, sim: TestClient) -> RoutePoller:
    client = SfExpress(SfSettings(base_url="http://testserver/sf_express/std/service",
                                  partner_id=simulator.SIM_CREDENTIALS["partner_id"],
                                  checkword=SecretStr(simulator.SIM_CREDENTIALS["checkword"])),
                       sim)

    def keep(events: Any, reason: str) -> None:
        keep_in_quarantine(hub, "sf", "sf-route-poller", reason, "tracking_number",
                           json.dumps([e.tracking_number for e in events]))

    return RoutePoller("sf", client, hub.uow, hub.clock, keep,
                       PollerSettings(every=timedelta(minutes=30), batch_size=2))


def test_the_poller_catches_up_a_lost_push(api: TestClient, hub: Hub, sim: TestClient,
                                           clock: Any) -> None:
    order_id = shipped_order(api, hub, "SF-A4", "SF500")
    other = shipped_order(api, hub, "SF-A5", "SF501")
    add_timeline(sim, "SF500", steps=2)
    push(sim, "SF500")  # the first two nodes arrive by push
    later = simulator.timeline(START, "SF500")[2:]  # SF's pushes of these are lost
    sim.post("/_sim/sf_express/routes", json={"waybill": "SF500", "routes": later})
    polling = poller(hub, sim)
    sim.post("/_sim/sf_express/faults", json={"status": 503, "times": 1})
    assert polling.run_once() == 2  # one batch of both waybills: SF is down, nothing lost
    assert status_of(api, order_id) == "in_transit"
    assert polling.run_once() == 0  # polled just now: not due yet
    clock.advance(minutes=31)
    assert polling.run_once() == 2
    assert status_of(api, order_id) == "delivered" and status_of(api, other) == "shipped"
    types = [e.type for e in order_events(hub, order_id, source="sf")]
    assert types.count("shipment.shipped") == 1 and types[-1] == "shipment.delivered"
    assert len(types) == 5  # the poller saw all five; the two pushed ones changed nothing
    row = shipment_row(hub, "sf", "SF500")
    assert row.delivered_at == datetime(2026, 11, 27, 18, 0, tzinfo=BEIJING)
    clock.advance(minutes=31)
    assert polling.run_once() == 1  # delivered waybills are not asked again


@SQLITE_ONLY
def test_the_hub_builds_the_sf_poller_only_when_sf_is_configured(hub: Hub,
                                                                  tmp_path: Any) -> None:
    built = hub.route_poller()
    assert built is not None and built.carrier == "sf"
    assert isinstance(built.source, SfExpress)
    assert built.settings.every == timedelta(minutes=30)
    from orderpilot.bootstrap import bootstrap
    from orderpilot.config import Settings
    bare = bootstrap(Settings(data_dir=tmp_path / "bare", _env_file=None))  # type: ignore[call-arg]
    try:
        assert bare.route_poller() is None
    finally:
        bare.close()
