"""kill -9 the hub while rules carry out the S4 story: every SMS, customs check, hold and
ticket happens exactly once per order.

`orderpilot serve` runs as a real process against the loopback simulators (in this process).
The SMS simulator answers slowly, so kills land during calls; the hub is killed at seeded
random moments and started again. The SMS simulator does NOT de-duplicate (like real Aliyun):
a step interrupted mid-call is looked up by its key after the lease runs out and resent only
if the provider has no record of it. (The customs check is a plain HTTP call, which has no
look-up: it relies on the receiver honouring Idempotency-Key, which its simulator does.)
Kills at chosen points inside the call are in test_rules_resend_crash.py.
"""

from __future__ import annotations

import random
import time
from collections import Counter

import httpx
import pytest
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.db import Database
from orderpilot.simulators.external.server import SimServer
from reliability.support.backends import Backend
from reliability.support.processes import Server, create_token, orderpilot_env, run_cli

pytestmark = pytest.mark.slow

ORDERS = 40
KILLS = 6
# Time allowed for the clients to be acknowledged, then again for the rules to settle. The test
# is about exactly-once, not speed: a loaded CI run once settled 0.04 s after a shared 120 s
# deadline, with every count right.
ACKNOWLEDGE_SECONDS = 180
SETTLE_SECONDS = 180


def order_body(n: int) -> dict[str, object]:
    return {"channel": "youzan", "shop_id": "wx-mini", "external_id": f"K{n:05d}",
            "placed_at": "2026-11-26T10:00:00+08:00", "currency": "CNY",
            "customer": {"name": "王五", "phone": f"1370000{n:04d}"},
            "shipping_address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                                 "district": "北仑区", "line1": "保税区港城大道1号",
                                 "postal_code": "315800"},
            "lines": [{"sku": "MILK-900", "quantity": 1, "unit_price": "800.00"}],
            "total": "800.00"}


def place_and_pay(server: Server, token: str, n: int, deadline: float) -> None:
    """Retry through kills until the hub acknowledged both the order and its payment."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"k-{n}"}
    order_id = None
    while time.monotonic() < deadline:
        try:
            with httpx.Client(base_url=server.base_url, timeout=5) as client:
                if order_id is None:
                    answer = client.post("/api/v1/orders", json=order_body(n), headers=headers)
                    assert answer.status_code in (200, 201), answer.text
                    order_id = answer.json()["id"]
                paid = client.post(f"/api/v1/orders/{order_id}/events", headers=headers, json={
                    "type": "payment.succeeded", "source": "youzan",
                    "source_event_id": f"pay-k-{n}",
                    "occurred_at": "2026-11-26T10:01:00+08:00"})
                assert paid.status_code in (200, 201), paid.text
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"order {n} was never acknowledged")


def progress(db: Database) -> dict[str, int]:
    with db.read() as conn:
        pending = conn.execute(sa.select(sa.func.count()).select_from(t.rule_runs)
                               .where(t.rule_runs.c.status == "pending")).scalar()
        backlog = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar()
        runs = conn.execute(sa.select(sa.func.count()).select_from(t.rule_runs)).scalar()
    return {"pending_runs": pending or 0, "outbox_backlog": backlog or 0, "runs": runs or 0}


def settled(state: dict[str, int]) -> bool:
    return state == {"pending_runs": 0, "outbox_backlog": 0, "runs": ORDERS}


def test_each_sms_check_hold_and_ticket_exactly_once_across_kills(backend: Backend,
                                                                  test_seed: int) -> None:
    rng = random.Random(test_seed)
    with SimServer() as sim:
        env = orderpilot_env(backend.data_dir, backend.database_url, sim_url=sim.url,
                             rule_lease_seconds="2", sms_rate_per_second="100",
                             rule_lookup_grace_seconds="2", rule_lookup_backoff_seconds="0.5")
        run_cli(env, "db", "upgrade")
        run_cli(env, "rules", "install-template", "bonded-zone-customs-check", "--enable")
        token = create_token(env, "ops", "crash", "youzan")
        sim.admin().post("/_sim/aliyun-sms/dedupe", json={"enabled": False})
        # Slow answers, so that kills land while calls are in flight.
        for name in ("aliyun-sms", "customs"):
            sim.admin().post(f"/_sim/{name}/faults", json={"delay_ms": 150, "times": 10_000})
        server = Server(env, backend.data_dir)
        server.start()
        server.wait_ready()
        deadline = time.monotonic() + ACKNOWLEDGE_SECONDS
        kills = 0
        for n in range(ORDERS):
            place_and_pay(server, token, n, deadline)
            if kills < KILLS and rng.random() < KILLS / ORDERS * 1.5:
                time.sleep(rng.uniform(0.05, 0.6))
                server.kill()
                kills += 1
                server.start()
                server.wait_ready()
        db = Database(backend.url)
        try:
            settle_by = time.monotonic() + SETTLE_SECONDS
            while not settled(state := progress(db)):
                assert time.monotonic() < settle_by, f"the runs did not settle in time: {state}"
                time.sleep(0.5)
            with db.read() as conn:
                holds = Counter(r.order_id for r in conn.execute(
                    sa.select(t.holds.c.order_id)
                    .where(t.holds.c.reason == "qualification_pending")))
                tickets = Counter(r.order_id for r in conn.execute(
                    sa.select(t.tickets.c.order_id)))
                statuses = Counter(r.status for r in conn.execute(
                    sa.select(t.rule_runs.c.status)))
        finally:
            db.dispose()
        server.stop()
        sms = Counter(r["body"]["PhoneNumbers"] for r in sim.requests("aliyun-sms"))
        checks = Counter(r["body"]["phone"] for r in sim.requests("customs"))

    assert kills >= 3
    assert statuses == {"succeeded": ORDERS}
    phones = {f"1370000{n:04d}" for n in range(ORDERS)}
    assert set(sms) == phones and set(sms.values()) == {1}
    assert set(checks) == phones and set(checks.values()) == {1}
    assert len(holds) == ORDERS and set(holds.values()) == {1}
    assert len(tickets) == ORDERS and set(tickets.values()) == {1}
