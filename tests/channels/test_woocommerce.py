"""WooCommerce: signing, the documented sample order, pushes, and the client against the
simulator (paging, faults, bad keys, round trips).

The sample order is the "Retrieve an order" JSON response example (order 727) of
woocommerce/woocommerce-rest-api-docs source/includes/wp-api-v3/_orders.md
(https://woocommerce.github.io/woocommerce-rest-api-docs/#retrieve-an-order), kept in
data/woocommerce_order_727.json without its ``_links``.
"""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orderpilot.adapters.channels.base import (
    Account,
    Hook,
    PlatformError,
    RateLimited,
    plain,
    read_json,
)
from orderpilot.domain.channel_orders import MappingError
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.woocommerce import INTEGRATION, PLATFORM, signing
from orderpilot.integrations.woocommerce.client import WooCommerceClient
from orderpilot.integrations.woocommerce.sim_admin import php_json
from orderpilot.integrations.woocommerce.simulator import SIM_CREDENTIALS
from orderpilot.simulators.external.app import create_app

SAMPLE = (Path(__file__).parent / "data" / "woocommerce_order_727.json").read_bytes()
D = Decimal
ACCOUNT = Account(code="woo", platform="woocommerce", shop_id="woo-demo-store",
                  base_url="http://testserver/woocommerce", credentials=SIM_CREDENTIALS)


def sample() -> dict[str, Any]:
    order: dict[str, Any] = read_json(SAMPLE, "sample")
    return order


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- signing -------------------------------------------------------------------------------

def test_basic_auth_is_the_consumer_key_and_secret_in_base64() -> None:
    header = signing.basic_auth_header("consumer_key", "consumer_secret")
    assert header == "Basic Y29uc3VtZXJfa2V5OmNvbnN1bWVyX3NlY3JldA=="  # printf | base64
    assert signing.read_basic_auth(header) == ("consumer_key", "consumer_secret")
    assert signing.read_basic_auth("Bearer abc") is None


def test_webhook_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id":727,"status":"processing"}'
    # openssl dgst -sha256 -hmac my-secret -binary | base64
    assert signing.webhook_signature("my-secret", body) == \
        "COIS5cgYq/OhXqQTCYVAvKQa9IZI58EWNwvDxVPVk2Q="
    assert signing.signature_matches("my-secret", body,
                                     "COIS5cgYq/OhXqQTCYVAvKQa9IZI58EWNwvDxVPVk2Q=")
    assert not signing.signature_matches("my-secret", body + b" ", signing.webhook_signature(
        "my-secret", body))
    assert not signing.signature_matches("", body, "")


# -- mapping -------------------------------------------------------------------------------

def test_the_documented_sample_order_maps_exactly() -> None:
    order = PLATFORM.map_order(sample(), ACCOUNT)
    assert order.external_id == "727"
    assert order.placed_at == utc("2017-03-22T19:28:02")
    assert order.updated_at == utc("2017-03-22T19:28:08")
    assert (order.currency, order.status) == ("USD", "processing")
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.discount, ln.item_ids)
            for ln in order.lines] == [("wc-93", 2, D("3.00"), D("0.00"), ("315",)),
                                       ("Bar3", 1, D("12.00"), D("0.00"), ("316",))]
    assert order.lines[1].name == "Ship Your Idea \u2013 Color: Black, Size: M Test"
    assert order.shipping_fee == D("10.00")
    assert order.adjustments == (("tax", D("1.35")),)  # prices exclude tax: tax kept apart
    assert order.paid_total == D("29.35") == order.expected_total()
    assert [(s.event_type, s.occurred_at) for s in order.statuses] == [
        ("payment.succeeded", utc("2017-03-22T19:28:08"))]
    assert order.address == {"country": "US", "province": "CA", "city": "San Francisco",
                             "district": "", "line1": "969 Market", "postal_code": "94103"}
    assert (order.buyer_name, order.buyer_phone) == ("John Doe", "(555) 555-5555")
    assert order.extra["payment_method"] == "Direct Bank Transfer"


def test_coupons_fees_refunds_and_gross_prices_are_kept_apart() -> None:
    raw = sample()
    raw.update(status="refunded", prices_include_tax=True,
               date_completed_gmt="2017-03-23T10:00:00", date_modified_gmt="2017-03-24T08:00:00",
               fee_lines=[{"id": 9, "name": "Gift wrap", "total": "5.00", "total_tax": "0.00"},
                          {"id": 10, "name": "Loyalty", "total": "-2.00", "total_tax": "0.00"}],
               coupon_lines=[{"id": 11, "code": "spring", "discount": "1.00"}],
               refunds=[{"id": 12, "reason": "", "total": "-37.35"}])
    raw["line_items"][1].update(total="11.00", total_tax="0.83", price=D("11"))
    raw["total"] = "31.28"  # 6.45 + 11.83 gross lines + 10.00 shipping + 5.00 - 2.00 fees
    order = PLATFORM.map_order(raw, ACCOUNT)
    gross = order.lines
    assert (gross[0].unit_price, gross[0].discount) == (D("3.23"), D("0.01"))  # 6.45 / 2
    assert (gross[1].unit_price, gross[1].discount, gross[1].amount) == \
        (D("12.90"), D("1.07"), D("11.83"))
    assert ("service_fee", D("5.00")) in order.adjustments
    assert ("seller_discount", D("-2.00")) in order.adjustments
    assert not any(kind == "tax" for kind, _ in order.adjustments)  # inside the gross lines
    assert order.expected_total() == order.paid_total == D("31.28")
    assert not any(kind == "other" for kind, _ in order.adjustments)
    assert order.extra["coupons"] == "spring" and order.extra["refunded"] == "37.35"
    assert [(s.event_type, s.occurred_at) for s in order.statuses] == [
        ("payment.succeeded", utc("2017-03-22T19:28:08")),
        ("refund.succeeded", utc("2017-03-24T08:00:00"))]


def test_a_total_its_lines_do_not_explain_is_kept_with_an_other_adjustment() -> None:
    raw = sample()
    raw["total"] = "30.00"
    order = PLATFORM.map_order(raw, ACCOUNT)
    assert order.paid_total == D("30.00") and order.adjustments[-1] == ("other", D("0.65"))


def test_a_pending_order_is_not_paid_and_a_cancelled_one_says_when() -> None:
    raw = sample()
    raw.update(status="pending", date_paid_gmt=None)
    assert [s.event_type for s in PLATFORM.map_order(raw, ACCOUNT).statuses] == \
        ["system.status"]
    raw.update(status="cancelled", date_modified_gmt="2017-03-25T01:02:03")
    assert [(s.event_type, s.status, s.occurred_at) for s in
            PLATFORM.map_order(raw, ACCOUNT).statuses] == \
        [("order.cancelled", "cancelled", utc("2017-03-25T01:02:03"))]


@pytest.mark.parametrize(("change", "field"), [
    ({"status": "shipped"}, "status"),
    ({"id": None}, "id"),
    ({"total": 29.35}, "total"),
    ({"total": "29.3x"}, "total"),
    ({"shipping_total": "10.005"}, "shipping_total"),
    ({"date_created_gmt": "22/03/2017"}, "date_created_gmt"),
    ({"line_items": []}, "line_items"),
])
def test_what_cannot_be_mapped_is_refused_with_the_field(change: dict[str, Any],
                                                         field: str) -> None:
    raw = {**sample(), **change}
    with pytest.raises(MappingError) as refused:
        PLATFORM.map_order(raw, ACCOUNT)
    assert refused.value.field == field


def test_a_line_whose_price_contradicts_its_total_is_refused() -> None:
    raw = sample()
    raw["line_items"][0]["price"] = D("4")  # 4 x 2 is not the line total 6.00
    with pytest.raises(MappingError) as refused:
        PLATFORM.map_order(raw, ACCOUNT)
    assert refused.value.field == "line_items[0].price"
    raw["line_items"][0].update(quantity=3, subtotal="10.00", total="10.00",
                                price=D("3.3333333333333335"))  # PHP's 10 / 3 passes
    line = PLATFORM.map_order(raw, ACCOUNT).lines[0]
    assert (line.unit_price, line.discount, line.amount) == (D("3.33"), D("-0.01"), D("10.00"))
    # The raw order as the hub keeps it (plain(): the price a float) maps the same.
    assert PLATFORM.map_order(plain(raw), ACCOUNT).lines[0] == line


def test_every_documented_status_is_in_the_table() -> None:
    documented = {"pending", "processing", "on-hold", "completed", "cancelled", "refunded",
                  "failed", "trash", "checkout-draft"}
    assert {row.status for row in PLATFORM.statuses} == documented
    assert all(row.zh and row.en for row in PLATFORM.statuses)


# -- pushes --------------------------------------------------------------------------------

def hook(signature: str | None) -> Hook:
    headers = {"x-wc-webhook-topic": "order.updated"}
    if signature is not None:
        headers["x-wc-webhook-signature"] = signature
    return Hook(url="https://hub.example.com/hooks/woo", headers=headers, query={})


def test_push_verification_over_the_exact_bytes() -> None:
    body = php_json(sample())
    good = signing.webhook_signature(SIM_CREDENTIALS["webhook_secret"], body)
    assert PLATFORM.verify_push(ACCOUNT, hook(good), body)
    assert not PLATFORM.verify_push(ACCOUNT, hook(good), body.replace(b"29.35", b"19.35"))
    assert not PLATFORM.verify_push(ACCOUNT, hook("x" + good[1:]), body)
    assert not PLATFORM.verify_push(ACCOUNT, hook(None), body)
    other = Account(code="woo", platform="woocommerce", shop_id="s",
                    credentials={**SIM_CREDENTIALS, "webhook_secret": "another"})
    assert not PLATFORM.verify_push(other, hook(good), body)


def test_the_unsigned_ping_passes_and_is_read_as_other() -> None:
    assert PLATFORM.verify_push(ACCOUNT, hook(None), b"webhook_id=7")
    assert not PLATFORM.verify_push(ACCOUNT, hook("bad"), b"webhook_id=7")
    assert not PLATFORM.verify_push(ACCOUNT, hook(None), b"webhook_id=7&x=1")
    [notice] = PLATFORM.read_push(b"webhook_id=7")
    assert notice.kind == "other" and notice.dedup_key == "woocommerce:ping:7"


def test_an_order_push_carries_the_whole_order() -> None:
    body = php_json(sample())
    [notice] = PLATFORM.read_push(body)
    assert (notice.external_id, notice.kind, notice.status) == ("727", "order", "processing")
    assert notice.update_time == utc("2017-03-22T19:28:08")
    assert notice.raw is not None and PLATFORM.map_order(notice.raw, ACCOUNT).paid_total == \
        D("29.35")
    assert PLATFORM.read_push(body)[0].dedup_key == notice.dedup_key
    changed = php_json({**sample(), "date_modified_gmt": "2017-03-22T20:00:00"})
    assert PLATFORM.read_push(changed)[0].dedup_key != notice.dedup_key


def test_deletions_other_resources_and_truncated_pushes() -> None:
    [deleted] = PLATFORM.read_push(b'{"id":727}')
    assert (deleted.kind, deleted.external_id, deleted.status) == ("other", "727", "trash")
    [product] = PLATFORM.read_push(b'{"id":93,"name":"Woo Single #1","type":"simple"}')
    assert product.kind == "other"
    with pytest.raises(MappingError):
        PLATFORM.read_push(php_json(sample())[:200])
    with pytest.raises(MappingError):
        PLATFORM.read_push(b"[1, 2]")


# -- client against the simulator -----------------------------------------------------------

@pytest.fixture
def sim() -> TestClient:
    return TestClient(create_app(integrations=IntegrationRegistry.of(INTEGRATION)))


def woo(sim: TestClient, account: Account = ACCOUNT, **kw: Any) -> WooCommerceClient:
    return WooCommerceClient(account, sim, lambda: datetime.now(UTC), **kw)


START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def generate(sim: TestClient, count: int, spread: float, seed: int = 3) -> list[str]:
    answer = sim.post("/_sim/woocommerce/generate", json={
        "count": count, "seed": seed, "start": START.isoformat(), "spread_seconds": spread})
    assert answer.status_code == 200
    ids: list[str] = answer.json()["external_ids"]
    return ids


def walk(client: WooCommerceClient, since: datetime, until: datetime,
         between: Any = None) -> list[dict[str, Any]]:
    found, cursor, pages = [], None, 0
    while True:
        page = client.list_orders(since, until, cursor)
        found += page.raws
        pages += 1
        if between is not None:
            between(pages)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor
        assert pages < 100


def test_listing_walks_every_page_by_update_time(sim: TestClient) -> None:
    ids = generate(sim, 250, 120)
    found = walk(woo(sim), START, START + timedelta(hours=1))
    assert sorted(str(o["id"]) for o in found) == sorted(ids)
    half = walk(woo(sim), START, START + timedelta(seconds=60))
    assert half and all(o["date_modified_gmt"] < "2026-03-01T08:01:00" for o in half)


def test_a_crowded_second_is_paged_whole(sim: TestClient) -> None:
    ids = generate(sim, 230, 0)
    found = walk(woo(sim), START, START + timedelta(minutes=1))
    assert sorted(str(o["id"]) for o in found) == sorted(ids)  # each once


def test_an_order_modified_during_the_walk_skips_nothing(sim: TestClient) -> None:
    ids = generate(sim, 300, 200)

    def touch(page: int) -> None:
        if page == 1:  # the first order moves to now: page numbers would now skip one
            sim.post("/_sim/woocommerce/status", json={"external_id": ids[0],
                                                       "status": "completed"})
    found = {str(o["id"]) for o in walk(woo(sim), START, START + timedelta(hours=1), touch)}
    assert set(ids[1:]) <= found


def test_get_orders_by_id_leaves_unknown_ones_out(sim: TestClient) -> None:
    ids = generate(sim, 5, 10)
    got = woo(sim).get_orders([ids[1], ids[3], "999999", "not-an-id"])
    assert sorted(str(o["id"]) for o in got) == sorted([ids[1], ids[3]])


def test_rate_limit_then_success_and_server_errors(sim: TestClient) -> None:
    generate(sim, 3, 10)
    client = woo(sim)
    sim.post("/_sim/woocommerce/faults", json={"status": 429})
    with pytest.raises(RateLimited) as limited:
        client.list_orders(START, START + timedelta(hours=1), None)
    assert limited.value.retry_after_s == 1
    assert len(client.list_orders(START, START + timedelta(hours=1), None).raws) == 3
    sim.post("/_sim/woocommerce/faults", json={"status": 503})
    with pytest.raises(PlatformError) as failed:
        client.get_orders(["1000"])
    assert failed.value.transient and failed.value.status_code == 503


def test_bad_keys_are_refused_for_good(sim: TestClient) -> None:
    wrong = Account(code="woo", platform="woocommerce", shop_id="s",
                    base_url=ACCOUNT.base_url,
                    credentials={**SIM_CREDENTIALS, "consumer_secret": "cs_wrong"})
    with pytest.raises(PlatformError) as refused:
        woo(sim, wrong).check()
    assert refused.value.status_code == 401 and not refused.value.transient
    assert "Consumer secret is invalid." in refused.value.message
    unknown = Account(code="woo", platform="woocommerce", shop_id="s",
                      base_url=ACCOUNT.base_url,
                      credentials={**SIM_CREDENTIALS, "consumer_key": "ck_unknown"})
    with pytest.raises(PlatformError, match="woocommerce_rest_cannot_view"):
        woo(sim, unknown).check()
    with pytest.raises(PlatformError, match="base_url"):
        woo(sim, Account(code="woo", platform="woocommerce", shop_id="s",
                         credentials=SIM_CREDENTIALS)).check()
    assert PLATFORM.default_base_url("US") == ""


def test_keys_in_the_query_string_work_and_nothing_expires(sim: TestClient) -> None:
    generate(sim, 2, 10)
    client = woo(sim, query_string_auth=True)
    assert client.check().endswith(": 2 orders")
    assert sim.post("/_sim/woocommerce/expire_tokens").json()["expired"] == 0
    assert client.refresh() is None
    assert client.check().endswith(": 2 orders")
    assert client.lost_pushes() == []


def test_generated_orders_round_trip_and_map_exactly(sim: TestClient) -> None:
    ids = generate(sim, 400, 3600, seed=11)
    client = woo(sim)
    listed = walk(client, START, START + timedelta(hours=2))
    fetched = client.get_orders(ids[:100])
    assert len(listed) == 400 and len(fetched) == 100
    for raw in listed + fetched:
        order = PLATFORM.map_order(raw, ACCOUNT)
        assert order.paid_total == order.expected_total()
        assert not any(kind == "other" for kind, _ in order.adjustments)


def test_stored_orders_and_status_moves(sim: TestClient) -> None:
    raw = copy.deepcopy(sample())
    assert sim.post("/_sim/woocommerce/orders", json={"orders": [raw]}).json() == \
        {"stored": 1}
    sim.post("/_sim/woocommerce/status", json={"external_id": "727", "status": "completed",
                                               "at": "2017-03-23T10:00:00+00:00"})
    [got] = woo(sim).get_orders(["727"])
    order = PLATFORM.map_order(got, ACCOUNT)
    assert [(s.event_type, s.occurred_at) for s in order.statuses] == [
        ("payment.succeeded", utc("2017-03-22T19:28:08")),
        ("order.completed", utc("2017-03-23T10:00:00"))]


def test_ten_thousand_generated_orders(sim: TestClient) -> None:
    ids = generate(sim, 10_000, 86_400)
    assert len(set(ids)) == 10_000


class _Hub(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def test_the_simulator_pushes_signed_orders_and_pings(sim: TestClient) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hooks/woo"
    _Hub.received.clear()
    try:
        [order_id] = generate(sim, 1, 0)
        answer = sim.post("/_sim/woocommerce/push",
                          json={"hook_url": url, "external_id": order_id, "times": 2}).json()
        assert answer["status"] == 200
        sim.post("/_sim/woocommerce/ping", json={"hook_url": url})
    finally:
        server.shutdown()
    (first, body), (second, again), (ping_headers, ping) = _Hub.received
    assert body == again and first["x-wc-webhook-delivery-id"] == \
        second["x-wc-webhook-delivery-id"]
    assert first["x-wc-webhook-topic"] in ("order.created", "order.updated")
    hook_in = Hook(url=url, headers=first, query={})
    assert PLATFORM.verify_push(ACCOUNT, hook_in, body)
    [notice] = PLATFORM.read_push(body)
    assert notice.external_id == order_id and notice.raw is not None
    assert PLATFORM.map_order(notice.raw, ACCOUNT).external_id == order_id
    assert ping == b"webhook_id=7" and "x-wc-webhook-signature" not in ping_headers
    assert PLATFORM.verify_push(ACCOUNT, Hook(url=url, headers=ping_headers, query={}), ping)
