"""The SF client's return calls against the simulator: the outlet of a waybill, a return
pickup booked once per orderId and found again by it, a refusal as a business error, and a
bad signature refused before anything is booked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from orderpilot.integrations import sf_express
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.sf_express import simulator
from orderpilot.integrations.sf_express.client import SfError, SfExpress
from orderpilot.integrations.sf_express.returns import PICKUP_SLOT, ReturnPickup
from orderpilot.integrations.sf_express.settings import SfSettings
from orderpilot.simulators.external.app import create_app

START = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # 09:00 Beijing time


@pytest.fixture
def sim() -> Iterator[TestClient]:
    with TestClient(create_app(integrations=IntegrationRegistry.of(
            sf_express.INTEGRATION))) as client:
        yield client


def client_for(sim: TestClient, checkword: str | None = None) -> SfExpress:
    return SfExpress(SfSettings(base_url="http://testserver/sf_express/std/service",
                                partner_id=simulator.SIM_CREDENTIALS["partner_id"],
                                checkword=SecretStr(checkword or
                                                    simulator.SIM_CREDENTIALS["checkword"])),
                     sim)


def pickup(order_id: str = "RT-1", phone: str = "13900000001") -> ReturnPickup:
    address = {"country": "CN", "province": "广东省", "city": "深圳市", "district": "南山区",
               "line1": "科技园1号", "postal_code": "518000"}
    return ReturnPickup(order_id, {"name": "王小明", "phone": phone, "address": address},
                        {"name": "义乌退货中心", "phone": "0579", "address": address},
                        [{"sku": "DIAPER-L", "quantity": 2}], START)


def creates(sim: TestClient) -> int:
    return sum(1 for r in sim.get("/_sim/sf_express/requests").json()["requests"]
               if r["body"].get("serviceCode") == "EXP_RECE_CREATE_REVERSE_ORDER")


def test_the_outlet_is_the_latest_route_node_carrying_one(sim: TestClient) -> None:
    sim.post("/_sim/sf_express/routes", json={"waybill": "SF1", "routes": [
        {"opCode": "50", "deptCode": "SF-0100"}, {"opCode": "44", "deptCode": "SF-0278"},
        {"opCode": "80"}]})
    sim.post("/_sim/sf_express/routes", json={"waybill": "SF2", "routes": [{"opCode": "50"}]})
    sf = client_for(sim)
    assert sf.outlet_of("SF1") == "SF-0278"
    assert sf.outlet_of("SF2") is None


def test_a_pickup_is_booked_once_per_order_id_and_found_by_it(sim: TestClient) -> None:
    sf = client_for(sim)
    assert sf.find_return_pickup("RT-1") is None
    first = sf.book_return_pickup(pickup())
    again = sf.book_return_pickup(pickup())
    assert first == again and first.waybill.startswith("SF7")
    assert (first.start, first.end) == (START, START + PICKUP_SLOT)
    assert sf.find_return_pickup("RT-1") == first
    assert creates(sim) == 2  # two calls, one booking


def test_a_refused_pickup_is_a_business_error_and_a_bad_signature_books_nothing(
        sim: TestClient) -> None:
    sim.post("/_sim/sf_express/pickup_refusals", json={"mobile": "13900000099"})
    with pytest.raises(SfError) as refused:
        client_for(sim).book_return_pickup(pickup("RT-2", "13900000099"))
    assert refused.value.business and refused.value.code == "1010"
    with pytest.raises(SfError) as forged:
        client_for(sim, "wrong-checkword").book_return_pickup(pickup("RT-3"))
    assert forged.value.code == "A1006" and not forged.value.business
    assert client_for(sim).find_return_pickup("RT-3") is None
