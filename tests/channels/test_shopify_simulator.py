"""The Shopify client against the Shopify simulator: Link-header paging by update time,
batches by id, Shopify's 429, 5xx and 401 answers, and signed webhooks delivered to a real
loopback receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orderpilot.adapters.channels.base import (
    Account,
    Hook,
    PlatformError,
    RateLimited,
    read_json,
)
from orderpilot.integrations.registry import IntegrationRegistry
from orderpilot.integrations.shopify import INTEGRATION, PLATFORM
from orderpilot.integrations.shopify.client import ShopifyClient
from orderpilot.integrations.shopify.simulator import (
    SIM_CREDENTIALS,
    SIM_SHOP_ID,
    webhook_headers,
)
from orderpilot.simulators.external.app import create_app

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SAMPLE = Path(__file__).parent / "data" / "shopify_webhook_order_sample.json"


@pytest.fixture
def sim() -> Iterator[TestClient]:
    app = create_app(integrations=IntegrationRegistry.of(INTEGRATION))
    with TestClient(app) as client:
        yield client


def account(**changes: Any) -> Account:
    values: dict[str, Any] = dict(code="own-store", platform="shopify", shop_id=SIM_SHOP_ID,
                                  base_url="http://testserver/shopify",
                                  credentials=dict(SIM_CREDENTIALS))
    values.update(changes)
    return Account(**values)


def client_of(sim: TestClient, **changes: Any) -> ShopifyClient:
    return ShopifyClient(account(**changes), sim, lambda: datetime.now(UTC))


def generate(sim: TestClient, count: int, spread: int = 3600) -> list[str]:
    answer = sim.post("/_sim/shopify/generate", json={
        "count": count, "seed": 7, "start": START.isoformat(), "spread_seconds": spread})
    assert answer.status_code == 200, answer.text
    ids: list[str] = answer.json()["external_ids"]
    return ids


def pull(client: ShopifyClient, since: datetime, until: datetime) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        page = client.list_orders(since, until, cursor)
        pages.append(list(page.raws))
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_listing_pages_by_update_time_through_the_link_header(sim: TestClient) -> None:
    ids = generate(sim, 600)
    pages = pull(client_of(sim), START, START + timedelta(hours=2))
    assert [len(p) for p in pages] == [250, 250, 100]
    seen = [str(o["id"]) for page in pages for o in page]
    assert sorted(seen) == sorted(ids) and len(set(seen)) == 600
    times = [o["updated_at"] for page in pages for o in page]
    assert times == sorted(times, key=datetime.fromisoformat)


def test_the_window_is_half_open_and_counts_updates_not_creation(sim: TestClient) -> None:
    ids = generate(sim, 10, spread=600)  # one order a minute from START
    sim.post("/_sim/shopify/status", json={"external_id": ids[0], "status": "fulfilled",
                                           "at": (START + timedelta(hours=5)).isoformat()})
    first_hour = pull(client_of(sim), START, START + timedelta(minutes=5))
    assert [str(o["id"]) for o in first_hour[0]] == ids[1:5]  # ids[5] is at minute 5: next
    later = pull(client_of(sim), START + timedelta(hours=4), START + timedelta(hours=6))
    assert [str(o["id"]) for o in later[0]] == [ids[0]]
    assert later[0][0]["fulfillment_status"] == "fulfilled"


def test_a_batch_by_ids_returns_whole_orders_and_leaves_unknown_ids_out(
        sim: TestClient) -> None:
    ids = generate(sim, 5)
    sim.post("/_sim/shopify/status", json={"external_id": ids[1], "status": "cancelled"})
    orders = client_of(sim).get_orders([ids[1], ids[3], "999"])
    assert sorted(str(o["id"]) for o in orders) == sorted([ids[1], ids[3]])
    assert all(o["line_items"] for o in orders)  # cancelled ones too: status=any


def test_a_documented_order_keeps_its_big_id_exact_through_the_api(sim: TestClient) -> None:
    sample = read_json(SAMPLE.read_bytes(), "sample")
    assert sim.post("/_sim/shopify/orders", json={"orders": [sample]}).json() == {"stored": 1}
    [order] = client_of(sim).get_orders(["820982911946154508"])
    assert order["id"] == 820982911946154508
    mapped = PLATFORM.map_order(order, account())
    assert mapped.external_id == "820982911946154508"
    assert mapped.paid_total == Decimal("403.00")


def test_generated_orders_map_without_errors_and_add_up(sim: TestClient) -> None:
    ids = generate(sim, 300)
    for n, external_id in enumerate(ids[:40]):
        status = ("paid/fulfilled", "partially_refunded", "cancelled", "refunded",
                  "pending", "partial", "closed")[n % 7]
        sim.post("/_sim/shopify/status", json={"external_id": external_id, "status": status})
    orders = [o for page in pull(client_of(sim), START, datetime.now(UTC) + timedelta(
        minutes=1)) for o in page]
    assert len(orders) == 300
    mapped = [PLATFORM.map_order(o, account()) for o in orders]
    assert all(m.expected_total() == m.paid_total for m in mapped)
    assert not [m for m in mapped if any(kind == "other" for kind, _ in m.adjustments)]
    kinds = {kind for m in mapped for kind, _ in m.adjustments}
    assert {"tax", "seller_voucher", "shipping_discount"} <= kinds
    assert any(ln.sku.startswith("shopify-") for m in mapped for ln in m.lines)
    events = {s.event_type for m in mapped for s in m.statuses}
    assert {"payment.succeeded", "order.cancelled", "refund.succeeded",
            "system.status"} <= events


def test_a_429_is_rate_limited_with_shopifys_wait_then_the_call_succeeds(
        sim: TestClient) -> None:
    generate(sim, 3)
    sim.post("/_sim/shopify/faults", json={"status": 429, "times": 1})
    client = client_of(sim)
    with pytest.raises(RateLimited) as limited:
        client.list_orders(START, START + timedelta(hours=2), None)
    assert limited.value.retry_after_s == 2.0
    assert len(client.list_orders(START, START + timedelta(hours=2), None).raws) == 3


def test_a_5xx_is_transient(sim: TestClient) -> None:
    sim.post("/_sim/shopify/faults", json={"status": 503, "times": 1})
    with pytest.raises(PlatformError) as failed:
        client_of(sim).get_orders(["1"])
    assert failed.value.transient and failed.value.status_code == 503


def test_a_revoked_token_is_permanent_and_there_is_no_refresh(sim: TestClient) -> None:
    client = client_of(sim)
    assert client.check() == f"Dolphin Baby ({SIM_SHOP_ID}.myshopify.com)"
    sim.post("/_sim/shopify/expire_tokens")
    with pytest.raises(PlatformError) as refused:
        client.check()
    assert refused.value.status_code == 401 and not refused.value.transient
    assert "install the app again" in refused.value.message
    assert client.refresh() is None
    sim.post("/_sim/shopify/reinstall")
    assert client.check().startswith("Dolphin Baby")
    with pytest.raises(PlatformError) as wrong:
        client_of(sim, credentials={"access_token": "nope"}).check()
    assert wrong.value.status_code == 401


def test_tokens_from_the_hub_win_over_the_stored_secret(sim: TestClient) -> None:
    from orderpilot.adapters.channels.base import Tokens
    client = client_of(sim, credentials={"access_token": "old"},
                       tokens=Tokens(access_token=SIM_CREDENTIALS["access_token"]))
    assert client.check().startswith("Dolphin Baby")


def test_page_info_with_other_parameters_is_refused_as_shopify_does(sim: TestClient) -> None:
    generate(sim, 3)
    answer = sim.get("/shopify/admin/api/2026-04/orders.json",
                     params={"page_info": "abc", "status": "any"},
                     headers={"X-Shopify-Access-Token": SIM_CREDENTIALS["access_token"]})
    assert answer.status_code == 400


class Receiver:
    """A real loopback hub stand-in: checks each webhook as the hub would."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes, bool]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                hook = Hook(url="http://hub/hooks/own-store", headers=headers, query={})
                good = PLATFORM.verify_push(account(), hook, body)
                outer.deliveries.append((headers, body, good))
                self.send_response(200 if good else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/own-store"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_pushed_webhook_is_signed_and_carries_the_order(sim: TestClient) -> None:
    [external_id] = generate(sim, 1)
    sim.post("/_sim/shopify/status", json={"external_id": external_id, "status": "cancelled"})
    with Receiver() as hub:
        answer = sim.post("/_sim/shopify/push", json={"hook_url": hub.url,
                                                      "external_id": external_id, "times": 2})
        assert answer.json()["status"] == 200
        bad = sim.post("/_sim/shopify/push_raw", json={
            "hook_url": hub.url, "body": '{"id": 1}',
            "headers": webhook_headers(b'{"id": 2}', "orders/updated")})
        assert bad.json()["status"] == 401
    (first_headers, first, good), (again_headers, again, _), (_, _, forged) = hub.deliveries
    assert good and not forged
    assert first == again and first_headers["x-shopify-webhook-id"] == \
        again_headers["x-shopify-webhook-id"]
    assert first_headers["x-shopify-topic"] == "orders/cancelled"
    assert first_headers["x-shopify-shop-domain"] == f"{SIM_SHOP_ID}.myshopify.com"
    [notice] = PLATFORM.read_push(first)
    assert notice.external_id == external_id and notice.raw is not None
    assert PLATFORM.read_push(again)[0].dedup_key == notice.dedup_key
    order = PLATFORM.map_order(notice.raw, account())
    assert order.status == "cancelled/refunded"
    assert [ln.cancelled_quantity for ln in order.lines] == [ln.quantity for ln in order.lines]
    assert order.statuses[-1].event_type == "order.cancelled"


def test_a_reset_forgets_orders_and_restores_the_token(sim: TestClient) -> None:
    generate(sim, 2)
    sim.post("/_sim/shopify/expire_tokens")
    sim.delete("/_sim/shopify")
    client = client_of(sim)
    assert client.check().startswith("Dolphin Baby")
    assert client.list_orders(START, START + timedelta(days=1), None).raws == ()
