"""Youzan's encrypted buyer fields: the youzan.cloud.secret.decrypt.batch call (shape, batch
limit, errors) against a recording transport and the simulator, and what the hub maps."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from orderpilot.domain.channel_orders import Account, PlatformError, TokenExpired
from orderpilot.domain.withheld import NOT_AUTHORISED, NOT_DECRYPTED
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.youzan import INTEGRATION, PLATFORM, decryption
from orderpilot.integrations.youzan.sim_orders import seal, unseal
from orderpilot.integrations.youzan.simulator import SIM_CREDENTIALS, SIM_REGION, SIM_SHOP_ID
from orderpilot.simulators.external.app import create_app

NAME, PHONE, STREET = seal("王芳"), seal("13800138000"), seal("文三路90号3栋1201室")
MOBILE = re.compile(r"^1[3-9]\d{9}$")


def account(**changes: Any) -> Account:
    values: dict[str, Any] = {"code": "yz-shop", "platform": "youzan", "shop_id": SIM_SHOP_ID,
                              "region": SIM_REGION, "base_url": "http://testserver/youzan",
                              "credentials": dict(SIM_CREDENTIALS)}
    values.update(changes)
    return Account(**values)


def trade(tid: str = "E20260301100000000000001", **address: Any) -> dict[str, Any]:
    return {"full_order_info": {
        "order_info": {"tid": tid},
        "address_info": {"receiver_name": NAME, "receiver_tel": PHONE,
                         "delivery_address": STREET, "delivery_province": "浙江省",
                         "self_fetch_info": "", **address},
        "buyer_info": {"buyer_phone": PHONE, "fans_nickname": "", "yz_open_id": "yz1"}}}


class Recording:
    """A Youzan gateway behind httpx.MockTransport: records each request, answers ANSWER."""

    def __init__(self, answer: Any = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.answer is not None:
            return httpx.Response(200, json=self.answer)
        sources = json.loads(request.content)["sources"]
        return httpx.Response(200, json={"success": True, "code": 200, "message": "successful",
                                         "data": {s: unseal(s) for s in sources}})

    def client(self) -> Any:
        http = httpx.Client(transport=httpx.MockTransport(self))
        return PLATFORM.client(account(base_url="https://open.youzanyun.com"), http,
                               lambda: datetime.now(UTC))


def test_the_decrypt_call_is_the_batch_api_with_the_token_in_the_query() -> None:
    gateway = Recording()
    revealed = decryption.reveal(gateway.client(), [trade()])
    [request] = gateway.requests
    assert request.method == "POST"
    assert request.url.path == "/api/youzan.cloud.secret.decrypt.batch/1.0.0"
    assert request.url.params["access_token"] == SIM_CREDENTIALS["access_token"]
    assert request.headers["content-type"] == "application/json"
    # Each distinct ciphertext once (the phone is both receiver_tel and buyer_phone); never an
    # empty string (Youzan fails the whole call with 10500 on one).
    assert json.loads(request.content) == {"sources": [NAME, PHONE, STREET]}
    address = revealed.readable[0]["full_order_info"]["address_info"]
    assert (address["receiver_name"], address["receiver_tel"], address["delivery_address"]) \
        == ("王芳", "13800138000", "文三路90号3栋1201室")
    assert revealed.problem is None


def test_the_raw_trade_is_left_as_youzan_sent_it() -> None:
    raw = trade()
    before = json.dumps(raw, sort_keys=True)
    revealed = decryption.reveal(Recording().client(), [raw])
    assert json.dumps(raw, sort_keys=True) == before
    order = PLATFORM.map_order(revealed.readable[0] | {"full_order_info": {
        **revealed.readable[0]["full_order_info"], **_money()}}, account())
    assert (order.buyer_name, order.buyer_phone, order.address["line1"]) == (
        "王芳", "13800138000", "文三路90号3栋1201室")


def _money() -> dict[str, Any]:
    return {"order_info": {"tid": "E20260301100000000000001", "status": "WAIT_SELLER_SEND_GOODS",
                           "created": "2026-03-01 10:00:00", "update_time": "2026-03-01 10:01:00",
                           "pay_time": "2026-03-01 10:00:30"},
            "pay_info": {"payment": "19.90", "post_fee": "0.00"},
            "orders": [{"oid": "1", "item_id": 1, "sku_id": 0, "outer_item_id": "WIPES-80",
                        "num": 1, "price": "19.90", "total_fee": "19.90", "title": "湿巾"}]}


def test_a_trade_without_ciphertext_makes_no_call() -> None:
    gateway = Recording()
    plain = trade(receiver_name="王芳", receiver_tel="13800138000", delivery_address="文三路")
    plain["full_order_info"]["buyer_info"]["buyer_phone"] = "13800138000"
    assert decryption.reveal(gateway.client(), [plain]).readable[0] == plain
    assert gateway.requests == []


def test_more_ciphertexts_than_one_call_takes_are_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decryption, "MAX_SOURCES", 4)
    gateway = Recording()
    trades = [trade(f"E2026030110000000000000{n}", receiver_name=seal(f"买家{n}"))
              for n in range(5)]
    revealed = decryption.reveal(gateway.client(), trades)
    sizes = [len(json.loads(r.content)["sources"]) for r in gateway.requests]
    assert sizes == [4, 3]  # 5 names + the shared phone + the shared street
    assert [t["full_order_info"]["address_info"]["receiver_name"]
            for t in revealed.readable] == [f"买家{n}" for n in range(5)]


@pytest.mark.parametrize(("answer", "marker", "problem"), [
    ({"gw_err_resp": {"err_code": 4004, "err_msg": "应用没有该API的访问权限"}}, NOT_AUTHORISED,
     "not authorised"),
    ({"success": False, "code": 50001, "message": "未授权解密"}, NOT_AUTHORISED, "not authorised"),
    ({"success": False, "code": 10500, "message": "系统异常"}, NOT_DECRYPTED, "10500"),
    ({"success": True, "code": 200, "data": {}}, NOT_DECRYPTED, "3 of 3 values"),
])
def test_a_lasting_refusal_takes_the_order_with_the_fields_withheld(
        answer: Any, marker: str, problem: str) -> None:
    revealed = decryption.reveal(Recording(answer).client(), [trade()])
    full = revealed.readable[0]["full_order_info"]
    assert [full["address_info"][k] for k in ("receiver_name", "receiver_tel",
                                              "delivery_address")] == [marker] * 3
    assert full["buyer_info"]["buyer_phone"] == marker
    assert revealed.problem is not None and problem in revealed.problem


def test_transient_failures_and_expired_tokens_are_raised_for_a_retry() -> None:
    server_error = httpx.Client(transport=httpx.MockTransport(
        lambda request: httpx.Response(503, text="busy")))
    client = PLATFORM.client(account(), server_error, lambda: datetime.now(UTC))
    with pytest.raises(PlatformError) as failed:
        decryption.reveal(client, [trade()])
    assert failed.value.transient
    expired = Recording({"gw_err_resp": {"err_code": 4203, "err_msg": "Token 不存在"}})
    with pytest.raises(TokenExpired):
        decryption.reveal(expired.client(), [trade()])


# -- against the simulator ------------------------------------------------------------------

@pytest.fixture
def sim() -> Iterator[TestClient]:
    app = create_app(integrations=IntegrationRegistry.of(INTEGRATION))
    with TestClient(app) as http:
        yield http


def _sim_client(sim: TestClient, **changes: Any) -> Any:
    return PLATFORM.client(account(**changes), sim, lambda: datetime.now(UTC))


def _generated(sim: TestClient, count: int) -> list[dict[str, Any]]:
    ids = sim.post("/_sim/youzan/generate", json={
        "count": count, "seed": 11, "start": "2026-03-01T00:00:00+00:00",
        "spread_seconds": 600}).json()["external_ids"]
    raws: list[dict[str, Any]] = _sim_client(sim).get_orders(ids)
    return raws


def test_the_simulator_encrypts_like_youzan_and_decrypts_with_the_shop_token(
        sim: TestClient) -> None:
    raws = _generated(sim, 3)
    for raw in raws:
        address = raw["full_order_info"]["address_info"]
        assert all(decryption.is_cipher(address[k])
                   for k in ("receiver_name", "receiver_tel", "delivery_address"))
    revealed = decryption.reveal(_sim_client(sim), raws)
    assert revealed.problem is None
    for readable in revealed.readable:
        order = PLATFORM.map_order(readable, account())
        assert MOBILE.match(order.buyer_phone), order.buyer_phone
        assert re.match(r"^[\u4e00-\u9fff]{2,3}$", order.buyer_name), order.buyer_name
        assert "号" in order.address["line1"] and "$" not in order.address["line1"]
    stranger = _sim_client(sim, credentials={**SIM_CREDENTIALS, "access_token": "nope"})
    with pytest.raises(TokenExpired):
        decryption.reveal(stranger, raws)


def test_the_simulator_enforces_the_batch_limit_and_refuses_empty_sources(
        sim: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _sim_client(sim)
    assert client.decrypt([NAME, "13800138000"]) == {NAME: "王芳", "13800138000": "13800138000"}
    with pytest.raises(PlatformError) as empty:
        client.decrypt([NAME, ""])
    assert "10500" in empty.value.message and not empty.value.transient
    with pytest.raises(PlatformError) as too_many:
        client.decrypt([NAME] * 10_001)
    assert "10000" in too_many.value.message


def test_a_shop_without_the_permission_gets_withheld_fields(sim: TestClient) -> None:
    raws = _generated(sim, 2)
    assert sim.post("/_sim/youzan/decrypt_permission", json={"allowed": False}).json() == {
        "allowed": False}
    revealed = decryption.reveal(_sim_client(sim), raws)
    assert revealed.problem is not None and "not authorised" in revealed.problem
    order = PLATFORM.map_order(revealed.readable[0], account())
    assert (order.buyer_name, order.buyer_phone, order.address["line1"]) == (
        NOT_AUTHORISED, NOT_AUTHORISED, NOT_AUTHORISED)
    sim.post("/_sim/youzan/decrypt_permission", json={"allowed": True})
    assert decryption.reveal(_sim_client(sim), raws).problem is None


