"""/readyz and the metrics an operator alerts on (deploy/prometheus/alerts.yml), on SQLite and
PostgreSQL: readiness fails with a JSON reason when the backlog is older than the threshold or
the database cannot be reached, and /metrics reads backlog age, dead letters and failing pulls
from the database, so they hold whichever process delivers the events."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from conftest import FakeClock, order_body
from conftest_pg import drop_pg_database
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.entrypoints.api.app import create_app


@pytest.fixture
def client(hub: Hub) -> Any:
    with TestClient(create_app(hub, with_console=False)) as client:
        yield client


def samples(client: TestClient, token: str) -> dict[tuple[str, str], float]:
    """The gauges of /metrics by (name, first label value)."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    found = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found[(sample.name, next(iter(sample.labels.values()), ""))] = sample.value
    return found


def deliver_everything(hub: Hub) -> None:
    dispatcher = hub.dispatcher("test")
    while dispatcher.run_once():
        pass


def test_ready_until_the_backlog_waits_longer_than_the_threshold(
        hub: Hub, client: TestClient, tokens: dict[str, str], clock: FakeClock) -> None:
    hub.settings = hub.settings.model_copy(update={"ready_max_backlog_seconds": 300})
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready", "database": hub.db.dialect,
                            "backlog_age_seconds": 0, "max_backlog_age_seconds": 300}

    placed = client.post("/api/v1/orders", json=order_body("READY-1"),
                         headers={"Authorization": f"Bearer {tokens['ops']}"})
    assert placed.status_code == 201, placed.text
    clock.advance(seconds=299)  # nothing delivers events here: they wait
    assert client.get("/readyz").json()["backlog_age_seconds"] == 299

    clock.advance(seconds=2)
    stale = client.get("/readyz")
    assert stale.status_code == 503
    body = stale.json()
    assert body["status"] == "not_ready" and body["reason"] == "backlog_too_old", body
    assert body["backlog_age_seconds"] == 301 and "workers" in body["message"]
    assert body["message_zh"] and stale.headers["retry-after"] == "5"
    assert samples(client, tokens["viewer"])[
        ("orderpilot_backlog_oldest_age_seconds", "outbox")] == 301

    hub.settings = hub.settings.model_copy(update={"ready_max_backlog_seconds": 0})
    assert client.get("/readyz").status_code == 200, "0 means the backlog is not checked"
    hub.settings = hub.settings.model_copy(update={"ready_max_backlog_seconds": 300})

    deliver_everything(hub)
    assert client.get("/readyz").status_code == 200
    assert samples(client, tokens["viewer"])[
        ("orderpilot_backlog_oldest_age_seconds", "outbox")] == 0


def test_an_event_waiting_for_its_retry_is_not_waiting_for_a_worker(
        hub: Hub, client: TestClient, tokens: dict[str, str], clock: FakeClock) -> None:
    client.post("/api/v1/orders", json=order_body("READY-2"),
                headers={"Authorization": f"Bearer {tokens['ops']}"})
    with hub.db.write() as conn:  # failed once: due again in ten minutes
        conn.execute(t.outbox.update().values(available_at=clock() + timedelta(minutes=10)))
    clock.advance(minutes=9)
    assert client.get("/readyz").json()["backlog_age_seconds"] == 0
    clock.advance(minutes=2)
    assert client.get("/readyz").json()["backlog_age_seconds"] == 60


def test_metrics_count_dead_letters_and_failing_pulls(
        hub: Hub, client: TestClient, tokens: dict[str, str], clock: FakeClock) -> None:
    before = samples(client, tokens["viewer"])
    for kind in ("event", "timer", "webhook"):
        assert before[("orderpilot_dead_letters", kind)] == 0
    for kind in ("channel", "inventory"):
        assert before[("orderpilot_pulls_failing", kind)] == 0

    for external_id in ("DEAD-1", "DEAD-2"):
        client.post("/api/v1/orders", json=order_body(external_id),
                    headers={"Authorization": f"Bearer {tokens['ops']}"})
    now = clock()
    with hub.db.write() as conn:
        dead = conn.execute(sa.select(t.outbox.c.seq).limit(2)).scalars().all()
        conn.execute(t.outbox.update().where(t.outbox.c.seq.in_(dead)).values(status="dead"))
        for number, status in enumerate(("dead", "delivered", "pending")):
            conn.execute(t.webhook_deliveries.insert().values(
                id=f"delivery-{number}", subscription_id="sub-1", event_id=f"event-{number}",
                event_type="order.placed", order_key="", status=status, attempts=8,
                replays=0, due_at=now, created_at=now, body="{}"))
        for code, error in (("shop-a", "pull: the platform answered 500"), ("shop-b", None),
                            ("shop-c", "pull: token expired")):
            conn.execute(t.channel_accounts.insert().values(
                code=code, platform="shopee", shop_id=code, credentials={},
                last_pull={"account": code, "error": error}, enabled=code != "shop-c",
                created_at=now, updated_at=now))
        runs = [("NB", "failed", 1), ("NB", "applied", 2),  # recovered: not failing
                ("HZ", "applied", 1), ("HZ", "failed", 2),  # its latest pull failed
                ("LA", "failed", 3)]
        for number, (source, status, minutes) in enumerate(runs):
            at = now + timedelta(minutes=minutes)
            conn.execute(t.inventory_sync_runs.insert().values(
                id=f"run-{number}", method="pull", source=source, status=status,
                started_at=at, finished_at=at, errors=[], outcome={}))
        conn.execute(t.inventory_sync_runs.insert().values(  # a failed push is no pull
            id="push-1", method="push", source="NB", status="failed", started_at=now,
            finished_at=now + timedelta(hours=1), errors=[], outcome={}))

    after = samples(client, tokens["viewer"])
    assert after[("orderpilot_dead_letters", "event")] == len(dead) == 2
    assert after[("orderpilot_dead_letters", "webhook")] == 1
    assert after[("orderpilot_pulls_failing", "channel")] == 1  # shop-c is switched off
    assert after[("orderpilot_pulls_failing", "inventory")] == 2
    assert after[("orderpilot_backlog", "outbox_dead")] == 2


def test_not_ready_while_the_database_cannot_be_reached(
        hub: Hub, client: TestClient, database_url: str | None) -> None:
    assert client.get("/readyz").status_code == 200
    if database_url:
        drop_pg_database(database_url)
    else:
        def fail(*_args: Any) -> None:
            raise sqlite3.OperationalError("unable to open database file")

        sa.event.listen(hub.db.engine, "do_execute", fail)
        sa.event.listen(hub.db.engine, "do_connect", fail)
    down = client.get("/readyz")
    assert down.status_code == 503, down.text
    body = down.json()
    assert body["status"] == "not_ready" and body["reason"] == "database_unreachable", body
    assert body["database"] == hub.db.dialect and down.headers["retry-after"] == "5"
    health = client.get("/healthz")
    assert health.status_code == 503 and health.headers["retry-after"] == "5"


def test_metrics_say_how_busy_the_sqlite_writer_is(
        hub: Hub, client: TestClient, tokens: dict[str, str]) -> None:
    """The embedded database has one writer: /metrics says how long this process's write
    transactions held it and waited for it (docs/performance.md); PostgreSQL has no such
    limit and no such metric."""
    names = ("orderpilot_sqlite_writer_busy_seconds_total",
             "orderpilot_sqlite_writer_wait_seconds_total",
             "orderpilot_sqlite_write_transactions_total")
    before = samples(client, tokens["viewer"])
    if not hub.db.is_sqlite:
        assert not any((name, "") in before for name in names)
        return
    holding, waited = threading.Event(), []

    def hold() -> None:
        with hub.db.write():
            holding.set()
            time.sleep(0.3)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    started = time.perf_counter()
    with hub.db.write():  # queues behind the holder
        waited.append(time.perf_counter() - started)
    holder.join()
    after = samples(client, tokens["viewer"])
    busy, wait, count = ((after[(n, "")] - before[(n, "")]) for n in names)
    assert count >= 2
    assert busy >= 0.3
    assert 0.15 <= wait <= waited[0] + 0.05


def test_metrics_count_the_sql_statements_this_process_sent(
        hub: Hub, client: TestClient, tokens: dict[str, str]) -> None:
    """Statements per order is what an order costs in round trips (docs/performance.md, "The
    floor"): placing one order sends its look-up and its five rows, at least."""
    name = ("orderpilot_sql_statements_total", "")
    before = samples(client, tokens["viewer"])[name]
    placed = client.post("/api/v1/orders", json=order_body("STMT-1"),
                         headers={"Authorization": f"Bearer {tokens['ops']}"})
    assert placed.status_code == 201, placed.text
    with hub.db.read() as conn:  # one more, counted too
        conn.execute(sa.select(t.orders.c.id)).all()
    sent = samples(client, tokens["viewer"])[name] - before
    # the look-up, order, lines, raw payload, event, outbox (and the metrics page's own reads)
    assert sent >= 7
    assert sent < 200
