"""Outbound webhooks (docs/webhooks.md), on SQLite and PostgreSQL, against a real loopback
receiver: signed deliveries the documented snippet verifies, retries with backoff, one order's
deliveries in event order, dead letters and replay, the delivery log, and the 4xx answers for a
URL off the allow-list and an unknown event type."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import TEST_SOURCES, FakeClock, order_body
from integration.rules_support import settle
from integration.webhook_receiver import Receiver
from orderpilot.adapters import migrations
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.webhooks import MAX_ATTEMPTS
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services import webhooks
from orderpilot.services.accounts import create_token, create_user

DOCS = Path(__file__).parents[2] / "docs" / "webhooks.md"
SECRET = "s3cret-of-the-bi-team-0123456789"


def documented_verifier() -> Callable[[str, dict[str, str], bytes], bool]:
    """The Python snippet docs/webhooks.md gives receivers, run as written."""
    code = re.search(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert code is not None
    namespace: dict[str, Any] = {}
    exec(code.group(1), namespace)  # noqa: S102 (our own documentation)
    return namespace["verify_orderpilot_webhook"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock,
        receiver: Receiver) -> Iterator[Hub]:
    receiver.received.clear()
    receiver.answers.clear()
    receiver.delay_s = 0.0
    made = bootstrap(Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data", database_url=database_url, _env_file=None,
        outbound_allowlist=f"http://127.0.0.1:{receiver.port}/hooks/"), clock=clock)
    migrations.upgrade(made.db)
    yield made
    made.close()


@pytest.fixture
def api(hub: Hub) -> Iterator[Callable[[str], TestClient]]:
    """A client acting as ROLE."""
    tokens = {}
    with hub.db.write() as conn:
        for role in ("admin", "ops", "finance", "viewer"):
            tokens[role] = create_token(AccountRepository(conn), f"{role}-token", role,
                                        hub.clock, TEST_SOURCES)[1]
    with TestClient(create_app(hub, with_console=False),
                    raise_server_exceptions=False) as client:
        def acting(role: str) -> TestClient:
            # One app, a client per role (they share the app's connection and lifespan).
            made = TestClient(client.app, raise_server_exceptions=False)
            made.headers["Authorization"] = f"Bearer {tokens[role]}"
            return made
        yield acting


def subscribe(client: TestClient, receiver: Receiver, events: list[str]) -> str:
    made = client.post("/api/v1/webhooks", json={"url": receiver.url, "events": events,
                                                 "secret": SECRET})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def place(client: TestClient, external_id: str) -> str:
    answer = client.post("/api/v1/orders", json=order_body(external_id))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def pay(client: TestClient, order_id: str) -> None:
    paid = client.post(f"/api/v1/orders/{order_id}/events", json={
        "type": "payment.succeeded", "source": "shopee", "source_event_id": f"pay-{order_id}",
        "occurred_at": "2026-11-26T10:05:00+08:00"})
    assert paid.status_code in (200, 201), paid.text


def log_of(client: TestClient, webhook_id: str) -> list[dict[str, Any]]:
    answer = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_a_url_off_the_allow_list_or_an_unknown_event_is_a_4xx_naming_it(
        api: Callable[[str], TestClient], receiver: Receiver) -> None:
    admin = api("admin")
    for url in ("https://evil.example.net/x", f"http://127.0.0.1:{receiver.port}/elsewhere",
                "http://127.0.0.1:5432/hooks/", "file:///etc/passwd"):
        refused = admin.post("/api/v1/webhooks", json={"url": url, "events": ["order.placed"],
                                                       "secret": SECRET})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == "url"
    refused = admin.post("/api/v1/webhooks", json={
        "url": receiver.url, "events": ["order.placed", "order.teleported"], "secret": SECRET})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == "events[1]"
    assert "order.teleported" in refused.json()["error"]["message"]
    short = admin.post("/api/v1/webhooks", json={"url": receiver.url,
                                                 "events": ["order.placed"], "secret": "short"})
    assert short.status_code == 422 and short.json()["error"]["field"] == "secret"
    assert admin.get("/api/v1/webhooks").json()["items"] == []


def test_only_admins_manage_and_the_secret_is_never_shown_again(
        api: Callable[[str], TestClient], receiver: Receiver) -> None:
    for role in ("ops", "finance", "viewer"):
        assert api(role).post("/api/v1/webhooks", json={
            "url": receiver.url, "events": ["*"], "secret": SECRET}).status_code == 403
    made = api("admin").post("/api/v1/webhooks", json={"url": receiver.url, "events": ["*"]})
    assert made.status_code == 201, made.text
    generated, webhook_id = made.json()["secret"], made.json()["id"]
    assert generated.startswith("whsec_") and len(generated) > 30
    for role in ("admin", "ops"):
        listed = api(role).get("/api/v1/webhooks")
        assert listed.status_code == 200
        assert generated not in listed.text and "secret" not in listed.json()["items"][0]
        assert generated not in api(role).get(f"/api/v1/webhooks/{webhook_id}").text
    for role in ("finance", "viewer"):
        assert api(role).get("/api/v1/webhooks").status_code == 403
        assert api(role).get(f"/api/v1/webhooks/{webhook_id}/deliveries").status_code == 403
    assert api("ops").delete(f"/api/v1/webhooks/{webhook_id}").status_code == 403
    assert api("admin").delete(f"/api/v1/webhooks/{webhook_id}").json()["status"] == "disabled"


def test_a_delivery_is_signed_as_documented_and_logged(
        hub: Hub, api: Callable[[str], TestClient], receiver: Receiver) -> None:
    admin = api("admin")
    webhook_id = subscribe(admin, receiver, ["order.placed", "payment.succeeded"])
    order_id = place(admin, "WH-SIGNED")
    settle(hub)
    assert hub.webhook_sender("test").run_once() == 1
    [got] = receiver.received
    verify = documented_verifier()
    assert verify(SECRET, got.headers, got.body)
    assert not verify("another-secret-0123456789", got.headers, got.body)
    assert not verify(SECRET, got.headers, got.body + b" ")  # the body was changed
    body = json.loads(got.body)
    assert body["type"] == got.headers["X-Orderpilot-Event"] == "order.placed"
    assert body["event"]["order_id"] == order_id
    assert body["id"] == got.headers["X-Orderpilot-Delivery"]
    [logged] = log_of(admin, webhook_id)
    assert logged["id"] == body["id"] and logged["status"] == "delivered"
    assert logged["attempts"] == 1 and logged["response"]["status"] == 200
    assert logged["request"]["body"] == body
    assert logged["request"]["headers"]["X-Orderpilot-Signature"] \
        == got.headers["X-Orderpilot-Signature"]
    assert logged["timings"]["delivered_at"] and logged["timings"]["duration_ms"] >= 0
    one = api("ops").get(f"/api/v1/webhooks/deliveries/{logged['id']}")
    assert one.status_code == 200 and one.json()["status"] == "delivered"
    # Events the subscription did not ask for queue nothing; a redelivered event nothing twice.
    with SqlUnitOfWork(hub.db) as uow:
        event = OrderEvent(order_id, "payment.succeeded", "shopee", hub.clock(), hub.clock())
        webhooks.enqueue_deliveries(event, uow, hub.clock)
        webhooks.enqueue_deliveries(event, uow, hub.clock)
        other = OrderEvent(order_id, "wms.picked", "wms", hub.clock(), hub.clock())
        webhooks.enqueue_deliveries(other, uow, hub.clock)
    assert [d["event_type"] for d in log_of(admin, webhook_id)] == ["payment.succeeded",
                                                                    "order.placed"]


def test_failures_are_retried_with_backoff_then_dead_lettered_and_replayed(
        hub: Hub, clock: FakeClock, api: Callable[[str], TestClient],
        receiver: Receiver) -> None:
    admin = api("admin")
    webhook_id = subscribe(admin, receiver, ["order.placed"])
    place(admin, "WH-DOWN")
    settle(hub)
    sender = hub.webhook_sender("test")
    receiver.answers[:] = [503] * MAX_ATTEMPTS
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert sender.run_once() == 1
        assert sender.run_once() == 0  # not again before its backoff ends
        [logged] = log_of(admin, webhook_id)
        assert logged["attempts"] == attempt and logged["response"]["status"] == 503
        if attempt < MAX_ATTEMPTS:
            assert logged["status"] == "pending"
            due = logged["next_attempt_at"]
            waits.append(round((__import__("datetime").datetime.fromisoformat(due)
                                - clock.now).total_seconds()))
        clock.advance(hours=1)
    assert waits == [10, 20, 40, 80, 160, 320, 640]
    [dead] = log_of(admin, webhook_id)
    assert dead["status"] == "dead" and "503" in dead["last_error"]
    assert sender.run_once() == 0
    assert len(receiver.received) == MAX_ATTEMPTS
    assert api("ops").post(f"/api/v1/webhooks/deliveries/{dead['id']}/replay"
                           ).status_code == 403
    replayed = admin.post(f"/api/v1/webhooks/deliveries/{dead['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["status"] == "pending" and replayed.json()["replays"] == 1
    assert admin.post(f"/api/v1/webhooks/deliveries/{dead['id']}/replay").status_code == 409
    assert sender.run_once() == 1
    [delivered] = log_of(admin, webhook_id)
    assert delivered["status"] == "delivered"
    # every attempt is in the log, not only the last: seven retries, the dead one, and the
    # replay's delivery, each with the receiver's answer
    log = admin.get(f"/api/v1/webhooks/deliveries/{dead['id']}").json()["attempt_log"]
    assert delivered["attempt_log"] == log
    assert [(a["outcome"], a["response"]["status"], a["replay"]) for a in log] == \
        [("retry", 503, 0)] * (MAX_ATTEMPTS - 1) + [("dead", 503, 0), ("delivered", 200, 1)]
    assert all(a["duration_ms"] is not None for a in log)
    assert [a["attempted_at"] for a in log] == sorted(a["attempted_at"] for a in log)
    assert receiver.received[-1].headers["X-Orderpilot-Delivery"] == dead["id"]
    assert receiver.received[-1].body == receiver.received[0].body  # the same bytes
    assert admin.post("/api/v1/webhooks/deliveries/nope/replay").status_code == 404


def test_a_timeout_is_a_failed_attempt(hub: Hub, api: Callable[[str], TestClient],
                                       receiver: Receiver) -> None:
    webhook_id = subscribe(api("admin"), receiver, ["order.placed"])
    place(api("admin"), "WH-SLOW")
    settle(hub)
    sender = hub.webhook_sender("test")
    sender.settings = webhooks.SenderSettings(timeout_s=0.3)
    receiver.delay_s = 1.0
    assert sender.run_once() == 1
    [logged] = log_of(api("admin"), webhook_id)
    assert logged["status"] == "pending" and "Timeout" in logged["last_error"]


def test_one_orders_deliveries_go_out_in_event_order(
        hub: Hub, clock: FakeClock, api: Callable[[str], TestClient],
        receiver: Receiver) -> None:
    admin = api("admin")
    webhook_id = subscribe(admin, receiver, ["order.placed", "payment.succeeded"])
    first, second = place(admin, "WH-ORDER-1"), place(admin, "WH-ORDER-2")
    pay(admin, first)
    pay(admin, second)
    settle(hub)
    sender = hub.webhook_sender("test")
    receiver.answers[:] = [500]  # the first order's order.placed fails once
    sender.run_once()
    # Each order's first delivery was tried; the payments wait behind them.
    assert sorted(receiver.events()) == sorted([("order.placed", first),
                                                ("order.placed", second)])
    sender.run_once()  # the first order's payment still waits behind its retry
    assert receiver.events()[2:] == [("payment.succeeded", second)]
    clock.advance(seconds=11)
    sender.run_once()
    sender.run_once()
    mine = [e for e in receiver.events() if e[1] == first]
    assert mine == [("order.placed", first), ("order.placed", first),
                    ("payment.succeeded", first)]
    # A dead earlier delivery no longer holds the later ones back.
    third = place(admin, "WH-ORDER-3")
    pay(admin, third)
    settle(hub)
    receiver.answers[:] = [500] * MAX_ATTEMPTS
    for _ in range(MAX_ATTEMPTS):
        sender.run_once()
        clock.advance(hours=1)
    assert [e for e in receiver.events() if e[1] == third] == \
        [("order.placed", third)] * MAX_ATTEMPTS
    sender.run_once()
    assert receiver.events()[-1] == ("payment.succeeded", third)
    statuses = {(d["order_id"], d["event_type"]): d["status"] for d in log_of(admin, webhook_id)}
    assert statuses[(third, "order.placed")] == "dead"
    assert statuses[(third, "payment.succeeded")] == "delivered"


def test_two_senders_never_send_one_delivery_twice(
        hub: Hub, api: Callable[[str], TestClient], receiver: Receiver) -> None:
    admin = api("admin")
    subscribe(admin, receiver, ["order.placed"])
    for n in range(12):
        place(admin, f"WH-RACE-{n}")
    settle(hub)
    senders = [hub.webhook_sender(f"race-{i}") for i in range(3)]
    for sender in senders:
        sender.settings = webhooks.SenderSettings(batch_size=2)
    barrier = threading.Barrier(len(senders))

    def drain(sender: webhooks.WebhookSender) -> None:
        barrier.wait()
        while sender.run_once():
            pass

    threads = [threading.Thread(target=drain, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = [r.headers["X-Orderpilot-Delivery"] for r in receiver.received]
    assert len(ids) == 12 and len(set(ids)) == 12


def test_a_disabled_subscription_queues_and_sends_nothing(
        hub: Hub, api: Callable[[str], TestClient], receiver: Receiver) -> None:
    admin = api("admin")
    webhook_id = subscribe(admin, receiver, ["order.placed"])
    place(admin, "WH-BEFORE")
    settle(hub)
    assert admin.delete(f"/api/v1/webhooks/{webhook_id}").status_code == 200
    place(admin, "WH-AFTER")
    settle(hub)
    sender = hub.webhook_sender("test")
    assert sender.run_once() == 0
    assert len(log_of(admin, webhook_id)) == 1  # queued before it was disabled: it waits
    assert admin.post(f"/api/v1/webhooks/{webhook_id}/enable").json()["status"] == "active"
    assert sender.run_once() == 1
    assert receiver.events()[0][0] == "order.placed"


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery 9"


def sign_in(client: TestClient, login: str, locale: str) -> str:
    client.cookies.clear()
    found = CSRF.search(client.get("/console/login").text)
    assert found
    answer = client.post("/console/login", data={"username": login, "password": PASSWORD,
                                                 "csrf_token": found.group(1)})
    assert answer.status_code == 303, answer.text
    again = CSRF.search(client.get("/console", follow_redirects=True).text)
    assert again
    client.post("/console/locale", data={"locale": locale, "csrf_token": again.group(1)})
    return again.group(1)


def test_the_console_page_shows_deliveries_and_replays_a_dead_letter(
        hub: Hub, clock: FakeClock, api: Callable[[str], TestClient],
        receiver: Receiver) -> None:
    webhook_id = subscribe(api("admin"), receiver, ["order.placed"])
    place(api("admin"), "WH-CONSOLE")
    settle(hub)
    sender = hub.webhook_sender("test")
    receiver.answers[:] = [502] * MAX_ATTEMPTS
    for _ in range(MAX_ATTEMPTS):
        sender.run_once()
        clock.advance(hours=1)
    with hub.db.write() as conn:
        for login, role in (("boss", "admin"), ("li.ops", "ops"), ("viewer", "viewer")):
            create_user(AccountRepository(conn), login, PASSWORD, role, hub.clock)
    with TestClient(create_app(hub), follow_redirects=False) as console:
        sign_in(console, "boss", "zh_CN")
        page = console.get("/console/webhooks")
        assert page.status_code == 200, page.text
        assert "外发 Webhook" in page.text and "死信" in page.text and "502" in page.text
        assert f"全部尝试 ({MAX_ATTEMPTS})" in page.text and "失败，稍后重试" in page.text
        assert receiver.url in page.text and "X-Orderpilot-Signature" in page.text
        assert 'data-testid="webhook-replay"' in page.text
        csrf = CSRF.search(page.text)
        assert csrf
        [dead] = log_of(api("admin"), webhook_id)
        replayed = console.post(f"/console/webhooks/deliveries/{dead['id']}/replay",
                                data={"csrf_token": csrf.group(1)})
        assert replayed.status_code == 200 and "已加入重发" in replayed.text
        assert log_of(api("admin"), webhook_id)[0]["status"] == "pending"
        ops_csrf = sign_in(console, "li.ops", "en")
        page = console.get("/console/webhooks")
        assert page.status_code == 200 and "Outbound webhooks" in page.text
        assert 'data-testid="webhook-replay"' not in page.text
        assert console.post(f"/console/webhooks/deliveries/{dead['id']}/replay",
                            data={"csrf_token": ops_csrf}).status_code == 403
        sign_in(console, "viewer", "zh_CN")
        assert console.get("/console/webhooks").status_code == 403


def test_an_admin_subscribes_switches_off_and_on_in_the_console(
        hub: Hub, api: Callable[[str], TestClient], receiver: Receiver) -> None:
    with hub.db.write() as conn:
        for login, role in (("boss", "admin"), ("li.ops", "ops")):
            create_user(AccountRepository(conn), login, PASSWORD, role, hub.clock)
    with TestClient(create_app(hub), follow_redirects=False) as console:
        csrf = sign_in(console, "boss", "zh_CN")
        page = console.get("/console/webhooks")
        assert 'data-testid="webhook-create"' in page.text and "新建订阅" in page.text

        # off the allow-list: a 4xx in Chinese that names it, the form kept, nothing made
        refused = console.post("/console/webhooks", data={
            "csrf_token": csrf, "url": "https://evil.example.com/hook",
            "events": ["order.placed"], "description": "坏地址"})
        assert refused.status_code == 422 and "外呼白名单" in refused.text
        assert "https://evil.example.com/hook" in refused.text
        assert api("admin").get("/api/v1/webhooks").json()["items"] == []

        made = console.post("/console/webhooks", data={
            "csrf_token": csrf, "url": receiver.url, "events": ["order.placed", "hold.placed"],
            "description": "ERP 同步"})
        assert made.status_code == 200 and "请立即复制签名密钥" in made.text
        secret = re.search(r'data-testid="one-time-secret">([^<]+)<', made.text)
        assert secret and secret.group(1).startswith("whsec_")
        [sub] = api("admin").get("/api/v1/webhooks").json()["items"]
        assert sub["events"] == ["order.placed", "hold.placed"] and sub["status"] == "active"
        assert sub["created_by"] == "boss" and "secret" not in sub
        assert secret.group(1) not in console.get("/console/webhooks").text  # shown once

        # the secret shown is the one deliveries are signed with
        place(api("admin"), "WH-FORM")
        settle(hub)
        assert hub.webhook_sender("test").run_once() == 1
        last = receiver.received[-1]
        assert documented_verifier()(secret.group(1), last.headers, last.body)

        off = console.post(f"/console/webhooks/{sub['id']}/disable", data={"csrf_token": csrf})
        assert off.status_code == 200 and "订阅已停用" in off.text
        assert api("admin").get(f"/api/v1/webhooks/{sub['id']}").json()["status"] == "disabled"
        on = console.post(f"/console/webhooks/{sub['id']}/enable", data={"csrf_token": csrf})
        assert on.status_code == 200 and "订阅已启用" in on.text

        # ops reads the page but may not subscribe or switch
        ops_csrf = sign_in(console, "li.ops", "en")
        page = console.get("/console/webhooks")
        assert page.status_code == 200 and 'data-testid="webhook-create"' not in page.text
        assert 'data-testid="webhook-switch"' not in page.text
        assert console.post("/console/webhooks", data={
            "csrf_token": ops_csrf, "url": receiver.url,
            "events": ["order.placed"]}).status_code == 403
        assert console.post(f"/console/webhooks/{sub['id']}/disable",
                            data={"csrf_token": ops_csrf}).status_code == 403


def test_delivered_deliveries_are_forgotten_after_the_kept_days_pending_and_dead_stay(
        hub: Hub, clock: FakeClock, api: Callable[[str], TestClient],
        receiver: Receiver) -> None:
    """ORDERPILOT_WEBHOOK_DELIVERIES_KEEP_DAYS (30): the sender arms the sweep at the first
    delivery it records in a day; a full batch arms the next round at once."""
    hub.registry.on_timer(webhooks.SWEEP_TIMER, webhooks.sweeper(30, batch=1))  # 3 rounds
    admin = api("admin")
    webhook_id = subscribe(admin, receiver, ["order.placed"])
    sender = hub.webhook_sender("test")
    for name in ("WH-OLD-1", "WH-OLD-2", "WH-OLD-3"):
        place(admin, name)
    settle(hub)
    assert sender.run_once() == 3
    place(admin, "WH-DEAD")
    settle(hub)
    receiver.answers[:] = [503] * MAX_ATTEMPTS
    for _ in range(MAX_ATTEMPTS):
        assert sender.run_once() == 1
        clock.advance(hours=1)
    place(admin, "WH-PENDING")
    settle(hub)
    receiver.answers[:] = [503]
    assert sender.run_once() == 1
    old = {d["id"] for d in log_of(admin, webhook_id) if d["status"] == "delivered"}
    assert len(old) == 3
    settle(hub)  # today's sweep: nothing is 30 days old yet
    assert len(log_of(admin, webhook_id)) == 5

    clock.advance(days=31)
    place(admin, "WH-NEW")
    settle(hub)
    receiver.answers[:] = [503]  # the pending one fails again; the new one is delivered
    assert sender.run_once() == 2
    settle(hub)  # the day's sweep, then its next rounds
    left = {d["order_id"]: d["status"] for d in log_of(admin, webhook_id)}
    assert sorted(left.values()) == ["dead", "delivered", "pending"]
    with hub.db.read() as conn:
        kept = conn.exec_driver_sql("SELECT DISTINCT delivery_id FROM webhook_attempts").all()
    assert not old & {row[0] for row in kept}  # their attempts went with them
    assert len(kept) == 3
