"""Shopify returns and refunds: the webhook bodies and the GraphQL read map to ChannelReturn,
the pushes name the return, and the client against the simulator lists, reads and refunds a
return exactly once (a refund already made is found by its note, nothing is sent again)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orderpilot.adapters.channels.base import Account, PlatformError
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.shopify import INTEGRATION, PLATFORM
from orderpilot.integrations.shopify.client import ShopifyClient
from orderpilot.integrations.shopify.returns import HUB_NOTE, map_refund, map_return
from orderpilot.integrations.shopify.simulator import SIM_CREDENTIALS, SIM_SHOP_ID
from orderpilot.simulators.external.app import create_app

ACCOUNT = Account(code="own-store", platform="shopify", shop_id=SIM_SHOP_ID,
                  currency="USD", credentials=dict(SIM_CREDENTIALS))

# The returns/request body's shape (webhook topics, https://shopify.dev/docs/api/webhooks):
# the line item is named by id only.
REQUEST: dict[str, Any] = {
    "id": 945000954, "admin_graphql_api_id": "gid://shopify/Return/945000954",
    "status": "requested", "name": "#1001-R1",
    "order": {"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469"},
    "total_return_line_items": 1,
    "return_line_items": [{
        "id": 677614677, "admin_graphql_api_id": "gid://shopify/ReturnLineItem/677614677",
        "fulfillment_line_item": {"id": 1058737493, "line_item": {
            "id": 487817672, "admin_graphql_api_id": "gid://shopify/LineItem/487817672"}},
        "quantity": 1, "return_reason": "size_too_small", "return_reason_note": "",
        "customer_note": "Too tight"}],
    "return_shipping_fees": [], "exchange_line_items": [], "total_exchange_line_items": 0}
ORDER_LINES = [{"id": 487817672, "sku": "IPOD2008BLACK", "product_id": 632910392,
                "variant_id": 39072856, "quantity": 1}]


def read(raw: dict[str, Any], **more: Any) -> dict[str, Any]:
    """RAW as the client gives it: the order's line items attached, the time it was read."""
    return {**raw, "order": {**raw["order"], "line_items": ORDER_LINES},
            "fetched_at": "2026-03-01T10:00:00+00:00", **more}


def test_a_return_request_maps_with_the_orders_sku_and_a_tag() -> None:
    found = map_return(read(REQUEST), ACCOUNT)
    assert (found.return_id, found.order_external_id) == ("945000954", "450789469")
    assert found.lines == (("IPOD2008BLACK", 1),)
    assert (found.status, found.platform_status) == ("requested", "requested")
    assert found.reason_tags == ("wrong_size",) and found.reason_code == "size_too_small"
    assert found.reason_text == "Too tight" and found.currency == "USD"
    assert found.updated_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("status", "expected"), [
    ("open", "requested"), ("declined", "cancelled"), ("canceled", "cancelled"),
    ("closed", "accepted")])
def test_shopifys_statuses_in_the_hubs_words(status: str, expected: str) -> None:
    assert map_return(read(REQUEST, status=status), ACCOUNT).status == expected


def test_a_return_with_a_refund_is_refunded() -> None:
    raw = read(REQUEST, status="open", refunds=[{"id": "1", "note": None}])
    assert map_return(raw, ACCOUNT).status == "refunded"


@pytest.mark.parametrize(("change", "field"), [
    ({"status": "lost"}, "status"),
    ({"order": {"id": None}}, "order.id"),
    ({"return_line_items": []}, "return_line_items"),
    ({"fetched_at": None}, "updated_at"),
])
def test_what_cannot_be_read_names_shopifys_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MappingError) as caught:
        map_return({**read(REQUEST), **change}, ACCOUNT)
    assert caught.value.field == field


def test_a_line_item_not_on_the_order_is_refused() -> None:
    raw = read(REQUEST)
    raw["order"]["line_items"] = []
    with pytest.raises(MappingError) as caught:
        map_return(raw, ACCOUNT)
    assert caught.value.field == "return_line_items[0].fulfillment_line_item.line_item.id"


REFUND: dict[str, Any] = {
    "id": 509562969, "order_id": 450789469, "created_at": "2026-03-02T09:00:00-05:00",
    "processed_at": "2026-03-02T09:00:00-05:00", "note": f"{HUB_NOTE}945000954",
    "refund_line_items": [{"id": 104689539, "line_item_id": 487817672, "quantity": 1,
                           "restock_type": "no_restock", "subtotal": "195.66",
                           "line_item": ORDER_LINES[0]}],
    "transactions": [
        {"id": 179259969, "kind": "refund", "status": "success", "amount": "195.66",
         "currency": "USD"},
        {"id": 179259970, "kind": "refund", "status": "failure", "amount": "5.00",
         "currency": "USD"}]}


def test_the_hubs_refund_maps_to_its_return_refunded() -> None:
    found = map_refund(REFUND, ACCOUNT)
    assert (found.return_id, found.status) == ("945000954", "refunded")
    assert found.lines == (("IPOD2008BLACK", 1),) and found.refund_amount == Decimal("195.66")
    assert map_return(REFUND, ACCOUNT) == found
    linked = {**REFUND, "note": None, "return": {"id": 945000954}}
    assert map_refund(linked, ACCOUNT).return_id == "945000954"
    with pytest.raises(MappingError):
        map_refund({**REFUND, "note": "goodwill"}, ACCOUNT)


def test_pushes_name_the_return_and_a_returns_refund() -> None:
    [notice] = PLATFORM.read_push(json.dumps(REQUEST).encode())
    assert (notice.kind, notice.external_id, notice.raw) == ("return", "945000954", None)
    order, refunded = PLATFORM.read_push(json.dumps(REFUND).encode())
    assert (order.kind, order.external_id) == ("order", "450789469")
    assert (refunded.kind, refunded.external_id) == ("return", "945000954")
    assert refunded.raw is not None and refunded.raw["id"] == 509562969
    [alone] = PLATFORM.read_push(json.dumps({**REFUND, "note": None}).encode())
    assert alone.kind == "order"
    approved = PLATFORM.read_push(json.dumps({**REQUEST, "status": "open"}).encode())
    assert approved[0].dedup_key != notice.dedup_key


# Against the simulator


@pytest.fixture
def sim() -> Iterator[TestClient]:
    app = create_app(integrations=IntegrationRegistry.of(INTEGRATION))
    with TestClient(app) as client:
        yield client


def client_of(sim: TestClient) -> ShopifyClient:
    account = replace(ACCOUNT, base_url="http://testserver/shopify")
    return ShopifyClient(account, sim, lambda: datetime.now(UTC))


def an_order(sim: TestClient) -> dict[str, Any]:
    [order_id] = sim.post("/_sim/shopify/generate", json={"count": 1, "seed": 5}).json()[
        "external_ids"]
    sim.post("/_sim/shopify/status", json={"external_id": order_id, "status": "paid/fulfilled"})
    [order] = client_of(sim).get_orders([order_id])
    return order


def refund_calls(sim: TestClient) -> int:
    records = sim.get("/_sim/shopify/requests").json()["requests"]
    return sum(1 for r in records if r["method"] == "POST"
               and r["path"].endswith("/refunds.json"))


def test_a_return_is_listed_and_read_with_its_skus(sim: TestClient) -> None:
    order = an_order(sim)
    item = order["line_items"][0]
    made = sim.post("/_sim/shopify/returns", json={
        "external_id": str(order["id"]), "reason": "wrong_item", "note": "not what I ordered",
        "lines": [{"line_item_id": item["id"], "quantity": 1}]}).json()
    shop = client_of(sim)
    now = datetime.now(UTC)
    page = shop.list_returns(now - timedelta(minutes=5), now + timedelta(minutes=5), None)
    assert page.refs == (made["return_id"],) and page.next_cursor is None
    [raw] = shop.get_returns([made["return_id"], "1"])
    found = map_return(raw, shop.account)
    assert found.order_external_id == str(order["id"]) and found.lines == ((item["sku"], 1),)
    assert found.reason_tags == ("wrong_item",) and found.status == "requested"
    assert found.reason_text == "not what I ordered"
    earlier = shop.list_returns(now - timedelta(days=2), now - timedelta(days=1), None)
    assert earlier.refs == ()


def test_a_refund_through_shopify_is_made_once(sim: TestClient) -> None:
    order = an_order(sim)
    item = order["line_items"][0]
    made = sim.post("/_sim/shopify/returns", json={
        "external_id": str(order["id"]),
        "lines": [{"line_item_id": item["id"], "quantity": 1}]}).json()
    shop = client_of(sim)
    [raw] = shop.get_returns([made["return_id"]])
    asked = map_return(raw, shop.account)
    shop.refund_return(asked)
    [refund] = shop.list_refunds(str(order["id"]))
    assert refund["note"] == f"{HUB_NOTE}{made['return_id']}"
    assert [(r["line_item_id"], r["quantity"], r["restock_type"])
            for r in refund["refund_line_items"]] == [(item["id"], 1, "no_restock")]
    paid = sum(Decimal(t["amount"]) for t in refund["transactions"])
    assert paid > 0
    shop.refund_return(asked)  # a retry after a lost answer: found by its note, not sent
    assert len(shop.list_refunds(str(order["id"]))) == 1 and refund_calls(sim) == 1
    [raw] = shop.get_returns([made["return_id"]])
    assert map_return(raw, shop.account).status == "refunded"


def test_more_units_than_the_order_has_are_refused_before_sending(sim: TestClient) -> None:
    order = an_order(sim)
    item = order["line_items"][0]
    made = sim.post("/_sim/shopify/returns", json={
        "external_id": str(order["id"]),
        "lines": [{"line_item_id": item["id"], "quantity": 1}]}).json()
    shop = client_of(sim)
    [raw] = shop.get_returns([made["return_id"]])
    asked = map_return(raw, shop.account)
    with pytest.raises(PlatformError) as caught:
        shop.refund_return(replace(asked, lines=((item["sku"], item["quantity"] + 1),)))
    assert not caught.value.transient and refund_calls(sim) == 0


def test_the_simulator_wants_the_token_on_refunds_and_graphql(sim: TestClient) -> None:
    order = an_order(sim)
    for path in (f"orders/{order['id']}/refunds.json", "graphql.json"):
        answer = sim.post(f"/shopify/admin/api/2026-04/{path}", json={},
                          headers={"X-Shopify-Access-Token": "wrong"})
        assert answer.status_code == 401
