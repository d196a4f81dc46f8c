"""Youzan: push signatures, the mapping of a real trade.get answer, push reading, and the
client against the simulator (paging, 429, 5xx, expired token, refresh, round trip)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from orderpilot.domain.channel_orders import (
    Account,
    Hook,
    MappingError,
    PlatformError,
    RateLimited,
    TokenExpired,
)
from orderpilot.domain.withheld import NOT_DECRYPTED
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.youzan import INTEGRATION, PLATFORM, signing
from orderpilot.integrations.youzan.simulator import (
    SIM_CREDENTIALS,
    SIM_REGION,
    SIM_SHOP_ID,
    push_of,
)
from orderpilot.simulators.external.app import create_app

client_module = importlib.import_module("orderpilot.integrations.youzan.client")
BEIJING = ZoneInfo("Asia/Shanghai")
SAMPLE = json.loads((Path(__file__).parent / "youzan_trade_sample.json").read_text())
D = Decimal


def account(**changes: Any) -> Account:
    values: dict[str, Any] = {"code": "yz-shop", "platform": "youzan", "shop_id": SIM_SHOP_ID,
                              "region": SIM_REGION, "base_url": "http://testserver/youzan",
                              "credentials": dict(SIM_CREDENTIALS)}
    values.update(changes)
    return Account(**values)


def bj(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)


# -- signing (no documented example exists: hand-computed MD5 values) --------------------

def test_event_sign_is_md5_of_client_id_body_secret() -> None:
    body = b'{"type":"trade_TradeCreate","id":"E1"}'
    expected = "216f2704f5b278eb574db6dcea299824"  # md5(client_id + body + secret)
    assert signing.event_sign(SIM_CREDENTIALS["client_id"], body,
                              SIM_CREDENTIALS["client_secret"]) == expected
    assert signing.event_sign_ok("3f2a9c1d7b5e804c6a", body, "sim-youzan-secret-7d1e4c2b9a",
                                 "216F2704F5B278EB574DB6DCEA299824")
    assert not signing.event_sign_ok("3f2a9c1d7b5e804c6a", body + b" ",
                                     "sim-youzan-secret-7d1e4c2b9a",
                                     "216f2704f5b278eb574db6dcea299824")


def test_legacy_sign_over_msg_as_sent_or_decoded() -> None:
    encoded = "%7B%22tid%22%3A%22E1%22%7D"
    assert signing.legacy_sign("abc", encoded, "def") == "4f574228deebd492e3a0e3e6d725422d"
    assert signing.legacy_sign_ok("abc", encoded, "def", "4f574228deebd492e3a0e3e6d725422d")
    assert signing.legacy_sign_ok("abc", encoded, "def", "81a3dda795e71e75f71ead48a231031c")
    assert not signing.legacy_sign_ok("abc", encoded, "xyz", "4f574228deebd492e3a0e3e6d725422d")
    assert not signing.legacy_sign_ok("abc", encoded, "def", "")


# -- mapping: a real youzan.trade.get answer (github.com/zedisdog/youzanphp TradeTest.php) -

def test_real_trade_maps_with_exact_money_lines_times_and_statuses() -> None:
    order = PLATFORM.map_order(SAMPLE, account())
    assert order.external_id == "E20190326101702000600011"
    assert order.placed_at == bj("2019-03-26 10:17:02")
    assert order.updated_at == bj("2019-03-26 10:29:56")
    assert order.placed_at.utcoffset() == timedelta(hours=8)
    assert order.currency == "CNY" and order.status == "TRADE_CLOSED"
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.discount, ln.item_ids) for ln in order.lines] \
        == [("8002", 2, D("0.30"), D("0.00"), ("1507387350277163963",)),
            ("8001", 3, D("0.20"), D("0.00"), ("1507387350277163964",))]
    assert order.shipping_fee == D("0.00") and order.paid_total == D("1.00")
    assert order.adjustments == (("seller_discount", D("-0.20")),)  # 满减送, nothing unexplained
    assert order.expected_total() == order.paid_total
    assert [(s.event_type, s.status, s.occurred_at) for s in order.statuses] == [
        ("payment.succeeded", "TRADE_PAID", bj("2019-03-26 10:17:08")),
        ("order.cancelled", "TRADE_CLOSED", bj("2019-03-26 10:29:56")),
        ("refund.succeeded", "refund_state:12", bj("2019-03-26 10:29:56"))]
    assert order.address == {"country": "CN", "province": "四川省", "city": "成都市",
                             "district": "高新区", "line1": "成都天府软件园", "postal_code": ""}
    assert order.buyer_name == "yht测试" and order.buyer_phone == "13618649324"
    assert order.packages[0].package_id == "201903261017110000060006"
    assert order.packages[0].item_ids == ("1507387350277163963", "1507387350277163964")


def _trade(**info: Any) -> dict[str, Any]:
    trade = json.loads(json.dumps(SAMPLE["data"]))
    trade["full_order_info"]["order_info"].update(info)
    return trade


def test_a_ciphertext_never_reaches_the_hub_order() -> None:
    trade = _trade()
    trade["full_order_info"]["address_info"].update(
        receiver_name="$Qn/ZHaMby1MzBq3Rw2t7fw==$1$", receiver_tel="$eTS8t8hAECdXKgNtV6DIfw==$1$",
        delivery_address="$kZgIwkQL5Q0O6anzQHraoyM4mfyGHtYXxdgpah0BLTZ==$1$")
    order = PLATFORM.map_order(trade, account())
    assert (order.buyer_name, order.buyer_phone, order.address["line1"]) == (
        NOT_DECRYPTED, NOT_DECRYPTED, NOT_DECRYPTED)
    trade["full_order_info"]["address_info"].update(receiver_name="王芳",
                                                   receiver_tel="13800138000")
    order = PLATFORM.map_order(trade, account())
    assert (order.buyer_name, order.buyer_phone) == ("王芳", "13800138000")


def test_item_discount_coupon_postage_and_unexplained_difference() -> None:
    trade = _trade(status="WAIT_SELLER_SEND_GOODS", refund_state=0)
    line = trade["full_order_info"]["orders"][0]
    line.update(price="100.00", discount_price="90.00", num=2, total_fee="200.00", sku_id=36001,
                outer_sku_id="", outer_item_id="")
    trade["full_order_info"]["orders"] = [line]
    trade["full_order_info"]["pay_info"].update(post_fee="8.00", payment="167.99")
    trade["order_promotion"] = {"order_discount_fee": "10.00", "adjust_fee": "0.01", "order": [
        {"promotion_type": "coupon", "discount_fee": "10.00"}]}
    order = PLATFORM.map_order(trade, account())
    assert order.lines[0].sku == "YZ-457846930-36001"
    assert order.lines[0].discount == D("20.00")
    assert order.adjustments == (("seller_voucher", D("-10.00")), ("seller_discount", D("-0.01")),
                                 ("other", D("-10.00")))  # 180 + 8 - 10 - 0.01 = 177.99 != 167.99


def test_total_fee_after_item_discount_is_also_accepted() -> None:
    trade = _trade()
    line = trade["full_order_info"]["orders"][0]
    line.update(price="10.00", discount_price="8.33", num=3, total_fee="25.00")
    order = PLATFORM.map_order(trade, account())
    assert order.lines[0].discount == D("5.00")


@pytest.mark.parametrize(("change", "field"), [
    (lambda t: t["full_order_info"]["order_info"].update(status="WAIT_GROUP"),
     "full_order_info.order_info.status"),
    (lambda t: t["full_order_info"]["order_info"].update(tid=None),
     "full_order_info.order_info.tid"),
    (lambda t: t["full_order_info"]["orders"][0].update(total_fee="9.99"),
     "full_order_info.orders[0].total_fee"),
    (lambda t: t["full_order_info"]["orders"][0].update(discount_price="0.31"),
     "full_order_info.orders[0].discount_price"),
    (lambda t: t["full_order_info"]["orders"][0].update(price="abc"),
     "full_order_info.orders[0].price"),
    (lambda t: t["full_order_info"]["orders"][0].update(price="0.305"),
     "full_order_info.orders[0].price"),
    (lambda t: t["full_order_info"]["orders"][0].update(num=0),
     "full_order_info.orders[0].num"),
    (lambda t: t["full_order_info"].update(orders=[]), "full_order_info.orders"),
    (lambda t: t["full_order_info"]["order_info"].update(created="26/03/2019"),
     "full_order_info.order_info.created"),
])
def test_what_cannot_be_mapped_is_refused_with_the_field(change: Any, field: str) -> None:
    trade = _trade()
    change(trade)
    with pytest.raises(MappingError) as refused:
        PLATFORM.map_order(trade, account())
    assert refused.value.field == field


def test_every_status_has_a_row_and_labels() -> None:
    statuses = {row.status for row in PLATFORM.statuses}
    assert {"WAIT_BUYER_PAY", "TRADE_PAID", "WAIT_CONFIRM", "WAIT_SELLER_SEND_GOODS",
            "WAIT_BUYER_CONFIRM_GOODS", "TRADE_SUCCESS", "TRADE_CLOSED"} <= statuses
    assert all(row.zh and row.en for row in PLATFORM.statuses)
    success = PLATFORM.map_order(_trade(status="TRADE_SUCCESS", refund_state=0,
                                        success_time="2019-03-27 09:00:00"), account())
    assert success.statuses[-1].event_type == "order.completed"
    assert success.statuses[-1].occurred_at == bj("2019-03-27 09:00:00")


# -- push ----------------------------------------------------------------------------------

def _hook(headers: dict[str, str]) -> Hook:
    return Hook(url="https://hub.example/hooks/yz-shop",
                headers={k.lower(): v for k, v in headers.items()}, query={})


def test_push_verifies_over_the_exact_body() -> None:
    raw, headers = push_of(SAMPLE["data"])
    assert PLATFORM.verify_push(account(), _hook(headers), raw)
    assert not PLATFORM.verify_push(account(), _hook(headers), raw.replace(b"E2019", b"E2018"))
    bad = {**headers, "Event-Sign": "0" * 32}
    assert not PLATFORM.verify_push(account(), _hook(bad), raw)
    other_key = account(credentials={**SIM_CREDENTIALS, "client_secret": "another-secret"})
    assert not PLATFORM.verify_push(other_key, _hook(headers), raw)
    other_app = {**headers, "Client-Id": "someone-else"}
    assert not PLATFORM.verify_push(account(), _hook(other_app), raw)


def test_push_without_header_uses_the_legacy_body_sign() -> None:
    raw, _ = push_of(SAMPLE["data"])
    assert PLATFORM.verify_push(account(), _hook({}), raw)
    tampered = json.loads(raw)
    tampered["sign"] = "f" * 32
    assert not PLATFORM.verify_push(account(), _hook({}), json.dumps(tampered).encode())


def test_read_push_names_the_order_and_replays_share_the_key() -> None:
    trade = _trade(status="WAIT_SELLER_SEND_GOODS", refund_state=0)
    first, _ = push_of(trade, send_count=1)
    again, _ = push_of(trade, send_count=2)
    [notice] = PLATFORM.read_push(first)
    assert notice.external_id == "E20190326101702000600011"
    assert notice.status == "WAIT_SELLER_SEND_GOODS" and notice.kind == "order"
    assert notice.update_time == bj("2019-03-26 10:29:56")
    assert notice.raw is None  # the hub fetches the whole order
    assert PLATFORM.read_push(again)[0].dedup_key == notice.dedup_key
    closed, _ = push_of(_trade())  # trade_TradeClose: msg is not the whole order
    assert PLATFORM.read_push(closed)[0].external_id == "E20190326101702000600011"
    assert PLATFORM.read_push(closed)[0].dedup_key != notice.dedup_key


def test_other_pushes_and_broken_ones() -> None:
    item = json.dumps({"type": "ITEM_STATE", "id": "457846930", "msg": "%7B%7D",
                       "msg_id": "m-1"}).encode()
    assert PLATFORM.read_push(item)[0].kind == "other"
    raw, _ = push_of(SAMPLE["data"])
    with pytest.raises(MappingError):
        PLATFORM.read_push(raw[: len(raw) // 2])
    with pytest.raises(MappingError):
        PLATFORM.read_push(b'{"type": "trade_TradeClose", "msg": ""}')
    assert PLATFORM.ack.status == 200 and json.loads(PLATFORM.ack.body) == {"code": 0,
                                                                             "msg": "success"}


# -- client against the simulator ---------------------------------------------------------

@pytest.fixture
def sim() -> Iterator[TestClient]:
    app = create_app(integrations=IntegrationRegistry.of(INTEGRATION))
    with TestClient(app) as http:
        yield http


def _client(sim: TestClient, **changes: Any) -> Any:
    return PLATFORM.client(account(**changes), sim, lambda: datetime.now(UTC))


START = datetime(2026, 3, 1, tzinfo=UTC)


def _generate(sim: TestClient, count: int, spread: int = 3600) -> list[str]:
    answer = sim.post("/_sim/youzan/generate", json={"count": count, "seed": 7,
                                                     "start": START.isoformat(),
                                                     "spread_seconds": spread})
    ids: list[str] = answer.json()["external_ids"]
    return ids


def _all_refs(client: Any, since: datetime, until: datetime) -> list[str]:
    refs: list[str] = []
    cursor = None
    while True:
        page = client.list_orders(since, until, cursor)
        refs += page.refs
        cursor = page.next_cursor
        if cursor is None:
            return refs


def test_paging_over_pages_and_round_trip_maps(sim: TestClient) -> None:
    ids = _generate(sim, 250)
    client = _client(sim)
    first = client.list_orders(START, START + timedelta(hours=2), None)
    assert len(first.refs) == 100 and first.next_cursor
    refs = _all_refs(client, START, START + timedelta(hours=2))
    assert sorted(refs) == sorted(ids)
    assert _all_refs(client, START + timedelta(hours=3), START + timedelta(hours=4)) == []
    raws = client.get_orders([*refs[:20], "E00000000000000000000000"])
    assert len(raws) == 20
    for raw in raws:
        order = PLATFORM.map_order(raw, account())
        assert order.lines and order.paid_total == order.expected_total()
    assert client.check() == "母婴优选小程序店"


def test_a_crowded_window_is_split(sim: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_RESULTS", 150)
    ids = _generate(sim, 320, spread=1200)
    refs = _all_refs(_client(sim), START, START + timedelta(hours=1))
    assert sorted(refs) == sorted(ids)


def test_rate_limit_then_success_and_server_error(sim: TestClient) -> None:
    _generate(sim, 3)
    client = _client(sim)
    sim.post("/_sim/youzan/faults", json={"status": 429, "times": 1})
    with pytest.raises(RateLimited):
        client.list_orders(START, START + timedelta(hours=2), None)
    assert len(client.list_orders(START, START + timedelta(hours=2), None).refs) == 3
    sim.post("/_sim/youzan/faults", json={"status": 503, "times": 1})
    with pytest.raises(PlatformError) as failed:
        client.get_orders(["E1"])
    assert failed.value.transient


def test_expired_token_then_refresh(sim: TestClient) -> None:
    ids = _generate(sim, 2)
    client = _client(sim)
    assert len(client.get_orders(ids)) == 2
    sim.post("/_sim/youzan/expire_tokens")
    with pytest.raises(TokenExpired):
        client.get_orders(ids)
    tokens = client.refresh()
    assert tokens is not None and tokens.access_token
    assert tokens.expires_at is not None
    assert timedelta(days=6) < tokens.expires_at - datetime.now(UTC) <= timedelta(days=7)
    assert len(client.get_orders(ids)) == 2
    fresh = _client(sim, credentials={**SIM_CREDENTIALS, "access_token": tokens.access_token})
    assert len(fresh.get_orders(ids[:1])) == 1


def test_wrong_secret_and_unknown_token(sim: TestClient) -> None:
    stranger = _client(sim, credentials={**SIM_CREDENTIALS, "access_token": "nope"})
    with pytest.raises(TokenExpired):
        stranger.check()
    wrong = _client(sim, credentials={**SIM_CREDENTIALS, "client_secret": "wrong"})
    with pytest.raises(PlatformError) as refused:
        wrong.refresh()
    assert not refused.value.transient


def test_status_moves_and_the_push_reads_back(sim: TestClient) -> None:
    [tid] = _generate(sim, 1)
    at = (START + timedelta(hours=5)).isoformat()
    assert sim.post("/_sim/youzan/status", json={"external_id": tid, "status": "TRADE_SUCCESS",
                                                "at": at}).json() == {"ok": True}
    [raw] = _client(sim).get_orders([tid])
    order = PLATFORM.map_order(raw, account())
    assert order.status == "TRADE_SUCCESS"
    assert order.statuses[-1].occurred_at == START + timedelta(hours=5)
    body, headers = push_of(raw)
    assert PLATFORM.verify_push(account(), _hook(headers), body)
    assert PLATFORM.read_push(body)[0].external_id == tid


def test_push_route_signs_and_posts_to_the_hook(sim: TestClient,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bool, str]] = []
    hub = FastAPI()

    @hub.post("/hooks/yz-shop")
    async def receive(request: Request) -> Response:
        body = await request.body()
        ok = PLATFORM.verify_push(account(), _hook(dict(request.headers)), body)
        seen.append((ok, PLATFORM.read_push(body)[0].dedup_key))
        return Response(PLATFORM.ack.body, PLATFORM.ack.status,
                        media_type=PLATFORM.ack.media_type)

    sender = importlib.import_module("orderpilot.simulators.external.channel_contract")
    monkeypatch.setattr(sender, "httpx", SimpleNamespace(
        Client=lambda timeout: TestClient(hub), HTTPError=httpx.HTTPError))
    [tid] = _generate(sim, 1)
    answer = sim.post("/_sim/youzan/push", json={"hook_url": "http://testserver/hooks/yz-shop",
                                                 "external_id": tid, "times": 2}).json()
    assert answer["status"] == 200 and json.loads(answer["body"]) == {"code": 0, "msg": "success"}
    assert [ok for ok, _ in seen] == [True, True] and seen[0][1] == seen[1][1]
