"""A Youzan trade pushed to the hub ends with the buyer's plain name, phone and address (the
simulator encrypts them as Youzan does and decrypts with the shop's token), masked for a role
without pii.read; the raw trade kept for audit is still the ciphertext. A shop without the
decryption permission still gets its orders, with the fields withheld (shown in Chinese and
English in the console) and the reason on the channel's health; once the shop may decrypt, a
new pull fills them in. A decrypt outage retries the fetch; a replayed quarantined trade is
decrypted too. SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hub_server import HubServer

from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.benchmarks.channels import account_body
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.withheld import NOT_AUTHORISED, WITHHELD
from orderpilot.entrypoints.api.app import create_app
from orderpilot.integrations.youzan.sim_orders import unseal
from orderpilot.services.accounts import create_token, create_user
from orderpilot.services.channels.intake import raw_text
from orderpilot.simulators.external.server import SimServer

CODE = "youzan-mini"
PASSWORD = "correct-horse-42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def live(database_url: str | None, tmp_path: Path, sim: SimServer) -> Iterator[Any]:
    hub = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url,
                             sim_url=sim.url, _env_file=None))  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    with hub.db.write() as conn:
        accounts = AccountRepository(conn)
        admin = create_token(accounts, "admin", "admin", hub.clock)[1]
        viewer = create_token(accounts, "viewer", "viewer", hub.clock)[1]
        create_user(accounts, "ops", PASSWORD, "ops", hub.clock, display_name="Ops")
    app = create_app(hub)
    with HubServer(app) as server, TestClient(app) as api:
        api.headers["Authorization"] = f"Bearer {admin}"
        yield hub, server, api, viewer
    hub.close()


def _push_one(hub: Hub, server: Any, api: TestClient,
              sim: SimServer) -> tuple[str, dict[str, Any]]:
    """One generated trade pushed to the hub and fetched: (order id, the order as the API
    gives it to an admin)."""
    admin = sim.admin()
    put = api.put(f"/api/v1/channels/{CODE}", json=account_body("youzan", sim.url))
    assert put.status_code in (200, 201), put.text
    start = datetime.now(UTC) - timedelta(hours=1)
    [tid] = admin.post("/_sim/youzan/generate", json={
        "count": 1, "seed": 9, "start": start.isoformat(), "spread_seconds": 60}
    ).json()["external_ids"]
    sent = admin.post("/_sim/youzan/push", json={"hook_url": f"{server.url}/hooks/{CODE}",
                                                 "external_id": tid, "times": 1})
    assert 200 <= sent.json()["status"] < 300, sent.json()
    worker = hub.channel_worker("e2e")
    while worker.run_once():
        pass
    [found] = api.get("/api/v1/orders", params={"q": tid}).json()["items"]
    return found["id"], api.get(f"/api/v1/orders/{found['id']}").json()


def _raw_address(api: TestClient, order_id: str) -> dict[str, Any]:
    [raw] = api.get(f"/api/v1/orders/{order_id}/raw").json()["items"]
    address: dict[str, Any] = raw["payload"]["full_order_info"]["address_info"]
    return address


def test_a_pushed_trade_has_plain_buyer_fields_masked_for_a_viewer(
        live: Any, sim: SimServer) -> None:
    hub, server, api, viewer = live
    sim.admin().delete("/_sim/youzan")
    order_id, order = _push_one(hub, server, api, sim)
    sealed = _raw_address(api, order_id)
    assert sealed["receiver_tel"].startswith("$") and sealed["receiver_tel"].endswith("$1$")
    name, phone = unseal(sealed["receiver_name"]), unseal(sealed["receiver_tel"])
    line1 = unseal(sealed["delivery_address"])
    assert name and phone and line1 and re.match(r"^1[3-9]\d{9}$", phone)
    assert (order["customer"]["name"], order["customer"]["phone"]) == (name, phone), order
    assert order["shipping_address"]["line1"] == line1
    shown = api.get(f"/api/v1/orders/{order_id}",
                    headers={"Authorization": f"Bearer {viewer}"}).json()
    assert shown["customer"]["phone"] == f"{phone[:3]}****{phone[-4:]}"
    assert shown["customer"]["name"] == name[0] + "*" * (len(name) - 1)
    assert line1 not in str(shown) and phone not in str(shown)
    health = api.get(f"/api/v1/channels/{CODE}").json()["health"]
    assert health["errors"] == 0, health


def test_without_the_permission_the_order_is_taken_with_the_fields_withheld(
        live: Any, sim: SimServer) -> None:
    hub, server, api, viewer = live
    sim.admin().delete("/_sim/youzan")
    sim.admin().post("/_sim/youzan/decrypt_permission", json={"allowed": False})
    try:
        order_id, order = _push_one(hub, server, api, sim)
    finally:
        sim.admin().delete("/_sim/youzan")
    assert (order["customer"]["name"], order["customer"]["phone"],
            order["shipping_address"]["line1"]) == (NOT_AUTHORISED,) * 3
    assert _raw_address(api, order_id)["receiver_name"].endswith("$1$")
    shown = api.get(f"/api/v1/orders/{order_id}",
                    headers={"Authorization": f"Bearer {viewer}"}).json()
    assert shown["customer"]["name"] == NOT_AUTHORISED  # a note, not personal data: unmasked
    health = api.get(f"/api/v1/channels/{CODE}").json()["health"]
    assert health["errors"] >= 1 and "not authorised to decrypt" in health["last_error"]
    console = _signed_in_console(hub)
    page = console.get(f"/console/orders/{order_id}").text
    assert _customer(page) == ["有赞加密，未授权解密"] * 3  # (the raw trade, shown for audit,
    # keeps the ciphertext; the order's own fields never show it)
    csrf = CSRF.search(console.get("/console").text)
    assert csrf
    console.post("/console/locale", data={"locale": "en", "csrf_token": csrf.group(1)})
    page = console.get(f"/console/orders/{order_id}").text
    assert _customer(page) == [WITHHELD[NOT_AUTHORISED]] * 3


def _customer(page: str) -> list[str]:
    """The buyer's name and phone as the order page shows them, and its address's last part
    (the street line)."""
    found = re.search(r'<dd>([^<]*) <span class="mono" data-testid="phone">([^<]*)</span>', page)
    address = re.search(r'data-testid="phone">.*?<dd>([^<]*)', page, re.S)
    assert found and address, page
    street = html.unescape(address.group(1)).strip()
    return [html.unescape(found.group(1)), html.unescape(found.group(2)),
            street.split(" ", 4)[-1]]


def test_a_replayed_quarantined_trade_is_decrypted_too(live: Any, sim: SimServer) -> None:
    hub, server, api, viewer = live
    sim.admin().delete("/_sim/youzan")
    api.put(f"/api/v1/channels/{CODE}", json=account_body("youzan", sim.url))
    start = datetime.now(UTC) - timedelta(hours=1)
    [tid] = sim.admin().post("/_sim/youzan/generate", json={
        "count": 1, "seed": 4, "start": start.isoformat(), "spread_seconds": 60}
    ).json()["external_ids"]
    with hub.uow() as uow:
        stored = uow.channels.account(CODE)
    assert stored is not None
    [raw] = hub.channels.open(stored).get_orders([tid])
    with hub.uow() as uow:  # as an older mapping left it: held with the trade as sent
        seq = uow.channels.quarantine(CODE, "youzan", tid, "full_order_info.orders",
                                      "an old mapping refused it", "旧的映射拒绝了它",
                                      raw_text(raw), hub.clock())
    replayed = api.post(f"/api/v1/channels/{CODE}/quarantine/{seq}/replay").json()
    assert replayed["outcome"] == "created", replayed
    order = api.get(f"/api/v1/orders/{replayed['order_id']}").json()
    sealed = _raw_address(api, replayed["order_id"])
    assert sealed["receiver_tel"].endswith("$1$")
    assert order["customer"]["phone"] == unseal(sealed["receiver_tel"])
    assert order["shipping_address"]["line1"] == unseal(sealed["delivery_address"])


def test_a_decrypt_outage_retries_the_fetch_and_stores_nothing_half_read(
        live: Any, sim: SimServer) -> None:
    hub, server, api, viewer = live
    admin = sim.admin()
    admin.delete("/_sim/youzan")
    api.put(f"/api/v1/channels/{CODE}", json=account_body("youzan", sim.url))
    start = datetime.now(UTC) - timedelta(hours=1)
    [tid] = admin.post("/_sim/youzan/generate", json={
        "count": 1, "seed": 5, "start": start.isoformat(), "spread_seconds": 60}
    ).json()["external_ids"]
    admin.post("/_sim/youzan/faults", json={"status": None, "times": 1})  # trade.get answers
    admin.post("/_sim/youzan/faults", json={"status": 503, "times": 5})  # decrypt does not
    admin.post("/_sim/youzan/push", json={"hook_url": f"{server.url}/hooks/{CODE}",
                                          "external_id": tid, "times": 1})
    worker = hub.channel_worker("e2e")
    worker.sleep = lambda seconds: None
    while worker.run_once():
        pass
    assert api.get("/api/v1/orders", params={"q": tid}).json()["items"] == []
    health = api.get(f"/api/v1/channels/{CODE}").json()["health"]
    assert health["errors"] == 1 and "HTTP 503" in health["last_error"], health
    with hub.uow() as uow:
        assert uow.channels.job_counts()[(CODE, "pending")] == 1
    time.sleep(1.3)  # the job's backoff (about a second after a first failure)
    while worker.run_once():
        pass
    [found] = api.get("/api/v1/orders", params={"q": tid}).json()["items"]
    order = api.get(f"/api/v1/orders/{found['id']}").json()
    assert order["customer"]["phone"] == unseal(
        _raw_address(api, found["id"])["receiver_tel"])


def test_once_the_shop_may_decrypt_a_new_pull_fills_in_the_withheld_fields(
        live: Any, sim: SimServer) -> None:
    hub, server, api, viewer = live
    admin = sim.admin()
    admin.delete("/_sim/youzan")
    admin.post("/_sim/youzan/decrypt_permission", json={"allowed": False})
    api.put(f"/api/v1/channels/{CODE}", json=account_body("youzan", sim.url))
    start = datetime.now(UTC) - timedelta(hours=1)
    [tid] = admin.post("/_sim/youzan/generate", json={
        "count": 1, "seed": 6, "start": start.isoformat(), "spread_seconds": 60}
    ).json()["external_ids"]
    admin.post("/_sim/youzan/status", json={"external_id": tid,
                                            "status": "WAIT_SELLER_SEND_GOODS",
                                            "at": (start + timedelta(minutes=5)).isoformat()})
    window = {"since": (start - timedelta(minutes=1)).isoformat(),
              "until": datetime.now(UTC).isoformat()}
    assert api.post(f"/api/v1/channels/{CODE}/pull", json=window).json()["created"] == 1
    [found] = api.get("/api/v1/orders", params={"q": tid}).json()["items"]
    assert api.get(f"/api/v1/orders/{found['id']}").json()["customer"]["phone"] == \
        NOT_AUTHORISED
    again = api.post(f"/api/v1/channels/{CODE}/pull", json=window).json()
    assert again["unchanged"] == 1, again  # still refused: nothing new
    admin.post("/_sim/youzan/decrypt_permission", json={"allowed": True})
    granted = api.post(f"/api/v1/channels/{CODE}/pull", json=window).json()
    assert granted["updated"] == 1, granted
    order = api.get(f"/api/v1/orders/{found['id']}").json()
    sealed = _last_raw_address(api, found["id"])
    assert (order["customer"]["name"], order["customer"]["phone"],
            order["shipping_address"]["line1"]) == (
        unseal(sealed["receiver_name"]), unseal(sealed["receiver_tel"]),
        unseal(sealed["delivery_address"]))
    types = [e["type"] for e in api.get(f"/api/v1/orders/{found['id']}/events").json()["items"]]
    assert types.count("order.customer_revealed") == 1 and "order.address_changed" in types
    assert api.post(f"/api/v1/channels/{CODE}/pull", json=window).json()["unchanged"] == 1
    page = _signed_in_console(hub).get(f"/console/orders/{found['id']}").text
    assert "<span class=\"strong\">买家信息已解密</span>" in page
    assert _customer(page)[1] == order["customer"]["phone"]


def _signed_in_console(hub: Hub) -> TestClient:
    console = TestClient(create_app(hub), follow_redirects=False)
    csrf = CSRF.search(console.get("/console/login").text)
    assert csrf
    console.post("/console/login", data={"username": "ops", "password": PASSWORD,
                                         "csrf_token": csrf.group(1)})
    return console


def _last_raw_address(api: TestClient, order_id: str) -> dict[str, Any]:
    items = api.get(f"/api/v1/orders/{order_id}/raw").json()["items"]
    address: dict[str, Any] = items[-1]["payload"]["full_order_info"]["address_info"]
    return address
