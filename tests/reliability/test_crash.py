"""kill -9 the server while clients place orders: nothing acknowledged is lost or doubled.

The server runs as a real `orderpilot serve` process. Clients post orders, each with its own
Idempotency-Key, and retry through connection errors until the hub acknowledges; meanwhile the
server is killed with SIGKILL, once inside a handler's open transaction and then at random
moments drawn from this run's seed (``test_seed``: new each run, printed, replayed with
``ORDERPILOT_TEST_SEED``), and started again each time. Afterwards every
acknowledged order is there exactly once, and the dispatcher's effects happened once per order
even though some events were delivered more than once.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.db import Database
from reliability.support.backends import Backend
from reliability.support.orders import canonical_order
from reliability.support.probe import read_probe
from reliability.support.processes import Server, create_token, orderpilot_env, run_cli

pytestmark = pytest.mark.slow

ORDERS = 800
CLIENTS = 4
# How long a client keeps trying its orders through the kills. It was 75 s, until a loaded run
# of the whole suite (2026-12-06, twice as slow as usual) had 650 of the 800 orders answered
# by then, none lost: this bounds a broken server's test without failing a slow machine.
CLIENT_DEADLINE_SECONDS = 180.0


@dataclass
class Acknowledgements:
    """What the clients were told, shared by their threads."""

    order_ids: dict[str, str] = field(default_factory=dict)  # Idempotency-Key -> order id
    statuses: Counter[int] = field(default_factory=Counter)
    interrupted: int = 0  # requests cut off by a kill (connection refused, reset, timeout)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def post_orders(server: Server, token: str, numbers: range, acks: Acknowledgements) -> None:
    deadline = time.monotonic() + CLIENT_DEADLINE_SECONDS
    with httpx.Client(base_url=server.base_url, timeout=5.0) as client:
        for n in numbers:
            key = f"crash-{n}"
            while time.monotonic() < deadline:
                try:
                    answer = client.post("/api/v1/orders", json=canonical_order(n, "CRASH"),
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Idempotency-Key": key})
                except httpx.TransportError:
                    with acks.lock:
                        acks.interrupted += 1
                    time.sleep(0.05)
                    continue
                with acks.lock:
                    acks.statuses[answer.status_code] += 1
                    if answer.status_code in (200, 201):
                        acks.order_ids[key] = answer.json()["id"]
                    else:
                        acks.unexpected.append(f"{key}: {answer.status_code} {answer.text[:300]}")
                break
            else:
                with acks.lock:
                    acks.unexpected.append(f"{key}: never acknowledged")


def kill_inside_a_handler(server: Server, probe_file: Path, stall: Path) -> int:
    """SIGKILL while a handler's transaction is open (the probe stalls while ``stall`` exists)."""
    deadline = time.monotonic() + 30
    while not read_probe(probe_file):
        assert time.monotonic() < deadline, "the dispatcher never ran the probe"
        time.sleep(0.01)
    pid = server.kill()
    stall.unlink()
    server.start()
    return pid


def kill_at_random(server: Server, rng: random.Random) -> set[int]:
    """SIGKILL the server 4-6 times, 0.3-1.5 s after each start is ready; returns killed pids."""
    killed = set()
    for _ in range(rng.randint(4, 6)):
        server.wait_ready()
        time.sleep(rng.uniform(0.3, 1.5))
        killed.add(server.kill())
        server.start()
    server.wait_ready()
    return killed


def expire_leases_of_dead_servers(db: Database, live_pid: int) -> None:
    """A killed dispatcher's claims come back when their 60 s lease runs out; skip the wait."""
    with db.write() as conn:
        conn.execute(t.outbox.update()
                     .where(t.outbox.c.claimed_by.is_not(None),
                            t.outbox.c.claimed_by.not_like(f"%:{live_pid}:%"))
                     .values(claimed_until=datetime(2000, 1, 1, tzinfo=UTC)))


def wait_for_drained_outbox(db: Database, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.read() as conn:
            pending = conn.scalar(sa.select(sa.func.count()).select_from(t.outbox)
                                  .where(t.outbox.c.status == "pending"))
        if pending == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"{pending} events still pending in the outbox after {timeout}s")


def start_server(backend: Backend, tmp_path: Path, **settings: str) -> tuple[Server, str]:
    env = orderpilot_env(backend.data_dir, backend.database_url, tmp_path / "probe.log",
                         **settings)
    if backend.is_postgres:
        run_cli(env, "db", "upgrade")
    token = create_token(env, role="ops", name="crash-test-client")
    server = Server(env, tmp_path)
    server.start()
    try:
        server.wait_ready()
    except AssertionError:
        server.stop()
        raise
    return server, token


def test_acknowledged_orders_survive_repeated_kill_9(backend: Backend, tmp_path: Path,
                                                    test_seed: int) -> None:
    rng = random.Random(test_seed)
    stall = tmp_path / "stall"
    stall.touch()
    server, token = start_server(backend, tmp_path, probe_stall_file=str(stall))
    acks = Acknowledgements()
    clients = [threading.Thread(target=post_orders,
                                args=(server, token, range(k, ORDERS, CLIENTS), acks))
               for k in range(CLIENTS)]
    for client in clients:
        client.start()
    db = Database(backend.url)
    unreadable: dict[str, int] = {}
    try:
        killed = {kill_inside_a_handler(server, tmp_path / "probe.log", stall)}
        killed |= kill_at_random(server, rng)
        for client in clients:
            client.join(CLIENT_DEADLINE_SECONDS + 10)
        expire_leases_of_dead_servers(db, server.current.pid)
        wait_for_drained_outbox(db)
        with httpx.Client(base_url=server.base_url, timeout=10.0,
                          headers={"Authorization": f"Bearer {token}"}) as reader:
            for key, order_id in acks.order_ids.items():
                answer = reader.get(f"/api/v1/orders/{order_id}")
                if answer.status_code != 200 or answer.json()["id"] != order_id:
                    unreadable[key] = answer.status_code
    finally:
        server.stop()

    assert not acks.unexpected, acks.unexpected[:10]
    assert len(killed) >= 5
    assert acks.interrupted > 0, "no request was ever cut off by a kill: the test tested nothing"
    assert len(acks.order_ids) == ORDERS
    assert not unreadable, f"acknowledged orders that GET cannot find: {unreadable}"

    with db.read() as conn:
        orders = conn.execute(sa.select(t.orders.c.id, t.orders.c.idempotency_key,
                                        t.orders.c.external_id, t.orders.c.total_cents)).all()
        stats = conn.execute(sa.select(sa.func.sum(t.channel_daily_stats.c.orders),
                                       sa.func.sum(t.channel_daily_stats.c.gmv_cents))).one()
        outbox_left = conn.execute(sa.select(t.outbox.c.event_id, t.outbox.c.status,
                                             t.outbox.c.last_error)).all()
        placed_events = dict(conn.execute(sa.select(t.events.c.id, t.events.c.order_id)
                                          .where(t.events.c.type == "order.placed")).all())
    db.dispose()

    stored_twice = [key for key, rows in Counter(r.idempotency_key for r in orders).items()
                    if rows > 1]
    assert not stored_twice, f"orders stored more than once: {stored_twice[:10]}"
    assert len({r.external_id for r in orders}) == len(orders) == ORDERS
    assert {r.idempotency_key: r.id for r in orders} == acks.order_ids
    assert stats == (len(orders), sum(r.total_cents for r in orders)), \
        "the stats handler did not count every order exactly once"
    assert outbox_left == [], "the outbox was not drained (pending or dead letters left)"
    assert sorted(placed_events.values()) == sorted(r.id for r in orders)

    runs: dict[str, list[int]] = defaultdict(list)
    for event_id, pid in read_probe(tmp_path / "probe.log"):
        runs[event_id].append(pid)
    handled_again = [event_id for event_id, pids in runs.items() if len(pids) > 1]
    print(f"{backend.name}: {len(killed)} kills, {acks.interrupted} interrupted requests, "
          f"answers {dict(acks.statuses)}, {len(handled_again)} events handled again")
    assert handled_again, "the kill inside a handler did not lead to a second delivery"
    assert set(runs) == set(placed_events), "some order.placed event never reached the probe"
    for event_id, pids in runs.items():
        assert len(set(pids)) == len(pids), f"one process handled {event_id} twice: {pids}"
        assert set(pids[:-1]) <= killed, \
            f"{event_id} was handled again although no process that handled it was killed: {pids}"


def test_sigterm_lets_the_embedded_dispatcher_finish_its_batch(backend: Backend,
                                                                tmp_path: Path) -> None:
    """A normal stop (systemd, docker stop) lets the dispatcher finish and record its batch,
    rather than cutting it off like a crash (which strands claims or redoes handled events)."""
    server, token = start_server(backend, tmp_path, embedded_dispatcher="false")
    try:
        with httpx.Client(base_url=server.base_url, timeout=10.0,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            for n in range(150):
                assert client.post("/api/v1/orders", json=canonical_order(n, "TERM"),
                                   headers={"Idempotency-Key": f"term-{n}"}).status_code == 201
        server.stop()
        server.env["ORDERPILOT_EMBEDDED_DISPATCHER"] = "true"
        server.env["ORDERPILOT_PROBE_DELAY_SECONDS"] = "0.02"  # a batch of 100 takes ~2 s
        stopped = server.start()
        server.wait_ready()
        deadline = time.monotonic() + 30
        while len(read_probe(tmp_path / "probe.log")) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(read_probe(tmp_path / "probe.log")) >= 10, "the dispatcher never started"
    finally:
        exit_code = server.stop()

    handled_before_stop = {e for e, pid in read_probe(tmp_path / "probe.log") if pid == stopped.pid}
    db = Database(backend.url)
    with db.read() as conn:
        left = set(conn.scalars(sa.select(t.outbox.c.event_id)))
        stranded = conn.scalar(sa.select(sa.func.count()).select_from(t.outbox).where(
            t.outbox.c.claimed_by.like(f"%:{stopped.pid}:%"),
            t.outbox.c.claimed_until > datetime.now(UTC)))
    db.dispose()
    redone = handled_before_stop & left
    assert not stranded and not redone, (
        f"after SIGTERM (exit code {exit_code}) {stranded} events stay leased to the stopped "
        f"server and {len(redone)} events it had handled were not marked delivered: the "
        f"dispatcher was cut off instead of finishing its batch")
