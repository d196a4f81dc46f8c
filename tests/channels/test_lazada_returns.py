"""Lazada reverse orders: the documented answers map to ChannelReturn, the reverse-order push
names the return, and the client against the simulator lists, reads, agrees and refunds
(exactly once: a refund already made is looked up, not sent again)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from orderpilot.adapters.channels.base import Account, Hook, PlatformError
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.lazada import INTEGRATION, PLATFORM, client, sim_admin, simulator
from orderpilot.integrations.lazada.returns import map_return
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.simulators.external.app import create_app

ACCOUNT = Account(code="lz-sg", platform="lazada", shop_id=simulator.SIM_SHOP_ID, region="SG",
                  credentials=simulator.SIM_CREDENTIALS)


def doc_line(**more: Any) -> dict[str, Any]:
    """One line as GetReverseOrdersForSeller's documented answer shows it (field names and
    value shapes from https://open.lazada.com/apps/doc/api?path=%2Freverse%2Fgetreverseordersforseller)."""
    return {"ofc_status": "INITIAL", "product": {"product_sku": "0", "product_id": "0"},
            "buyer": {"buyer_id": "0"}, "trade_order_gmt_create": "0",
            "refund_amount": "1990", "reason_text": "Out of stock", "reason_code": "123",
            "refund_payment_method": "Alipay", "whqc_decision": "scrap",
            "return_order_line_gmt_create": "1741672336776",
            "return_order_line_gmt_modified": "1741672453926", "is_dispute": "false",
            "seller_sku_id": "th-1000", "item_unit_price": "1990", "platform_sku_id": "0",
            "tracking_number": "TH2404B29P6D", "sla": "1741672453926",
            "reverse_order_line_id": "11", "trade_order_line_id": "21",
            "reverse_status": "REQUEST_INITIATE", "is_need_refund": "true", **more}


def doc_reverse(*lines: dict[str, Any]) -> dict[str, Any]:
    return {"reverse_order_id": "900100", "trade_order_id": "491253082180001",
            "request_type": "RETURN", "is_rtm": "true", "shipping_type": "PICK_UP",
            "reverse_order_lines": list(lines)}


def test_a_documented_reverse_order_maps_to_a_return() -> None:
    raw = doc_reverse(doc_line(), doc_line(reverse_order_line_id="12"),
                      doc_line(reverse_order_line_id="13", seller_sku_id="th-2000",
                               refund_amount="500"))
    found = map_return(raw, ACCOUNT)
    assert (found.return_id, found.order_external_id) == ("900100", "491253082180001")
    assert found.lines == (("th-1000", 2), ("th-2000", 1))
    assert found.status == "requested" and found.refund_amount == Decimal("44.80")
    assert found.currency == "SGD" and found.reason_text == "Out of stock"
    assert found.reason_code == "123"
    assert found.updated_at == datetime.fromtimestamp(1741672453.926, UTC)
    assert found.created_at == datetime.fromtimestamp(1741672336.776, UTC)


def test_vietnam_amounts_are_in_dong_not_cents() -> None:
    vn = Account(code="lz-vn", platform="lazada", shop_id="1", region="VN")
    found = map_return(doc_reverse(doc_line(refund_amount="10000")), vn)
    assert found.refund_amount == Decimal("10000.00") and found.currency == "VND"


def test_the_detail_answers_shape_maps_the_same() -> None:
    line = doc_line(seller_sku_id="")
    line.pop("product")
    line["productDTO"] = {"product_id": "77", "sku": "0"}
    line["platform_sku_id"] = "666"
    detail = {"reverse_order_id": "900100", "trade_order_id": "5", "request_type": "ONLY_REFUND",
              "reverseOrderLineDTOList": [line]}
    assert map_return(detail, ACCOUNT).lines == (("lazada:77:666", 1),)


@pytest.mark.parametrize(("statuses", "expected"), [
    ([("REQUEST_INITIATE", "INITIAL")], "requested"),
    ([("REQUEST_CANCEL", "INITIAL")], "cancelled"),
    ([("CANCEL_SUCCESS", "INITIAL"), ("REQUEST_CANCEL", "INITIAL")], "cancelled"),
    ([("REQUEST_REJECT", "INITIAL")], "cancelled"),
    ([("REQUEST_REJECT", "INITIAL"), ("REQUEST_INITIATE", "INITIAL")], "requested"),
    ([("REQUEST_INITIATE", "REFUND_SUCCESS"), ("REQUEST_CANCEL", "INITIAL")], "refunded"),
    ([("REQUEST_INITIATE", "REFUND_SUCCESS"), ("REQUEST_INITIATE", "INITIAL")], "requested"),
])
def test_the_returns_status_comes_from_its_lines(statuses: list[tuple[str, str]],
                                                 expected: str) -> None:
    lines = [doc_line(reverse_order_line_id=str(n), reverse_status=r, ofc_status=o)
             for n, (r, o) in enumerate(statuses)]
    found = map_return(doc_reverse(*lines), ACCOUNT)
    assert found.status == expected
    assert statuses[0][0] in found.platform_status


@pytest.mark.parametrize(("change", "field"), [
    ({"reverse_order_id": None}, "reverse_order_id"),
    ({"trade_order_id": ""}, "trade_order_id"),
    ({"request_type": "SWAP"}, "request_type"),
    ({"reverse_order_lines": []}, "reverse_order_lines"),
])
def test_what_cannot_be_read_names_lazadas_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as caught:
        map_return({**doc_reverse(doc_line()), **change}, ACCOUNT)
    assert caught.value.field == field


def test_a_line_amount_that_is_not_whole_cents_is_refused() -> None:
    with pytest.raises(MappingError) as caught:
        map_return(doc_reverse(doc_line(refund_amount="19.5")), ACCOUNT)
    assert caught.value.field == "reverse_order_lines[0].refund_amount"


def test_the_reverse_order_push_gives_an_order_and_a_return_notice() -> None:
    body = json.dumps({"seller_id": "1", "message_type": 10, "data": {
        "order_status": "REQUEST_INITIATE", "trade_order_id": "260422900198363",
        "trade_order_line_id": "260422900298363", "reverse_order_id": "9001",
        "reverse_order_line_id": "9002", "status_update_time": 1603698638},
        "timestamp": 1603766859530, "site": "lazada_vn"}).encode()
    order, returned = PLATFORM.read_push(body)
    assert (order.kind, order.external_id) == ("order", "260422900198363")
    assert (returned.kind, returned.external_id, returned.raw) == ("return", "9001", None)
    assert returned.dedup_key != order.dedup_key
    assert PLATFORM.read_push(body.replace(b'"timestamp": 1603766859530',
                                           b'"timestamp": 1603766859999'))[1].dedup_key == \
        returned.dedup_key  # a redelivery of the same message is the same notice
    trade = json.loads(body)
    trade["message_type"] = 0
    assert [n.kind for n in PLATFORM.read_push(json.dumps(trade).encode())] == ["order"]


# Against the simulator


@pytest.fixture
def sim() -> TestClient:
    return TestClient(create_app(integrations=IntegrationRegistry.of(INTEGRATION)))


def on_sim(sim: TestClient) -> client.LazadaClient:
    account = Account(code="lz-sg", platform="lazada", shop_id=simulator.SIM_SHOP_ID,
                      region="SG", base_url="http://testserver/lazada",
                      credentials=simulator.SIM_CREDENTIALS)
    return client.LazadaClient(account, sim, lambda: datetime.now(UTC))


def an_order(sim: TestClient) -> dict[str, Any]:
    [order_id] = sim.post("/_sim/lazada/generate", json={"count": 1, "seed": 3}).json()[
        "external_ids"]
    lz = on_sim(sim)
    [raw] = lz.get_orders([order_id])
    return raw


def reverse(sim: TestClient, order: dict[str, Any], **more: Any) -> str:
    answer = sim.post("/_sim/lazada/reverse_orders",
                      json={"external_id": str(order["order_id"]), **more})
    assert answer.status_code == 200, answer.text
    reverse_id: str = answer.json()["reverse_order_id"]
    return reverse_id


def calls(sim: TestClient, path: str) -> int:
    records = sim.get("/_sim/lazada/requests").json()
    items = records["requests"] if isinstance(records, dict) else records
    return sum(1 for r in items if r["path"].endswith(path))


def test_list_and_detail_of_a_reverse_order_map_to_the_orders_units(sim: TestClient) -> None:
    order = an_order(sim)
    first = order["order_items"][0]
    reverse_id = reverse(sim, order, item_ids=[str(first["order_item_id"])],
                         reason_text="Wrong size")
    lz = on_sim(sim)
    now = datetime.now(UTC)
    page = lz.list_returns(now - timedelta(minutes=5), now + timedelta(minutes=5), None)
    assert [str(r["reverse_order_id"]) for r in page.raws] == [reverse_id]
    assert page.next_cursor is None
    listed = map_return(page.raws[0], lz.account)
    [detail] = lz.get_returns([reverse_id, "123"])
    detailed = map_return(detail, lz.account)
    for found in (listed, detailed):
        assert found.order_external_id == str(order["order_id"])
        assert found.lines == ((first["sku"], 1),)
        assert found.refund_amount == Decimal(str(first["paid_price"])).quantize(
            Decimal("0.01"))
        assert found.reason_text == "Wrong size" and found.status == "requested"
    old = lz.list_returns(now - timedelta(days=2), now - timedelta(days=1), None)
    assert old.raws == ()


def test_the_list_pages_by_page_number(sim: TestClient,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client, "RETURNS_PAGE", 2)
    order = an_order(sim)
    ids = {reverse(sim, order) for _ in range(5)}
    lz = on_sim(sim)
    now = datetime.now(UTC)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        page = lz.list_returns(now - timedelta(minutes=5), now + timedelta(minutes=5), cursor)
        seen += [str(r["reverse_order_id"]) for r in page.raws]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)


def test_a_refund_through_lazada_is_sent_once(sim: TestClient) -> None:
    order = an_order(sim)
    reverse_id = reverse(sim, order)
    lz = on_sim(sim)
    [raw] = lz.get_returns([reverse_id])
    asked = map_return(raw, lz.account)
    lz.refund_return(asked)
    [raw] = lz.get_returns([reverse_id])
    refunded = map_return(raw, lz.account)
    expected = sum(Decimal(str(i["paid_price"])) for i in order["order_items"]
                   if i["status"] != "canceled")
    assert refunded.status == "refunded"
    assert refunded.refund_amount == expected.quantize(Decimal("0.01"))
    lz.refund_return(asked)  # a retry after a lost answer: the detail says done, nothing sent
    assert calls(sim, "/order/reverse/return/update") == 1


def test_a_cancelled_reverse_order_cannot_be_refunded(sim: TestClient) -> None:
    reverse_id = reverse(sim, an_order(sim))
    sim.post("/_sim/lazada/reverse_status",
             json={"reverse_order_id": reverse_id, "reverse_status": "REQUEST_CANCEL"})
    lz = on_sim(sim)
    [raw] = lz.get_returns([reverse_id])
    asked = map_return(raw, lz.account)
    assert asked.status == "cancelled"
    with pytest.raises(PlatformError) as caught:
        lz.refund_return(asked)
    assert not caught.value.transient and "REQUEST_CANCEL" in str(caught.value)
    assert calls(sim, "/order/reverse/return/update") == 0
    with pytest.raises(PlatformError):
        lz.refund_return(replace(asked, return_id="424242"))


def test_agreeing_a_return_is_not_a_refund(sim: TestClient) -> None:
    reverse_id = reverse(sim, an_order(sim))
    lz = on_sim(sim)
    lz.agree_return(reverse_id)
    [raw] = lz.get_returns([reverse_id])
    assert map_return(raw, lz.account).status == "requested"
    assert calls(sim, "/order/reverse/return/update") == 1


def test_the_simulator_checks_the_signature_on_reverse_calls(sim: TestClient) -> None:
    reverse_id = reverse(sim, an_order(sim))
    bad = Account(code="lz-sg", platform="lazada", shop_id=simulator.SIM_SHOP_ID,
                  region="SG", base_url="http://testserver/lazada",
                  credentials={**simulator.SIM_CREDENTIALS, "app_secret": "wrong"})
    lz = client.LazadaClient(bad, sim, lambda: datetime.now(UTC))
    with pytest.raises(PlatformError, match="IncompleteSignature"):
        lz.get_returns([reverse_id])
    answer = sim.get("/lazada/order/reverse/return/update",
                     params={"action": "agreeRefund", "reverse_order_id": reverse_id})
    assert answer.json()["code"] in ("InvalidAppKey", "IncompleteSignature")


def test_the_simulators_reverse_push_is_signed_and_read(sim: TestClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    order = an_order(sim)
    reverse_id = reverse(sim, order)
    received: list[httpx.Request] = []

    def hub(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    real = httpx.Client
    monkeypatch.setattr(sim_admin.httpx, "Client",
                        lambda **kw: real(transport=httpx.MockTransport(hub), **kw))
    answer = sim.post("/_sim/lazada/reverse_push", json={
        "hook_url": "https://hub.example/hooks/lz", "reverse_order_id": reverse_id})
    assert answer.json()["status"] == 200 and len(received) == 1
    hook = Hook(url=str(received[0].url), headers=dict(received[0].headers), query={})
    assert PLATFORM.verify_push(ACCOUNT, hook, received[0].content)
    notices = PLATFORM.read_push(received[0].content)
    assert [(n.kind, n.external_id) for n in notices] == [
        ("order", str(order["order_id"])), ("return", reverse_id)]
