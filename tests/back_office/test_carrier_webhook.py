"""The generic carrier webhook (our contract): HMAC-signed JSON events on a waybill become
shipment events; a bad signature is 401, a bad body or an unknown waybill is quarantined."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from fastapi.testclient import TestClient

from back_office.conftest import (
    CARRIER_SECRET,
    SQLITE_ONLY,
    order_events,
    quarantined,
    shipment_row,
    shipped_order,
    status_of,
)
from orderpilot.bootstrap import Hub

EVENTS = [
    {"code": "in_transit", "occurred_at": "2026-11-27T08:00:00+08:00", "location": "杭州转运中心",
     "outlet": "HZ-01"},
    {"code": "out_for_delivery", "occurred_at": "2026-11-28T09:00:00+08:00",
     "location": "宁波北仑", "outlet": "NB-07"},
    {"code": "delivered", "occurred_at": "2026-11-28T15:30:00+08:00", "location": "宁波北仑"}]


def send(api: TestClient, body: Any, *, secret: str = CARRIER_SECRET, carrier: str = "yto",
         signature: str | None = None) -> Any:
    raw = json.dumps(body, ensure_ascii=False).encode() if not isinstance(body, bytes) else body
    header = signature if signature is not None else \
        "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return api.post(f"/hooks/carriers/{carrier}", content=raw,
                    headers={"X-Orderpilot-Signature": header,
                             "Content-Type": "application/json", "Authorization": ""})


def test_signed_events_move_the_order_with_place_and_outlet(api: TestClient, hub: Hub) -> None:
    order_id = shipped_order(api, hub, "YTO-1", "YT7000001", carrier="yto")
    r = send(api, {"tracking_number": "YT7000001", "carrier": "yto", "events": EVENTS})
    assert r.status_code == 200, r.text
    assert r.json() == {"recorded": 3, "duplicates": 0, "quarantined": 0}
    assert status_of(api, order_id) == "delivered"
    events = order_events(hub, order_id, source="yto")
    assert [(e.type, e.payload["data"]["status"]) for e in events] == [
        ("shipment.in_transit", "in_transit"), ("shipment.in_transit", "out_for_delivery"),
        ("shipment.delivered", "delivered")]
    assert events[1].payload["data"]["outlet"] == "NB-07"
    assert events[0].payload["data"]["location"] == "杭州转运中心"
    assert shipment_row(hub, "yto", "YT7000001").outlet_code == "NB-07"
    again = send(api, {"tracking_number": "YT7000001", "events": EVENTS})
    assert again.json() == {"recorded": 0, "duplicates": 3, "quarantined": 0}
    assert len(order_events(hub, order_id, source="yto")) == 3


@SQLITE_ONLY
def test_bad_or_missing_signatures_are_401_and_change_nothing(api: TestClient,
                                                               hub: Hub) -> None:
    order_id = shipped_order(api, hub, "YTO-2", "YT7000002", carrier="yto")
    body = {"tracking_number": "YT7000002", "events": EVENTS}
    assert send(api, body, secret="wrong").status_code == 401
    assert send(api, body, signature="").status_code == 401
    refused = send(api, body, carrier="zto")  # no secret configured for ZTO
    assert refused.status_code == 401
    assert refused.json()["error"]["message_zh"]
    assert status_of(api, order_id) == "shipped"
    assert order_events(hub, order_id, source="yto") == [] and quarantined(hub) == []


@SQLITE_ONLY
def test_a_bad_body_is_422_and_kept_with_its_field(api: TestClient, hub: Hub) -> None:
    r = send(api, {"tracking_number": "YT1", "events": [{"code": "lost_in_space",
                                                         "occurred_at": "2026-11-27T08:00:00Z"}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "events[0].code"
    r = send(api, {"tracking_number": "YT1", "events": [{"code": "delivered",
                                                         "occurred_at": "2026-11-27 08:00"}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "events[0].occurred_at"
    assert send(api, b'{"tracking_number": "YT1", "ev').status_code == 422
    assert [q.field for q in quarantined(hub)] == ["events[0].code", "events[0].occurred_at",
                                                   "body"]


@SQLITE_ONLY
def test_an_unknown_waybill_is_quarantined(api: TestClient, hub: Hub) -> None:
    r = send(api, {"tracking_number": "YT404", "events": EVENTS[:1]})
    assert r.status_code == 200 and r.json()["quarantined"] == 1
    [kept] = quarantined(hub)
    assert kept.source == "yto" and "YT404" in kept.reason


@SQLITE_ONLY
def test_the_documented_curl_example_signs_as_the_hub_checks(api: TestClient, hub: Hub) -> None:
    # docs/back_office/carriers.md: this body, this secret, this signature.
    body = ('{"tracking_number":"YT7000001","carrier":"yto","events":[{"code":"delivered",'
            '"occurred_at":"2026-11-28T15:30:00+08:00","location":"宁波北仑","outlet":"NB-07"}]}')
    signature = "sha256=b7ef1f7f7eeb431709ce8acd286769462d0eebb00e1f415e24f4b11ddb04bc88"
    order_id = shipped_order(api, hub, "YTO-3", "YT7000001", carrier="yto")
    r = send(api, body.encode(), signature=signature)
    assert r.json() == {"recorded": 1, "duplicates": 0, "quarantined": 0}
    assert status_of(api, order_id) == "delivered"
