"""Rule runs, tickets and sent messages in the console (issue 3), on both databases: a dead
run stands out and is replayed, tickets move along, the order page shows its automation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import FakeClock, order_body
from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.app import create_app
from orderpilot.services.accounts import create_token, create_user

PASSWORD = "correct-horse-42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTMX = {"HX-Request": "true"}
REFUSED = "http://127.0.0.1:9"  # nothing listens: every customs check is refused


def make_hub(database_url: str | None, data_dir: Path, clock: FakeClock,
             **settings: Any) -> Hub:
    hub = bootstrap(Settings(data_dir=data_dir, database_url=database_url,
                             embedded_dispatcher=False, _env_file=None,  # type: ignore[call-arg]
                             **settings), clock=clock)
    migrations.upgrade(hub.db)
    with hub.db.write() as conn:
        for role in ("ops", "viewer"):
            create_user(AccountRepository(conn), role, PASSWORD, role, hub.clock)
    return hub


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock) -> Iterator[Hub]:
    made = make_hub(database_url, tmp_path / "data", clock, customs_url=REFUSED)
    yield made
    made.close()


def client_for(hub: Hub) -> TestClient:
    with hub.db.write() as conn:
        api_token = create_token(AccountRepository(conn), "api", "ops", hub.clock,
                                 ["youzan"])[1]
    client = TestClient(create_app(hub), follow_redirects=False)
    client.api_headers = {"Authorization": f"Bearer {api_token}"}  # type: ignore[attr-defined]
    return client


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with client_for(hub) as c:
        yield c


def sign_in(client: TestClient, username: str) -> str:
    page = client.get("/console/login").text
    found = CSRF.search(page)
    assert found
    response = client.post("/console/login", data={
        "username": username, "password": PASSWORD, "csrf_token": found.group(1)})
    assert response.status_code == 303, response.text
    again = CSRF.search(client.get("/console").text)
    assert again
    return again.group(1)


def paid_order(client: TestClient, external_id: str, total: str,
               phone: str = "13800000000") -> str:
    headers = client.api_headers  # type: ignore[attr-defined]
    body = order_body(external_id, channel="youzan", total=total,
                      customer={"name": "李四", "phone": phone},
                      lines=[{"sku": "MILK-900", "quantity": 1, "unit_price": total}])
    order_id: str = client.post("/api/v1/orders", json=body, headers=headers).json()["id"]
    paid = client.post(f"/api/v1/orders/{order_id}/events", headers=headers, json={
        "type": "payment.succeeded", "source": "youzan", "source_event_id": f"pay-{external_id}",
        "occurred_at": "2026-11-26T10:01:00+08:00", "data": {"amount": total}})
    assert paid.status_code in (200, 201), paid.text
    return order_id


def settle(hub: Hub, clock: FakeClock, rounds: int = 12) -> None:
    """Deliver events and carry out runs, moving time past each retry's backoff."""
    dispatcher, runner = hub.dispatcher("t"), hub.runner("t")
    for _ in range(rounds):
        dispatcher.run_once()
        runner.run_once()
        clock.advance(minutes=10)


def runs_by_rule(hub: Hub) -> dict[str, Any]:
    with hub.db.read() as conn:
        rules = {r.id: r.key for r in conn.execute(sa.select(t.rules))}
        return {rules[r.rule_id]: r for r in conn.execute(
            sa.select(t.rule_runs).where(t.rule_runs.c.replay_of.is_(None)))}


@pytest.fixture
def dead_run(hub: Hub, client: TestClient, clock: FakeClock) -> dict[str, Any]:
    hub.rules.install_template("high-value-review", "ops", enable=True)
    hub.rules.install_template("bonded-zone-customs-check", "ops", enable=True)
    order_id = paid_order(client, "BIG-6000", "6000.00")
    settle(hub, clock)
    runs = runs_by_rule(hub)
    assert runs["bonded-zone-customs-check"].status == "dead"
    assert runs["high-value-review"].status == "succeeded"
    return {"order_id": order_id, "dead": runs["bonded-zone-customs-check"].id,
            "ok": runs["high-value-review"].id}


def test_the_runs_list_shows_every_run_and_dead_ones_stand_out(
        client: TestClient, dead_run: dict[str, Any]) -> None:
    sign_in(client, "ops")
    page = client.get("/console/rule-runs")
    assert page.status_code == 200
    assert "保税区大额订单资质核验" in page.text and "大额订单人工复核" in page.text
    assert "run-row-dead" in page.text and "已死信" in page.text
    assert "Connection refused" in page.text
    assert "BIG-6000" in page.text  # the order is linked by its platform number
    # Only the dead run gets a checkbox for replay.
    assert f'value="{dead_run["dead"]}"' in page.text
    assert f'name="run_ids" value="{dead_run["ok"]}"' not in page.text

    only_dead = client.get("/console/rule-runs", params={"status": "dead"},
                           headers={**HTMX, "HX-Target": "results"})
    assert "<html" not in only_dead.text
    assert "保税区大额订单资质核验" in only_dead.text and "大额订单人工复核" not in only_dead.text
    by_rule = client.get("/console/rule-runs", params={"rule": "high-value-review"}).text
    assert dead_run["ok"] in by_rule and dead_run["dead"] not in by_rule
    bad = client.get("/console/rule-runs", params={"version": "x", "since": "yesterday"})
    assert bad.status_code == 422


def test_a_dead_run_shows_conditions_attempts_and_masked_data(
        client: TestClient, dead_run: dict[str, Any]) -> None:
    sign_in(client, "ops")
    page = client.get(f"/console/rule-runs/{dead_run['dead']}").text
    assert 'data-testid="dead-letter"' in page and "所有重试均失败" in page
    assert "订单金额" in page and "6000" in page and "cond-true" in page  # the field by name
    assert "支付成功" in page and "payment.succeeded" not in page  # the trigger event, named
    assert page.count('class="attempt-retry"') == 6  # the try and 5 retries, each with its error
    assert "Connection refused" in page and " ms" in page
    assert "138****0000" in page and "13800000000" not in page
    assert 'data-testid="replay"' in page
    ok = client.get(f"/console/rule-runs/{dead_run['ok']}").text
    assert 'data-testid="dead-letter"' not in ok and 'data-testid="replay"' not in ok
    assert client.get("/console/rule-runs/no-such-run").status_code == 404


def test_replaying_a_dead_run_makes_a_new_linked_run(
        hub: Hub, client: TestClient, dead_run: dict[str, Any]) -> None:
    csrf = sign_in(client, "ops")
    response = client.post(f"/console/rule-runs/{dead_run['dead']}/replay",
                           data={"csrf_token": csrf, "on": "pinned"})
    assert response.status_code == 303
    new_id = response.headers["location"].rsplit("/", 1)[1]
    with hub.db.read() as conn:
        new = conn.execute(sa.select(t.rule_runs).where(t.rule_runs.c.id == new_id)).one()
    assert (new.replay_of, new.status) == (dead_run["dead"], "pending")
    page = client.get(response.headers["location"]).text
    assert "等待执行" in page and dead_run["dead"][:8] in page
    # A run that succeeded is not replayed; the list form says why, changing nothing.
    refused = client.post("/console/rule-runs/replay", headers={**HTMX, "X-CSRF-Token": csrf},
                          data={"run_ids": [dead_run["ok"]], "on": "pinned"})
    assert refused.status_code == 422 and "只有失败、死信或跳过的运行可以重放" in refused.text
    client.post("/console/locale", data={"locale": "en", "csrf_token": csrf})
    refused = client.post("/console/rule-runs/replay", headers={**HTMX, "X-CSRF-Token": csrf},
                          data={"run_ids": [dead_run["ok"]], "on": "pinned"})
    assert refused.status_code == 422 and "only failed, dead or skipped" in refused.text
    client.post("/console/locale", data={"locale": "zh_CN", "csrf_token": csrf})
    nothing = client.post("/console/rule-runs/replay", headers={**HTMX, "X-CSRF-Token": csrf},
                          data={"on": "pinned"})
    assert nothing.status_code == 422 and "请先勾选" in nothing.text
    several = client.post("/console/rule-runs/replay", headers={**HTMX, "X-CSRF-Token": csrf},
                          data={"run_ids": [dead_run["dead"]], "on": "current",
                                "back": "status=dead"})
    assert several.status_code == 200 and "已提交 1 条运行重放" in several.text


def test_a_viewer_sees_runs_but_cannot_replay(
        hub: Hub, client: TestClient, dead_run: dict[str, Any]) -> None:
    csrf = sign_in(client, "viewer")
    page = client.get("/console/rule-runs").text
    assert "run-row-dead" in page and 'name="run_ids"' not in page
    assert 'data-testid="replay"' not in client.get(
        f"/console/rule-runs/{dead_run['dead']}").text
    refused = client.post(f"/console/rule-runs/{dead_run['dead']}/replay",
                          data={"csrf_token": csrf})
    assert refused.status_code == 403
    with hub.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.rule_runs)).scalar() == 2


def test_tickets_move_along_through_the_queue(
        hub: Hub, client: TestClient, dead_run: dict[str, Any]) -> None:
    csrf = sign_in(client, "ops")
    queue = client.get("/console/tickets").text
    assert "大额订单复核 BIG-6000" in queue and "大额复核" in queue
    assert "prio-normal" in queue and "待处理" in queue
    with hub.db.read() as conn:
        ticket = conn.execute(sa.select(t.tickets)).one()
    url = f"/console/tickets/{ticket.id}/status"
    skipped = client.post(url, data={"status": "closed"}, headers={**HTMX, "X-CSRF-Token": csrf})
    assert skipped.status_code == 409 and skipped.headers["HX-Retarget"] == "#flash"
    moved = client.post(url, data={"status": "in_progress"},
                        headers={**HTMX, "X-CSRF-Token": csrf})
    assert moved.status_code == 200 and "<html" not in moved.text
    assert f'id="ticket-{ticket.id}"' in moved.text and "处理中" in moved.text
    assert 'data-testid="move-resolved"' in moved.text
    with hub.db.read() as conn:
        assert conn.execute(sa.select(t.tickets.c.status)).scalar() == "in_progress"
    assert "大额订单复核" in client.get("/console/tickets?status=in_progress").text
    assert "大额订单复核" not in client.get("/console/tickets?status=open").text
    assert client.get("/console/tickets?status=nope").status_code == 422

    client.post("/console/logout", data={"csrf_token": csrf})
    viewer = sign_in(client, "viewer")
    assert 'data-testid="move-' not in client.get("/console/tickets").text
    assert client.post(url, data={"status": "resolved", "csrf_token": viewer}).status_code \
        == 403


def test_the_order_page_shows_its_runs_and_tickets(
        client: TestClient, dead_run: dict[str, Any]) -> None:
    sign_in(client, "viewer")
    page = client.get(f"/console/orders/{dead_run['order_id']}").text
    assert 'data-testid="order-automation"' in page
    assert f"/console/rule-runs/{dead_run['dead']}" in page
    assert f"/console/rule-runs/{dead_run['ok']}" in page
    assert "大额订单复核 BIG-6000" in page and "已死信" in page


def test_the_messages_page_shows_the_sms_a_rule_sent(
        database_url: str | None, tmp_path: Path, clock: FakeClock) -> None:
    from orderpilot.simulators.external.server import SimServer

    with SimServer() as sim:
        hub = make_hub(database_url, tmp_path / "sms", clock, sim_url=sim.url)
        try:
            hub.rules.install_template("bonded-zone-customs-check", "ops", enable=True)
            with client_for(hub) as client:
                paid_order(client, "S4-SMS", "600.00", phone="13800000002")
                settle(hub, clock, rounds=4)
                sign_in(client, "viewer")
                page = client.get("/console/messages").text
                assert "SMS_QUAL_UPLOAD" in page and "保税优选" in page
                assert "order_no" in page and "S4-SMS" in page
                assert "138****0002" in page and "13800000002" not in page
                assert "SMS_QUAL_UPLOAD" not in client.get(
                    "/console/messages?kind=email.send").text
        finally:
            hub.close()
