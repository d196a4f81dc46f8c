"""TikTok Shop: signing against the documented examples, mapping of a 202309 order, webhooks,
and the client against the loopback simulator (paging, faults, expired tokens, refresh)."""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient

from orderpilot.adapters.channels.base import (
    Account,
    Hook,
    PlatformError,
    RateLimited,
    TokenExpired,
    Tokens,
)
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.tiktok import INTEGRATION, PLATFORM
from orderpilot.integrations.tiktok.mapping import map_order
from orderpilot.integrations.tiktok.push import read_push, verify_push
from orderpilot.integrations.tiktok.signing import (
    base_string,
    request_sign,
    webhook_signature,
)
from orderpilot.integrations.tiktok.simulator import (
    SIM_CREDENTIALS,
    SIM_REFRESH_TOKEN,
    SIM_REGION,
    SIM_SHOP_ID,
)
from orderpilot.simulators.external.app import create_app

D = Decimal
MY = Account(code="tts-my", platform="tiktok", shop_id=SIM_SHOP_ID, region="MY",
             credentials=dict(SIM_CREDENTIALS))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- signing: "Sign your API request" and "Webhooks overview" -------------------------------

def test_request_sign_matches_the_documented_example() -> None:
    # https://partner.tiktokshop.com/docv2/page/sign-your-api-request, steps 1-6
    query = {"app_key": "29a39d", "timestamp": "1623812664", "access_token": "TTP_x",
             "sign": "ignored"}
    assert request_sign("e59af819cc", "/authorization/202309/shops", query) == \
        "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"


def test_body_and_shop_cipher_enter_the_base_string_as_documented() -> None:
    body = b'{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}'
    query = {"timestamp": "1696909648", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIK",
             "app_key": "68xu9ks5p4i8"}
    assert base_string("/event/202309/webhooks", query, body) == (
        b"/event/202309/webhooksapp_key68xu9ks5p4i8shop_cipherROW_xkMbgAAAeVAQra0eZWebFQq5aIK"
        b"timestamp1696909648" + body)
    # a multipart body is not signed; changing the body changes a JSON request's sign
    assert base_string("/p", query, body, "multipart/form-data; boundary=x").endswith(b"1696909648")
    assert request_sign("s", "/p", query, body) != request_sign("s", "/p", query, body + b" ")


DOC_PUSH = (b'{"type":1,"tts_notification_id":"7380066284010030890",'
            b'"shop_id":"7495540735365777507","timestamp":1718305585,"data":{"is_on_hold_order":true,"order_id":'
            b'"576653688135258178","order_status":"UNPAID","update_time":1718305585}}')
DOC_PUSH_SIGN = "5dec0f11ec2f6783b8deee53c9ffbf8d024302f7c7e7fa55a35d17629031ac05"
DOC_APP = Account(code="doc", platform="tiktok", shop_id="7495540735365777507",
                  credentials={"app_key": "abcdef", "app_secret": "123"})


def hook(signature: str) -> Hook:
    return Hook(url="https://hub.example/hooks/doc", headers={"authorization": signature},
                query={})


def test_webhook_signature_matches_the_documented_example() -> None:
    # https://partner.tiktokshop.com/docv2/page/tts-webhooks-overview
    assert webhook_signature("abcdef", "123", DOC_PUSH) == DOC_PUSH_SIGN
    assert verify_push(DOC_APP, hook(DOC_PUSH_SIGN), DOC_PUSH)
    assert verify_push(DOC_APP, hook(DOC_PUSH_SIGN.upper()), DOC_PUSH)


def test_webhook_bad_signature_tampered_body_and_wrong_key_are_refused() -> None:
    assert not verify_push(DOC_APP, hook("0" * 64), DOC_PUSH)
    assert not verify_push(DOC_APP, hook(""), DOC_PUSH)
    assert not verify_push(DOC_APP, hook(DOC_PUSH_SIGN), DOC_PUSH.replace(b"UNPAID", b"CANCEL"))
    assert not verify_push(DOC_APP, hook("Bearer " + DOC_PUSH_SIGN), DOC_PUSH)
    other = Account(code="doc", platform="tiktok", shop_id="1",
                    credentials={"app_key": "abcdef", "app_secret": "124"})
    assert not verify_push(other, hook(DOC_PUSH_SIGN), DOC_PUSH)
    no_key = Account(code="doc", platform="tiktok", shop_id="1",
                     credentials={"app_key": "", "app_secret": "123"})
    assert not verify_push(no_key, hook(webhook_signature("", "123", DOC_PUSH)), DOC_PUSH)


def test_the_documented_push_reads_as_one_order_notice() -> None:
    [notice] = read_push(DOC_PUSH)
    assert notice.external_id == "576653688135258178"
    assert notice.status == "UNPAID"
    assert notice.update_time == datetime.fromtimestamp(1718305585, UTC)
    assert notice.kind == "order" and notice.raw is None
    assert notice.dedup_key == "tiktok:7380066284010030890:576653688135258178"
    assert read_push(DOC_PUSH)[0].dedup_key == notice.dedup_key  # a replay changes nothing


def test_other_pushes_and_broken_pushes() -> None:
    product = json.dumps({"type": 5, "tts_notification_id": "9", "shop_id": "1",
                          "timestamp": 1, "data": {"product_id": "17"}}).encode()
    assert [n.kind for n in read_push(product)] == ["other"]
    address = json.dumps({"type": 3, "tts_notification_id": "10", "shop_id": "1",
                          "timestamp": 1, "data": {"order_id": "5764", "update_time": 2}})
    assert read_push(address.encode())[0].kind == "order"
    with pytest.raises(MappingError):
        read_push(DOC_PUSH[:-7])
    with pytest.raises(MappingError) as refused:
        read_push(b'{"type":1,"tts_notification_id":"1","data":{"order_status":"UNPAID"}}')
    assert refused.value.field == "data.order_id"


# --- mapping ---------------------------------------------------------------------------------

# An order in the shape Get Order List / Get Order Detail 202309 document (field names and
# types from https://partner.tiktokshop.com/docv2/page/get-order-detail-202309; the official
# sample response itself could not be retrieved): the figures of a real MYR order published
# in a public repository (original 149, seller discount 30, shipping 4.9 paid by the
# platform, total 119), plus a second SKU bought twice, one unit of which was cancelled.
ORDER: dict[str, Any] = {
    "id": "576672422510560515", "status": "IN_TRANSIT", "create_time": 1709384720,
    "update_time": 1709405634, "paid_time": 1709384780, "buyer_message": "Leave at door",
    "user_id": "7494690250735257859", "fulfillment_type": "FULFILLMENT_BY_SELLER",
    "payment_method_name": "Internet Banking", "shipping_provider": "J&T Express",
    "tracking_number": "JNT3220279504", "packages": [{"id": "1153486604836964618"}],
    "line_items": [
        {"id": "576672422510691587", "product_id": "1729556489100298210",
         "product_name": "Him Coffee- Energy Booster", "sku_id": "1729556497383196642",
         "sku_name": "Buy 1", "seller_sku": "COF1", "currency": "MYR", "original_price": "149",
         "sale_price": "119", "seller_discount": "30", "platform_discount": "0",
         "display_status": "IN_TRANSIT", "is_gift": False,
         "package_id": "1153486604836964618", "package_status": "PROCESSING",
         "tracking_number": "JNT3220279504", "shipping_provider_name": "J&T Express"},
        {"id": "576672422510691588", "product_id": "1729556489100298300",
         "product_name": "Cup", "sku_id": "1729556497383196700", "sku_name": "Blue",
         "seller_sku": "", "currency": "MYR", "original_price": "12.5", "sale_price": "11.5",
         "seller_discount": "0", "platform_discount": "1", "display_status": "IN_TRANSIT",
         "package_id": "1153486604836964618", "package_status": "PROCESSING"},
        {"id": "576672422510691589", "product_id": "1729556489100298300",
         "product_name": "Cup", "sku_id": "1729556497383196700", "sku_name": "Blue",
         "seller_sku": "", "currency": "MYR", "original_price": "12.5", "sale_price": "11.5",
         "seller_discount": "0", "platform_discount": "1", "display_status": "CANCELLED"}],
    "payment": {"currency": "MYR", "original_total_product_price": "174",
                "original_shipping_fee": "4.9", "sub_total": "142", "shipping_fee": "0",
                "seller_discount": "30", "platform_discount": "2",
                "shipping_fee_platform_discount": "4.9", "shipping_fee_seller_discount": "0",
                "tax": "0", "total_amount": "142"},
    "recipient_address": {
        "name": "A*** F***i", "phone_number": "(+60)113*****36",
        "full_address": "Malaysia, Perak, Lumut,BL**********", "address_detail": "BL**********",
        "postal_code": "32***", "region_code": "MY",
        "district_info": [
            {"address_level": "L0", "address_level_name": "Country", "address_name": "Malaysia"},
            {"address_level": "L1", "address_level_name": "State", "address_name": "Perak"},
            {"address_level": "L2", "address_level_name": "City", "address_name": "Lumut"}]},
}


def test_a_202309_order_maps_with_exact_money_lines_times_and_statuses() -> None:
    order = map_order(ORDER, MY)
    assert order.external_id == "576672422510560515"
    assert order.placed_at == at("2024-03-02T13:05:20")
    assert order.updated_at == at("2024-03-02T18:53:54")
    assert (order.currency, order.status) == ("MYR", "IN_TRANSIT")
    assert (order.buyer_name, order.buyer_phone) == ("A*** F***i", "(+60)113*****36")
    coffee, cup = order.lines
    assert (coffee.sku, coffee.quantity, coffee.unit_price, coffee.discount) == \
        ("COF1", 1, D("149.00"), D("30.00"))
    assert (cup.sku, cup.quantity, cup.unit_price, cup.discount) == \
        ("tiktok:1729556497383196700", 2, D("12.50"), D("0.00"))
    assert cup.item_ids == ("576672422510691588", "576672422510691589")
    assert cup.statuses == ("IN_TRANSIT", "CANCELLED") and cup.cancelled_quantity == 1
    assert coffee.name == "Him Coffee- Energy Booster Buy 1"
    assert order.shipping_fee == D("4.90")
    assert order.paid_total == D("142.00")
    assert order.adjustments == (("platform_discount", D("-2.00")),
                                 ("shipping_discount", D("-4.90")))
    assert order.expected_total() == order.paid_total  # nothing left unexplained
    assert [(s.event_type, s.status, s.occurred_at) for s in order.statuses] == [
        ("payment.succeeded", "IN_TRANSIT", at("2024-03-02T13:06:20")),
        ("system.status", "IN_TRANSIT", at("2024-03-02T18:53:54"))]
    [package] = order.packages
    assert (package.package_id, package.tracking_number, package.carrier, package.status) == \
        ("1153486604836964618", "JNT3220279504", "J&T Express", "PROCESSING")
    assert package.item_ids == ("576672422510691587", "576672422510691588")
    assert order.address == {"country": "MY", "province": "Perak", "city": "Lumut",
                             "district": "", "line1": "BL**********", "postal_code": "32***"}
    assert order.buyer_note == "Leave at door"


def test_a_total_that_differs_from_the_lines_is_explained_never_refused() -> None:
    raw = copy.deepcopy(ORDER)
    raw["payment"]["total_amount"] = "140.5"  # e.g. a coin discount TikTok does not itemise
    order = map_order(raw, MY)
    assert order.adjustments[-1] == ("other", D("-1.50"))
    assert order.expected_total() == order.paid_total == D("140.50")


def test_cancelled_and_completed_orders_name_their_lifecycle_event() -> None:
    raw = copy.deepcopy(ORDER)
    raw.update(status="CANCELLED", cancel_time=1709400000)
    events = [(s.event_type, s.occurred_at) for s in map_order(raw, MY).statuses]
    assert events == [("payment.succeeded", at("2024-03-02T13:06:20")),
                      ("order.cancelled", datetime.fromtimestamp(1709400000, UTC))]
    raw.update(status="UNPAID")
    del raw["paid_time"]
    assert [s.event_type for s in map_order(raw, MY).statuses] == ["system.status"]
    raw.update(status="COMPLETED", paid_time=1709384780)
    assert [s.event_type for s in map_order(raw, MY).statuses] == \
        ["payment.succeeded", "order.completed"]


def test_the_currency_falls_back_to_the_shops_region() -> None:
    raw = copy.deepcopy(ORDER)
    del raw["payment"]["currency"]
    th = Account(code="th", platform="tiktok", shop_id="1", region="TH")
    assert map_order(raw, th).currency == "THB"


@pytest.mark.parametrize(("change", "field"), [
    (lambda o: o.pop("id"), "id"),
    (lambda o: o.update(status="SHIPPED"), "status"),
    (lambda o: o.update(line_items=[]), "line_items"),
    (lambda o: o["line_items"][1].update(sale_price="12.5"), "line_items[1].sale_price"),
    (lambda o: o["line_items"][0].update(original_price=149.0), "line_items[0].original_price"),
    (lambda o: o["payment"].update(total_amount="abc"), "payment.total_amount"),
    (lambda o: o["payment"].pop("total_amount"), "payment.total_amount"),
    (lambda o: o["payment"].update(tax="0.001"), "payment.tax"),
    (lambda o: o.update(create_time="yesterday"), "create_time"),
])
def test_what_cannot_be_mapped_is_refused_with_tiktoks_field_path(change: Any,
                                                                  field: str) -> None:
    raw = copy.deepcopy(ORDER)
    change(raw)
    with pytest.raises(MappingError) as refused:
        map_order(raw, MY)
    assert refused.value.field == field


def test_the_status_table_covers_every_documented_status() -> None:
    table = {row.status: row.event_type for row in PLATFORM.statuses}
    assert set(table) == {"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING",
                          "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED",
                          "CANCELLED", "CANCEL"}
    assert table["CANCELLED"] == table["CANCEL"] == "order.cancelled"
    assert table["COMPLETED"] == "order.completed"
    assert all(row.zh and row.en for row in PLATFORM.statuses)


# --- the client against the simulator ----------------------------------------------------------

@pytest.fixture
def sim() -> TestClient:
    return TestClient(create_app(integrations=IntegrationRegistry.of(INTEGRATION)))


def shop(sim: TestClient, **changes: Any) -> Any:
    account = Account(code="tts-sim", platform="tiktok", shop_id=SIM_SHOP_ID,
                      region=SIM_REGION, base_url="http://testserver/tiktok",
                      credentials=dict(SIM_CREDENTIALS),
                      tokens=Tokens(refresh_token=SIM_REFRESH_TOKEN))
    if changes:
        from dataclasses import replace
        account = replace(account, **changes)
    return PLATFORM.client(account, sim, lambda: datetime.now(UTC))


def generate(sim: TestClient, count: int, seed: int = 7) -> list[str]:
    answer = sim.post("/_sim/tiktok/generate", json={
        "count": count, "seed": seed, "start": "2026-03-01T00:00:00+00:00",
        "spread_seconds": 86_000})
    assert answer.status_code == 200, answer.text
    ids: list[str] = answer.json()["external_ids"]
    return ids


DAY = (at("2026-03-01T00:00:00"), at("2026-03-02T00:00:00"))


def pull_all(client: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        page = client.list_orders(*DAY, cursor)
        found += page.raws
        cursor = page.next_cursor
        if cursor is None:
            return found
    raise AssertionError("paging never ended")


def test_listing_pages_by_update_time_and_every_order_maps(sim: TestClient) -> None:
    ids = generate(sim, 250)
    client = shop(sim)
    first = client.list_orders(*DAY, None)
    assert len(first.raws) == 100 and first.next_cursor
    orders = pull_all(client)
    assert sorted(o["id"] for o in orders) == sorted(ids)
    times = [o["update_time"] for o in orders]
    assert times == sorted(times)
    for raw in orders:
        mapped = PLATFORM.map_order(raw, shop_account())
        assert all(kind != "other" for kind, _ in mapped.adjustments), raw["id"]
    late = client.list_orders(at("2026-03-02T00:00:00"), at("2026-03-03T00:00:00"), None)
    assert late.raws == () and late.next_cursor is None


def shop_account() -> Account:
    return Account(code="tts-sim", platform="tiktok", shop_id=SIM_SHOP_ID, region=SIM_REGION)


def test_get_orders_fetches_in_batches_of_50_and_leaves_out_unknown_ids(sim: TestClient) -> None:
    ids = generate(sim, 120, seed=3)
    got = shop(sim).get_orders([*ids, "576000000000000000"])
    assert [o["id"] for o in got] == ids
    calls = sim.get("/_sim/tiktok/look-ups").json()["look_ups"]
    assert [len(c["query"]["ids"].split(",")) for c in calls] == [50, 50, 21]
    assert all(c["query"]["sign"] == "***" for c in calls)


def test_rate_limit_then_success(sim: TestClient) -> None:
    generate(sim, 5)
    sim.post("/_sim/tiktok/faults", json={"status": 429, "times": 1})
    with pytest.raises(RateLimited):
        shop(sim).list_orders(*DAY, None)
    assert len(shop(sim).list_orders(*DAY, None).raws) == 5


def test_server_errors_are_transient(sim: TestClient) -> None:
    sim.post("/_sim/tiktok/faults", json={"status": 503, "times": 1})
    with pytest.raises(PlatformError) as failed:
        shop(sim).get_orders(["576000000000000001"])
    assert failed.value.transient and failed.value.status_code == 503


def test_a_wrong_secret_is_a_permanent_signature_error(sim: TestClient) -> None:
    wrong = dict(SIM_CREDENTIALS, app_secret="not-the-secret")
    with pytest.raises(PlatformError) as refused:
        shop(sim, credentials=wrong).list_orders(*DAY, None)
    assert "106001" in refused.value.message and not refused.value.transient


def test_expired_token_then_refresh_works(sim: TestClient) -> None:
    generate(sim, 3)
    assert sim.post("/_sim/tiktok/expire_tokens").status_code == 200
    with pytest.raises(TokenExpired):
        shop(sim).list_orders(*DAY, None)
    tokens = shop(sim).refresh()
    assert tokens is not None and tokens.access_token != SIM_CREDENTIALS["access_token"]
    assert tokens.expires_at is not None and tokens.expires_at > datetime.now(UTC)
    assert tokens.refresh_token == SIM_REFRESH_TOKEN
    fresh = shop(sim, tokens=tokens)
    assert len(fresh.list_orders(*DAY, None).raws) == 3
    with pytest.raises(PlatformError):
        shop(sim, tokens=Tokens(refresh_token="stolen")).refresh()


def test_the_connection_check_names_the_shop(sim: TestClient) -> None:
    assert "模拟店" in shop(sim).check()


def test_a_status_move_shows_in_the_next_pull(sim: TestClient) -> None:
    [order_id] = generate(sim, 1, seed=11)
    moved = sim.post("/_sim/tiktok/status", json={
        "external_id": order_id, "status": "CANCELLED", "at": "2026-03-01T23:59:00+00:00"})
    assert moved.json() == {"ok": True}
    [raw] = shop(sim).get_orders([order_id])
    mapped = PLATFORM.map_order(raw, shop_account())
    assert mapped.status == "CANCELLED"
    assert mapped.statuses[-1].event_type == "order.cancelled"
    assert mapped.updated_at == at("2026-03-01T23:59:00")
    assert sim.post("/_sim/tiktok/status", json={"external_id": order_id,
                                                 "status": "LOST"}).status_code == 400


def test_generated_orders_are_varied_and_unique(sim: TestClient) -> None:
    ids = generate(sim, 2000, seed=5)
    assert len(set(ids)) == 2000 and all(len(i) == 18 and i.startswith("576") for i in ids)
    orders = pull_all(shop(sim))
    statuses = {o["status"] for o in orders}
    assert {"AWAITING_SHIPMENT", "UNPAID", "CANCELLED", "COMPLETED"} <= statuses
    assert any(len(o["line_items"]) > 1 for o in orders)
    assert any(o["payment"]["shipping_fee_platform_discount"] != "0" for o in orders)
    assert any(u["seller_sku"] == "" for o in orders for u in o["line_items"])


# --- the simulator's signed webhook, delivered over HTTP to a receiver ---------------------------

@pytest.fixture
def receiver() -> Any:
    """A hook endpoint on a real port that verifies and reads what it gets, as the hub would."""
    got: list[tuple[bool, list[Any]]] = []
    app = FastAPI()

    @app.post("/hooks/tts-sim")
    async def take(request: Request) -> Response:
        body = await request.body()
        seen = Hook(url=str(request.url), headers=dict(request.headers),
                    query=dict(request.query_params))
        ok = PLATFORM.verify_push(shop_account_with_keys(), seen, body)
        got.append((ok, PLATFORM.read_push(body) if ok else []))
        answer = PLATFORM.ack if ok else None
        return Response(answer.body if answer else b"bad signature",
                        status_code=answer.status if answer else 401)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}/hooks/tts-sim", got
    server.should_exit = True
    thread.join(timeout=10)


def shop_account_with_keys() -> Account:
    return Account(code="tts-sim", platform="tiktok", shop_id=SIM_SHOP_ID, region=SIM_REGION,
                   credentials=dict(SIM_CREDENTIALS))


def test_the_simulators_push_is_signed_as_tiktok_signs_it(sim: TestClient,
                                                          receiver: Any) -> None:
    url, got = receiver
    [order_id] = generate(sim, 1, seed=21)
    sim.post("/_sim/tiktok/status", json={"external_id": order_id, "status": "CANCELLED",
                                          "at": "2026-03-01T12:00:00+00:00"})
    sent = sim.post("/_sim/tiktok/push", json={"hook_url": url, "external_id": order_id,
                                               "times": 2}).json()
    assert sent["status"] == 200 and sent["body"] == ""
    assert [ok for ok, _ in got] == [True, True]
    first, replay = (notices[0] for _, notices in got)
    assert first.external_id == order_id and first.status == "CANCEL"
    assert first.update_time == at("2026-03-01T12:00:00")
    assert first.dedup_key == replay.dedup_key  # a replayed push is the same push
    again = sim.post("/_sim/tiktok/push", json={"hook_url": url, "external_id": order_id})
    assert got[-1][1][0].dedup_key != first.dedup_key  # a new push is a new notice
    assert again.json()["status"] == 200
    forged = sim.post("/_sim/tiktok/push_raw", json={
        "hook_url": url, "body": '{"type":1,"data":{"order_id":"1"}}',
        "headers": {"authorization": "0" * 64}}).json()
    assert forged["status"] == 401 and got[-1] == (False, [])


def test_a_unit_without_original_price_is_priced_from_its_sale_price_and_discounts() -> None:
    raw = copy.deepcopy(ORDER)
    del raw["line_items"][0]["original_price"]
    assert map_order(raw, MY).lines[0].unit_price == D("149.00")


# --- answers as the documentation shows them (httpx.MockTransport) ----------------------------

def answering(status: int, body: dict[str, Any], seen: list[httpx.Request] | None = None,
              base_url: str = "") -> Any:
    def reply(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, json=body)
    http = httpx.Client(transport=httpx.MockTransport(reply))
    account = Account(code="tts", platform="tiktok", shop_id="1", region="ID", base_url=base_url,
                      credentials={"app_key": "65t6a8e8bfejb", "app_secret": "f4c770e4b45aa62e",
                                   "access_token": "TTP_a", "shop_cipher": "ROW_c"},
                      tokens=Tokens(refresh_token="TTP_EB9rlwAAAADXbnMESTWAZSxIcC"))
    return PLATFORM.client(account, http, lambda: at("2026-03-01T00:00:00"))


def test_refresh_reads_the_documented_answer_and_asks_as_documented() -> None:
    # https://partner.tiktokshop.com/docv2/page/authorization-overview-202407, step 3
    seen: list[httpx.Request] = []
    tokens = answering(200, {"code": 0, "message": "success", "data": {
        "access_token": "TTP_Fw8rBwAAAAAkW03FYd09DG", "access_token_expire_in": 1660556783,
        "refresh_token": "TTP_NTUxZTNhYTQ2ZDk2", "refresh_token_expire_in": 1691487031,
        "open_id": "7010736057180325637", "seller_name": "Jjj test shop",
        "seller_base_region": "ID", "user_type": 0},
        "request_id": "2022080809462301024509910319695C45"}, seen).refresh()
    assert tokens == Tokens(access_token="TTP_Fw8rBwAAAAAkW03FYd09DG",
                            refresh_token="TTP_NTUxZTNhYTQ2ZDk2",
                            expires_at=datetime.fromtimestamp(1660556783, UTC),
                            refresh_expires_at=datetime.fromtimestamp(1691487031, UTC))
    [request] = seen
    assert (request.method, request.url.host, request.url.path) == \
        ("GET", "auth.tiktok-shops.com", "/api/v2/token/refresh")
    assert dict(request.url.params) == {
        "app_key": "65t6a8e8bfejb", "app_secret": "f4c770e4b45aa62e",
        "refresh_token": "TTP_EB9rlwAAAADXbnMESTWAZSxIcC", "grant_type": "refresh_token"}


def test_a_search_is_signed_with_the_token_in_its_header() -> None:
    seen: list[httpx.Request] = []
    page = answering(200, {"code": 0, "message": "Success", "request_id": "1", "data": {
        "orders": [ORDER], "next_page_token": "", "total_count": 1}}, seen).list_orders(
        at("2026-03-01T00:00:00"), at("2026-03-01T00:10:00.5"), "tok/1")
    assert page.raws == (ORDER,) and page.next_cursor is None
    [request] = seen
    assert request.url.host == "open-api.tiktokglobalshop.com"
    assert request.headers["x-tts-access-token"] == "TTP_a"
    query = dict(request.url.params)
    assert "access_token" not in query and query["timestamp"] == "1772323200"
    assert (query["page_token"], query["sort_field"], query["page_size"]) == \
        ("tok/1", "update_time", "100")
    assert json.loads(request.content) == {"update_time_ge": 1772323200,
                                           "update_time_lt": 1772323801}
    assert query["sign"] == request_sign("f4c770e4b45aa62e", request.url.path, query,
                                         request.content)


@pytest.mark.parametrize(("status", "code", "message", "error"), [
    (401, 105002, "Access token is expired", TokenExpired),
    (401, 36009004, "Invalid credentials. The 'x-tts-access-token' header is invalid.",
     TokenExpired),
    (429, 36009002, "Too many requests", RateLimited),
    (200, 36009002, "Too many requests", RateLimited),
    (401, 106001, "Invalid credentials. The 'sign' query parameter is invalid.", PlatformError),
    (400, 36009004, "Invalid param: page_token", PlatformError),
])
def test_tiktok_error_codes_become_the_hubs_errors(status: int, code: int, message: str,
                                                   error: type[Exception]) -> None:
    client = answering(status, {"code": code, "data": None, "message": message,
                                "request_id": "2"})
    with pytest.raises(error) as raised:
        client.get_orders(["576"])
    assert type(raised.value) is error


def test_the_sandbox_refreshes_on_the_sandbox_auth_host() -> None:
    seen: list[httpx.Request] = []
    client = answering(200, {"code": 0, "data": {"access_token": "TTP_b",
                                                 "access_token_expire_in": 1660556783}},
                       seen, base_url="https://open-api-sandbox.tiktokglobalshop.com")
    assert client.refresh().access_token == "TTP_b"
    assert seen[0].url.host == "auth-sandbox.tiktok-shops.com"
