"""SF Express: the documented msgDigest example, route mapping, and the route query client
against the simulator (signature checked for real, faults injected)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from orderpilot.config import Settings
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations import sf_express
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.sf_express import simulator
from orderpilot.integrations.sf_express.client import SfError, SfExpress
from orderpilot.integrations.sf_express.mapping import routes_from_push, routes_from_query
from orderpilot.integrations.sf_express.settings import SfSettings, configure
from orderpilot.integrations.sf_express.signing import msg_digest
from orderpilot.simulators.external.app import create_app

BEIJING = timezone(timedelta(hours=8))


def test_msg_digest_matches_sfs_documented_example() -> None:
    # open.sf-express.com 数字签名认证说明: this msgData, timestamp and checkword give this digest.
    assert msg_digest('{"language":"zh-CN","orderId":"QIAO-20200618-004"}', "12312334453453",
                      "fjcg5PGKaNpPSHFAZ4QsCOkV71R3zVci") == "IIKJtuLVzoFTu4kHI8M8vA=="


def test_msg_digest_encodes_like_javas_url_encoder() -> None:
    # Java's URLEncoder: space -> "+", "*" kept, "~" and "+" escaped, UTF-8 bytes escaped.
    expected = base64.b64encode(hashlib.md5(b"%E4%B8%AD+*%7E%2B1test").digest()).decode()
    assert msg_digest("中 *~+", 1, "test") == expected


QUERY_RESULT: dict[str, Any] = {"success": True, "errorCode": "S0000", "errorMsg": None,
                                "msgData": {"routeResps": [{"mailNo": "SF1040275268927",
                                                            "routes": [
    {"acceptTime": "2026-11-26 18:30:00", "acceptAddress": "深圳市",
     "remark": "顺丰速运 已收取快件", "opCode": "50"},
    {"acceptTime": "2026-11-27 02:10:00", "acceptAddress": "深圳市",
     "remark": "快件在【深圳宝安集散中心】完成分拣,准备发往下一站", "opCode": "30"},
    {"acceptTime": "2026-11-28 09:05:00", "acceptAddress": "宁波市",
     "remark": "快件交给张师傅,正在派送途中", "opCode": "44"},
    {"acceptTime": "2026-11-28 14:20:00", "acceptAddress": "宁波市",
     "remark": "已签收,感谢使用顺丰", "opCode": "80"},
    {"acceptTime": "2026-11-28 15:00:00", "acceptAddress": "宁波市", "remark": "其他",
     "opCode": "9999"}]}]}}


def test_route_nodes_become_shipment_events_in_beijing_time() -> None:
    events = routes_from_query(QUERY_RESULT)
    assert [(e.type, e.data["status"]) for e in events] == [
        ("shipment.shipped", "picked_up"), ("shipment.in_transit", "in_transit"),
        ("shipment.in_transit", "out_for_delivery"), ("shipment.delivered", "delivered"),
        ("system.status", "sf:9999")]
    first = events[0]
    assert first.occurred_at == datetime(2026, 11, 26, 18, 30, tzinfo=BEIJING)
    assert first.occurred_at.utcoffset() == timedelta(hours=8)
    assert first.source_event_id == "SF1040275268927:50:2026-11-26 18:30:00"
    assert first.data["tracking_number"] == "SF1040275268927" and first.data["carrier"] == "sf"
    assert events[1].data["outlet"] == "深圳宝安集散中心"
    assert events[1].data["accept_address"] == "深圳市"
    assert "outlet" not in first.data  # no outlet named: nothing invented


def test_push_body_maps_like_the_query_and_bad_nodes_name_their_field() -> None:
    body = {"Body": {"WaybillRoute": [{"mailno": "SF1", "orderid": "", "id": "158729",
                                       "acceptTime": "2026-11-26 18:30:00",
                                       "acceptAddress": "深圳市", "remark": "已收件",
                                       "opCode": "50", "reasonCode": "", "reasonName": ""}]}}
    [event] = routes_from_push(body)
    assert (event.tracking_number, event.type, event.data["route_id"]) == \
        ("SF1", "shipment.shipped", "158729")
    body["Body"]["WaybillRoute"][0]["acceptTime"] = "26/11/2026"
    with pytest.raises(MappingError) as bad:
        routes_from_push(body)
    assert bad.value.field == "Body.WaybillRoute[0].acceptTime" and bad.value.zh
    with pytest.raises(MappingError) as empty:
        routes_from_push({"Body": {}})
    assert empty.value.field == "Body.WaybillRoute"


def test_settings_point_at_the_simulator_with_its_test_values() -> None:
    s = configure(Settings(sim_url="http://127.0.0.1:9100", _env_file=None))  # type: ignore[call-arg]
    assert s is not None and s.base_url == "http://127.0.0.1:9100/sf_express/std/service"
    assert s.checkword.get_secret_value() == simulator.SIM_CREDENTIALS["checkword"]
    assert configure(Settings(_env_file=None)) is None  # type: ignore[call-arg]


@pytest.fixture
def sim() -> Iterator[TestClient]:
    with TestClient(create_app(integrations=IntegrationRegistry.of(
            sf_express.INTEGRATION))) as client:
        yield client


def client_for(sim: TestClient, checkword: str | None = None) -> SfExpress:
    settings = SfSettings(base_url="http://testserver/sf_express/std/service",
                          partner_id=simulator.SIM_CREDENTIALS["partner_id"],
                          checkword=SecretStr(checkword or
                                              simulator.SIM_CREDENTIALS["checkword"]))
    return SfExpress(settings, sim)


def add_routes(sim: TestClient, waybill: str, routes: list[dict[str, str]]) -> None:
    r = sim.post("/_sim/sf_express/routes", json={"waybill": waybill, "routes": routes})
    assert r.status_code == 200, r.text


def test_route_query_round_trip_through_the_simulator(sim: TestClient) -> None:
    add_routes(sim, "SF100", simulator.timeline(datetime(2026, 11, 26, 10, tzinfo=BEIJING),
                                                "SF100"))
    events = client_for(sim).search_routes(["SF100", "SF404"])
    assert [e.type for e in events] == ["shipment.shipped", "shipment.in_transit",
                                        "shipment.in_transit", "shipment.in_transit",
                                        "shipment.delivered"]
    assert events[-1].occurred_at == datetime(2026, 11, 27, 10, tzinfo=BEIJING)
    [record] = sim.get("/_sim/sf_express/requests").json()["requests"]
    form = record["body"]
    assert form["serviceCode"] == "EXP_RECE_SEARCH_ROUTES"
    assert json.loads(form["msgData"])["trackingNumber"] == ["SF100", "SF404"]


def test_a_wrong_checkword_gets_sfs_a1006(sim: TestClient) -> None:
    with pytest.raises(SfError) as refused:
        client_for(sim, checkword="not-the-checkword").search_routes(["SF100"])
    assert refused.value.code == "A1006" and not refused.value.retryable


def test_rate_limit_and_server_faults_are_retryable(sim: TestClient) -> None:
    sim.post("/_sim/sf_express/faults", json={"status": 429, "times": 1})
    sim.post("/_sim/sf_express/faults", json={"status": 503, "times": 1})
    client = client_for(sim)
    with pytest.raises(SfError) as limited:
        client.search_routes(["SF100"])
    assert (limited.value.code, limited.value.retryable) == ("A1005", True)
    with pytest.raises(SfError) as down:
        client.search_routes(["SF100"])
    assert (down.value.code, down.value.retryable) == ("http_503", True)
    assert client.search_routes(["SF100"]) == []  # the faults are used up


def test_more_than_ten_waybills_are_refused_before_calling(sim: TestClient) -> None:
    with pytest.raises(ValueError):
        client_for(sim).search_routes([f"SF{i}" for i in range(11)])
    assert sim.get("/_sim/sf_express/requests").json()["requests"] == []
