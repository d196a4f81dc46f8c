"""The optional relay of the event stream to NATS JetStream (docs/webhooks.md), on SQLite and
PostgreSQL, against a nats-server with JetStream the test starts itself (file storage in a
scratch directory): every event published once, in order, with ``Nats-Msg-Id`` = the event id,
and a publish repeated after a crash (acked, not yet deleted) stored once."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import FakeClock, missing_service, order_body
from integration.rules_support import settle
from orderpilot.adapters import migrations
from orderpilot.adapters.uow import SqlUnitOfWork
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from reliability.support.processes import free_port

try:
    import nats
except ImportError:  # the test extra installs nats-py: on CI its absence is a failure
    missing_service("nats-py is not installed (pip install -e '.[test]')")
STREAM = "ORDERPILOT_TEST"


@pytest.fixture(scope="module")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("nats-server")
    if binary is None:
        missing_service("nats-server is not installed")
    assert binary is not None
    port = free_port()
    store = tmp_path_factory.mktemp("jetstream")
    server = subprocess.Popen([binary, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd",
                               str(store)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"nats://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def stream_messages(url: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(subject, Nats-Msg-Id, body) of every message in the test stream, in stream order."""
    import json

    async def read() -> list[tuple[str, str, dict[str, Any]]]:
        connection = await nats.connect(url)
        try:
            js = connection.jetstream()
            info = await js.stream_info(STREAM)
            assert str(getattr(info.config.storage, "value", info.config.storage)) == "file"
            found = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                message = await js.get_msg(STREAM, seq)
                found.append((message.subject, (message.headers or {}).get("Nats-Msg-Id", ""),
                              json.loads(message.data)))
            return found
        finally:
            await connection.close()

    return asyncio.run(read())


def purge(url: str) -> None:
    async def run() -> None:
        connection = await nats.connect(url)
        try:
            js = connection.jetstream()
            try:
                await js.delete_stream(STREAM)
            except Exception:  # noqa: BLE001 - not made yet
                pass
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture
def hub(database_url: str | None, tmp_path: Path, clock: FakeClock,
        nats_url: str) -> Iterator[Hub]:
    purge(nats_url)
    made = bootstrap(Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data", database_url=database_url, _env_file=None,
        nats_relay_url=nats_url, nats_relay_stream=STREAM,
        nats_relay_subject_prefix="test.orderpilot"), clock=clock)
    migrations.upgrade(made.db)
    yield made
    made.close()


def test_every_event_is_relayed_once_in_order_with_its_id(hub: Hub, api: Any,
                                                          nats_url: str) -> None:
    orders = []
    for n in range(3):
        placed = api.post("/api/v1/orders", json=order_body(f"NATS-{n}"))
        assert placed.status_code == 201, placed.text
        orders.append(placed.json()["id"])
    settle(hub)
    with hub.db.read() as conn:
        events = [(r.id, r.type, r.order_id) for r in conn.exec_driver_sql(
            "SELECT id, type, order_id FROM events ORDER BY seq")]
    relay = hub.event_relay()
    assert relay is not None
    assert relay.run_once() == len(events)
    assert relay.run_once() == 0
    got = stream_messages(nats_url)
    assert [m[1] for m in got] == [e[0] for e in events]
    assert [m[0] for m in got] == [f"test.orderpilot.{e[1]}" for e in events]
    assert [m[2]["event"]["order_id"] for m in got] == [e[2] for e in events]
    # A crash after JetStream's ack, before the queue rows were deleted: the events are
    # published again, and JetStream keeps one copy of each (Nats-Msg-Id).
    with SqlUnitOfWork(hub.db) as uow:
        for message_id, subject, body in [(m[1], m[0], m[2]) for m in got[:2]]:
            import json
            uow.nats_relay.add(message_id, subject, json.dumps(body))
    assert relay.run_once() == 2
    assert len(stream_messages(nats_url)) == len(events)


def test_nats_down_keeps_the_queue_for_later(hub: Hub, api: Any, nats_url: str,
                                             tmp_path: Path) -> None:
    hub.settings.nats_relay_url = f"nats://127.0.0.1:{free_port()}"  # nobody listens there
    relay = hub.event_relay()
    assert relay is not None
    assert api.post("/api/v1/orders", json=order_body("NATS-DOWN")).status_code == 201
    settle(hub)
    assert relay.run_once() == 0
    with SqlUnitOfWork(hub.db) as uow:
        assert uow.nats_relay.waiting() >= 1
