"""Youzan after-sales (维权): a refund.get answer as a return request, the trade_refund_* push,
and the seller's calls against the simulator (read before acting: paid exactly once)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from orderpilot.domain.channel_orders import Account, Hook, MappingError, PlatformError
from orderpilot.domain.channel_returns import RETURN_STATES
from orderpilot.domain.return_reasons import REASONS
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.youzan import INTEGRATION, PLATFORM, refund_calls, sim_refunds
from orderpilot.integrations.youzan.client import BusinessError
from orderpilot.integrations.youzan.mapping import lines_by_oid
from orderpilot.integrations.youzan.refund_calls import RefundRefused, ReturnAddress
from orderpilot.integrations.youzan.refunds import (
    ORDER_LINES,
    PUSH_REASONS,
    PUSH_TYPES,
    REASON_CODES,
    STATUSES,
    map_return,
    with_order_lines,
)
from orderpilot.integrations.youzan.simulator import SIM_CREDENTIALS, SIM_REGION, SIM_SHOP_ID
from orderpilot.simulators.external.app import create_app

BEIJING = ZoneInfo("Asia/Shanghai")
SAMPLE = json.loads((Path(__file__).parent / "youzan_trade_sample.json").read_text())
LINES = lines_by_oid(SAMPLE)  # the real trade: oid ...963 -> 8002 x2, ...964 -> 8001 x3
START = datetime(2026, 3, 1, tzinfo=UTC)


def account() -> Account:
    return Account(code="yz-shop", platform="youzan", shop_id=SIM_SHOP_ID, region=SIM_REGION,
                   base_url="http://testserver/youzan", credentials=dict(SIM_CREDENTIALS))


def refund(**changes: Any) -> dict[str, Any]:
    """A refund.get ``data`` in the documented shape (GetV3Data.cs) on the sample trade, with
    the order's lines as the client adds them."""
    base: dict[str, Any] = {
        "refund_id": "201907042058500000031002", "tid": "E20190326101702000600011",
        "oid": "1507387350277163964", "kdt_id": 42905421, "status": "WAIT_SELLER_AGREE",
        "demand": 2, "demand_desc": "退货退款", "return_goods": True, "reason": 105,
        "desc": "奶粉罐子压坏了", "refund_type": "BUYER_APPLY_REFUND", "refund_fee": "0.20",
        "refund_postage": "0.00", "item_num": 2, "version": 1493968316537,
        "created": "2019-07-04 20:58:50", "modified": "2019-07-04 21:00:01",
        "refund_order_item": [{"kdt_id": 42905421, "oid": "1507387350277163964",
                               "refund_fee": 20, "item_num": 2}]}
    base.update(changes)
    return with_order_lines(base, LINES)


# -- mapping ------------------------------------------------------------------------------

def test_a_goods_return_maps_lines_reason_money_and_times() -> None:
    assert LINES == {"1507387350277163963": ("8002", 2), "1507387350277163964": ("8001", 3)}
    mapped = map_return({"success": True, "code": 200, "data": refund()}, account())
    assert (mapped.return_id, mapped.order_external_id) == ("201907042058500000031002",
                                                            "E20190326101702000600011")
    assert mapped.lines == (("8001", 2),)
    assert mapped.reason_code == "105" and mapped.reason_tags == ("quality_issue",)
    assert mapped.reason_text == "质量问题；奶粉罐子压坏了"
    assert mapped.refund_amount == Decimal("0.20") and mapped.currency == "CNY"
    assert (mapped.platform_status, mapped.status) == ("WAIT_SELLER_AGREE", "requested")
    assert mapped.created_at == datetime(2019, 7, 4, 20, 58, 50, tzinfo=BEIJING)
    assert mapped.updated_at == datetime(2019, 7, 4, 21, 0, 1, tzinfo=BEIJING)


@pytest.mark.parametrize(("status", "state"), [
    ("WAIT_BUYER_RETURN_GOODS", "requested"), ("WAIT_SELLER_CONFIRM_GOODS", "requested"),
    ("SELLER_REFUSE_BUYER", "requested"), ("CLOSED", "cancelled"), ("SUCCESS", "refunded")])
def test_statuses_mean_to_the_hub(status: str, state: str) -> None:
    assert map_return(refund(status=status), account()).status == state


def test_refund_only_names_the_line_as_ordered_and_several_lines() -> None:
    mapped = map_return(refund(demand=1, return_goods=False, reason=16, desc="", item_num=0,
                               refund_order_item=[
                                   {"oid": "1507387350277163963", "refund_fee": 5, "item_num": 0},
                                   {"oid": "1507387350277163964", "refund_fee": 9,
                                    "item_num": 0}]), account())
    assert mapped.lines == (("8002", 2), ("8001", 3))
    # 16 商品破损/少件 is not one tag: its words go to the keyword classifier
    assert mapped.reason_tags == () and mapped.reason_text == "商品破损/少件"


def test_only_the_first_line_named_is_still_read() -> None:
    raw = refund()
    del raw["refund_order_item"]
    assert map_return(raw, account()).lines == (("8001", 2),)


@pytest.mark.parametrize(("change", "field"), [
    ({"status": "SOMETHING_NEW"}, "status"),
    ({"refund_order_item": [{"oid": "999", "item_num": 1}]}, "refund_order_item[0].oid"),
    ({"refund_order_item": [], "oid": None}, "refund_order_item"),
    ({"refund_fee": 0.2}, "refund_fee"),
    ({"refund_id": None}, "refund_id"),
    ({"modified": "", "created": ""}, "modified"),
    ({ORDER_LINES: None}, ORDER_LINES),
])
def test_what_cannot_be_mapped_names_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as refused:
        map_return({**refund(), **change}, account())
    assert refused.value.field == field


def test_every_status_reason_and_push_table_is_consistent() -> None:
    assert {row[0] for row in STATUSES.values()} <= set(RETURN_STATES)
    assert {"SUCCESS", "CLOSED", "WAIT_SELLER_AGREE"} <= set(STATUSES)
    for words, tags in REASON_CODES.values():
        assert words and all(tag in REASONS for tag in tags)
    assert set(PUSH_REASONS.values()) <= set(REASON_CODES)
    assert all(kind.startswith("trade_refund_") for kind in PUSH_TYPES)
    assert set(sim_refunds.PUSH_TYPE.values()) <= set(PUSH_TYPES)
    support = PLATFORM.returns
    assert support is not None and support.refunds
    assert support.reason_tags is not None and support.reason_tags["15"] == "wrong_item"


# -- the push -----------------------------------------------------------------------------

@pytest.fixture
def sim() -> Iterator[TestClient]:
    app = create_app(integrations=IntegrationRegistry.of(INTEGRATION))
    with TestClient(app) as http:
        yield http


def _client(sim: TestClient) -> Any:
    return PLATFORM.client(account(), sim, lambda: datetime.now(UTC))


def _shipped_order(sim: TestClient) -> tuple[str, dict[str, Any]]:
    [tid] = sim.post("/_sim/youzan/generate", json={
        "count": 1, "seed": 11, "start": START.isoformat()}).json()["external_ids"]
    sim.post("/_sim/youzan/status", json={"external_id": tid,
                                          "status": "WAIT_BUYER_CONFIRM_GOODS"})
    [raw] = _client(sim).get_orders([tid])
    return tid, raw


def _ask(sim: TestClient, tid: str, raw: dict[str, Any], demand: int = 2,
         reason: int = 15) -> dict[str, Any]:
    line = raw["full_order_info"]["orders"][0]
    answer = sim.post("/_sim/youzan/refunds", json={
        "external_id": tid, "lines": [{"oid": str(line["oid"]), "quantity": 1}],
        "reason": reason, "desc": "收到的颜色不对", "demand": demand})
    assert answer.status_code == 200, answer.text
    made: dict[str, Any] = answer.json()["refund"]
    return made


def _hook(headers: dict[str, str]) -> Hook:
    return Hook(url="http://hub/hooks/yz-shop", headers={k.lower(): v for k, v in headers.items()},
                query={})


def test_a_refund_push_is_signed_and_names_order_and_refund(sim: TestClient) -> None:
    tid, raw = _shipped_order(sim)
    made = _ask(sim, tid, raw)
    body, headers = sim_refunds.push_of(
        made, client_id=SIM_CREDENTIALS["client_id"],
        client_secret=SIM_CREDENTIALS["client_secret"], kdt_id=int(SIM_SHOP_ID), kdt_name="店")
    assert headers["Event-Type"] == "trade_refund_BuyerCreated"
    assert PLATFORM.verify_push(account(), _hook(headers), body)
    assert not PLATFORM.verify_push(account(), _hook(headers), body.replace(b"E2", b"E3"))
    order, ret = PLATFORM.read_push(body)
    assert (order.kind, order.external_id) == ("order", tid)
    assert (ret.kind, ret.external_id, ret.raw) == ("return", made["refund_id"], None)
    again, _ = sim_refunds.push_of(made, client_id=SIM_CREDENTIALS["client_id"],
                                   client_secret=SIM_CREDENTIALS["client_secret"],
                                   kdt_id=int(SIM_SHOP_ID), kdt_name="店", send_count=2)
    assert [n.dedup_key for n in PLATFORM.read_push(again)] == [order.dedup_key, ret.dedup_key]


def test_a_refund_push_without_a_refund_id_is_refused() -> None:
    body = json.dumps({"type": "trade_refund_RefundSuccess", "id": "E1",
                       "msg": "%7B%22tid%22%3A%22E1%22%7D", "msg_id": "m1"}).encode()
    with pytest.raises(MappingError) as refused:
        PLATFORM.read_push(body)
    assert refused.value.field == "msg.refund_id"


# -- the seller's calls against the simulator ----------------------------------------------

def _agree_calls(sim: TestClient, api: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sim.get("/_sim/youzan/requests").json()["requests"]
    return [r for r in rows if f"/api/{api}/" in r["path"]]


def test_read_map_list_and_pay_a_goods_return_exactly_once(sim: TestClient) -> None:
    tid, raw = _shipped_order(sim)
    made = _ask(sim, tid, raw)
    client = _client(sim)
    [got] = client.get_returns([made["refund_id"], "201901010000000000000000"])
    assert "_updated_s" not in got and got[ORDER_LINES]
    mapped = map_return(got, account())
    line = raw["full_order_info"]["orders"][0]
    assert mapped.lines == ((lines_by_oid(raw)[str(line["oid"])][0], 1),)
    assert mapped.reason_tags == ("wrong_item",) and mapped.order_external_id == tid
    now = datetime.now(UTC)
    page = client.list_returns(now - timedelta(hours=1), now + timedelta(minutes=1), None)
    assert page.refs == (made["refund_id"],) and page.next_cursor is None
    # goods not back yet: Youzan would not pay; the hub is told why, nothing is sent
    to = ReturnAddress(name="义乌退货中心", mobile="0579-85550000", address="浙江省义乌市…")
    assert client.agree_return_goods(made["refund_id"], to).sent
    assert not client.agree_return_goods(made["refund_id"], to).sent
    with pytest.raises(RefundRefused) as early:
        refund_calls.agree_refund(client, made["refund_id"])
    assert early.value.status == "WAIT_BUYER_RETURN_GOODS" and not early.value.transient
    moved = sim.post("/_sim/youzan/refund_status", json={"refund_id": made["refund_id"],
                                                         "status": "WAIT_SELLER_CONFIRM_GOODS"})
    assert moved.status_code == 200
    first = refund_calls.agree_refund(client, made["refund_id"])
    client.refund_return(mapped)  # the port's call: reads, sees SUCCESS, sends nothing
    assert (first.sent, first.status) == (True, "SUCCESS")
    assert len(_agree_calls(sim, "youzan.trade.refund.agree")) == 1
    assert len(_agree_calls(sim, "youzan.trade.returngoods.agree")) == 1
    [after] = client.get_orders([tid])
    assert after["full_order_info"]["order_info"]["refund_state"] in (2, 12)
    assert [r["refund_id"] for r in after["refund_order"]] == [made["refund_id"]]


def test_a_withdrawn_refund_is_never_paid(sim: TestClient) -> None:
    tid, raw = _shipped_order(sim)
    made = _ask(sim, tid, raw, demand=1)
    sim.post("/_sim/youzan/refund_status", json={"refund_id": made["refund_id"],
                                                 "status": "CLOSED"})
    with pytest.raises(RefundRefused) as refused:
        refund_calls.agree_refund(_client(sim), made["refund_id"])
    assert refused.value.status == "CLOSED"
    assert _agree_calls(sim, "youzan.trade.refund.agree") == []


def test_the_simulator_checks_the_version_as_youzan(sim: TestClient) -> None:
    tid, raw = _shipped_order(sim)
    made = _ask(sim, tid, raw, demand=1)
    client = _client(sim)
    with pytest.raises(BusinessError) as stale:
        client.call("youzan.trade.refund.agree", "3.0.1",
                    {"refund_id": made["refund_id"], "version": 1})
    assert stale.value.code == 103010039


class Scripted:
    """A Youzan that answers from a script: (api, answer or error) in order."""

    def __init__(self, script: list[tuple[str, Any]]) -> None:
        self.script = script
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, api: str, version: str, params: dict[str, Any]) -> Any:
        expected, answer = self.script.pop(0)
        assert api == expected
        self.calls.append((api, params))
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_a_stale_version_reads_again_and_finds_it_paid() -> None:
    youzan = Scripted([
        ("youzan.trade.refund.get", refund(status="WAIT_SELLER_AGREE", version=7)),
        ("youzan.trade.refund.agree", BusinessError("stale", code=103010039)),
        ("youzan.trade.refund.get", refund(status="SUCCESS", version=8))])
    done = refund_calls.agree_refund(youzan, "201907042058500000031002")
    assert (done.sent, done.status) == (False, "SUCCESS")
    assert youzan.calls[1][1] == {"refund_id": "201907042058500000031002", "version": 7}


def test_a_failing_agree_is_not_retried_here() -> None:
    youzan = Scripted([
        ("youzan.trade.refund.get", refund(status="WAIT_SELLER_AGREE")),
        ("youzan.trade.refund.agree", BusinessError("店铺余额不足", code=102090108))])
    with pytest.raises(PlatformError) as failed:
        refund_calls.agree_refund(youzan, "201907042058500000031002")
    assert "余额" in str(failed.value) and youzan.script == []
