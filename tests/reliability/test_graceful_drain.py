"""SIGTERM (systemctl stop) drains instead of cutting off: `serve` stops accepting connections
but answers the request in flight and exits 0; `worker` finishes the batch it holds, records
it, and exits 0, having served its metrics on --metrics-port meanwhile. (The embedded
dispatcher of `serve` is checked in test_crash.py.)"""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from orderpilot.adapters import migrations
from orderpilot.adapters import tables as t
from orderpilot.adapters.accounts import AccountRepository
from orderpilot.adapters.db import Database
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.entrypoints.api.schemas import OrderIn
from orderpilot.services import ordering
from orderpilot.services.accounts import create_token
from reliability.support.backends import Backend
from reliability.support.orders import canonical_order
from reliability.support.probe import read_probe
from reliability.support.processes import Child, Server, free_port, orderpilot_env

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 120  # starting a process took up to a minute on this machine under load


def open_hub(backend: Backend) -> Hub:
    hub = bootstrap(Settings(data_dir=backend.data_dir, database_url=backend.database_url,
                             _env_file=None))  # type: ignore[call-arg]
    migrations.upgrade(hub.db)
    return hub


def refused(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            return True
    return False


def test_serve_answers_the_request_in_flight_then_exits_0(tmp_path: Path) -> None:
    backend = Backend("sqlite", tmp_path / "data", None)
    backend.data_dir.mkdir()
    hub = open_hub(backend)
    with hub.db.write() as conn:
        token = create_token(AccountRepository(conn), "drain", "ops", hub.clock)[1]
    hub.close()
    server = Server(orderpilot_env(backend.data_dir, None), tmp_path)
    server.start()
    body = json.dumps(canonical_order(1, "DRAIN")).encode()
    head = (f"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Idempotency-Key: drain-1\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    try:
        server.wait_ready(timeout=STARTUP_SECONDS)
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
            client.sendall(head + body[:40])  # the request is in flight: half its body sent
            time.sleep(0.5)
            server.current.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 20
            while not refused(server.port):
                assert time.monotonic() < deadline, "serve still accepts connections"
                time.sleep(0.1)
            client.sendall(body[40:])
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
        exit_code = server.current.process.wait(timeout=60)
    finally:
        server.stop()

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 201 Created", answer[:500]
    assert b"connection: close" in rest.lower(), "a draining server keeps no connection open"
    order_id = json.loads(rest.partition(b"\r\n\r\n")[2])["id"]
    assert exit_code == 0, f"serve exited {exit_code} after SIGTERM\n{server.current.log_tail()}"
    with sqlite3.connect(backend.data_dir / "orderpilot.db") as db:
        assert db.execute("SELECT count(*) FROM orders WHERE id = ?",
                          (order_id,)).fetchone() == (1,)


def place_orders(hub: Hub, count: int) -> None:
    """Through the service layer, with nothing delivering: the outbox fills up."""
    def place(n: int) -> None:
        body = canonical_order(n, "TERMW")
        ordering.place_order(OrderIn.model_validate(body).to_command(f"termw-{n}", body),
                             hub.uow, hub.clock)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(place, range(count)))


def test_worker_finishes_its_batch_on_sigterm_and_exits_0(backend: Backend,
                                                          tmp_path: Path) -> None:
    hub = open_hub(backend)
    try:
        place_orders(hub, 300)
    finally:
        hub.close()
    probe = tmp_path / "probe.log"
    # A batch (100 events) takes at least 2 s: SIGTERM reliably lands inside one.
    env = orderpilot_env(backend.data_dir, backend.database_url, probe,
                         probe_delay_seconds="0.02")
    port = free_port()
    worker = Child(env, ["worker", "--threads", "1", "--metrics-port", str(port)],
                   tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while len(read_probe(probe)) < 5:
            assert worker.process.poll() is None, worker.log_tail()
            assert time.monotonic() < deadline, f"the worker never started\n{worker.log_tail()}"
            time.sleep(0.05)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "orderpilot_dispatch_lag_seconds_bucket" in metrics, metrics[:2000]
    finally:
        exit_code = worker.terminate(timeout=60)

    db = Database(backend.url)
    try:
        with db.read() as conn:
            left = set(conn.scalars(sa.select(t.outbox.c.event_id)))
            stranded = conn.scalar(sa.select(sa.func.count()).select_from(t.outbox).where(
                t.outbox.c.claimed_by.like(f"%:{worker.pid}:%"),
                t.outbox.c.claimed_until > datetime.now(UTC)))
    finally:
        db.dispose()
    handled = {event_id for event_id, _pid in read_probe(probe)}
    assert exit_code == 0, f"worker exited {exit_code} after SIGTERM\n{worker.log_tail()}"
    assert left, "the worker delivered everything: SIGTERM came too late to test a drain"
    assert not stranded, f"{stranded} events stay leased to the stopped worker"
    assert not handled & left, (
        f"{len(handled & left)} events the worker handled were not marked delivered: it was "
        "cut off instead of finishing its batch")
