"""kill -9 and restart with a poison rule in the database (issue 8, item 2).

The rule is written straight into the tables, as a version before the expression limits would
have stored it: its condition ``len(map([0..1000000000], #)) > 0`` made zen ask for 32 GB and
abort the process, and again within a second of every restart as the pending event came back.
Here the hub is started, given one order, killed at a random moment and started again, a few
times: each start must answer /healthz and take an order within seconds and stay up, the
poison rule must end paused with exactly one alert after ``rule_strike_limit`` strikes (counted
in the database across the kills: one order per incarnation never reaches the limit in memory),
and the healthy rule must have run for every order.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.db import Database
from orderpilot.domain.events import new_id
from reliability.support.backends import Backend
from reliability.support.processes import Server, create_token, orderpilot_env, run_cli

pytestmark = pytest.mark.slow

POISON = "len(map([0..1000000000], #)) > 0"
STARTS = 5
READY_WITHIN = 20.0  # seconds from exec to /healthz, imports included, on a busy CI core
ORDER_WITHIN = 5.0


def rule_definition(tag: str, expression: str) -> dict[str, Any]:
    return {"name": tag, "trigger": {"kind": "event", "event": "order.placed"},
            "conditions": {"all": []}, "expression": expression,
            "actions": [{"id": "tag", "type": "order.tag", "params": {"tags": [tag]}}]}


def plant(db: Database, key: str, expression: str) -> str:
    rule_id, now = new_id(), datetime.now(UTC)
    with db.write() as conn:
        conn.execute(t.rules.insert(), {
            "id": rule_id, "key": key, "name": key, "status": "enabled", "draft": None,
            "published_version": 1, "template_id": None, "created_by": "old-version",
            "created_at": now, "updated_at": now, "row_version": 0})
        conn.execute(t.rule_versions.insert(), {
            "rule_id": rule_id, "version": 1, "definition": rule_definition(key, expression),
            "published_by": "old-version", "published_at": now, "reason": "", "diff": []})
    return rule_id


def order_body(n: int) -> dict[str, Any]:
    return {"channel": "youzan", "shop_id": "wx-mini", "external_id": f"P{n:04d}",
            "placed_at": "2026-11-26T10:00:00+08:00", "currency": "CNY",
            "customer": {"name": "王五", "phone": f"1370001{n:04d}"},
            "shipping_address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                                 "district": "北仑区", "line1": "港城大道1号",
                                 "postal_code": "315800"},
            "lines": [{"sku": "MILK-900", "quantity": 1, "unit_price": "80.00"}],
            "total": "80.00"}


def place(server: Server, token: str, n: int) -> float:
    """Seconds until the hub acknowledged order n."""
    started = time.monotonic()
    while time.monotonic() - started < ORDER_WITHIN:
        try:
            answer = httpx.post(f"{server.base_url}/api/v1/orders", json=order_body(n),
                                headers={"Authorization": f"Bearer {token}",
                                         "Idempotency-Key": f"poison-{n}"}, timeout=5)
            assert answer.status_code in (200, 201), answer.text
            return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"order {n} not accepted within {ORDER_WITHIN}s\n"
                         f"{server.current.log_tail()}")


def state(db: Database, poison: str, healthy: str) -> dict[str, Any]:
    with db.read() as conn:
        rule = conn.execute(sa.select(t.rules.c.status, t.rules.c.strikes)
                            .where(t.rules.c.id == poison)).one()
        backlog = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar()
        healthy_runs = conn.execute(
            sa.select(t.rule_runs.c.order_id, t.rule_runs.c.status)
            .where(t.rule_runs.c.rule_id == healthy)).all()
        poison_runs = conn.execute(sa.select(sa.func.count()).select_from(t.rule_runs)
                                   .where(t.rule_runs.c.rule_id == poison)).scalar()
        alerts = [r.title for r in conn.execute(sa.select(t.tickets.c.title, t.tickets.c.tags))
                  if "rule-disabled" in r.tags]
        disabled = conn.execute(sa.select(sa.func.count()).select_from(t.rule_audit).where(
            t.rule_audit.c.rule_id == poison, t.rule_audit.c.action == "auto_disabled")).scalar()
    return {"status": rule.status, "strikes": rule.strikes, "backlog": backlog,
            "healthy_runs": healthy_runs, "poison_runs": poison_runs, "alerts": alerts,
            "disabled": disabled}


def test_a_poison_rule_never_stops_or_crash_loops_the_hub(backend: Backend) -> None:
    seed = random.randrange(2**32)
    print(f"poison crash test seed: {seed}")
    rng = random.Random(seed)
    env = orderpilot_env(backend.data_dir, backend.database_url, rule_strike_limit="3")
    run_cli(env, "db", "upgrade")
    token = create_token(env, "ops", "poison")
    db = Database(backend.url)
    try:
        poison = plant(db, "poison", POISON)
        healthy = plant(db, "healthy", "order.total > 1")
        server = Server(env, backend.data_dir)
        orders = 0
        for start in range(STARTS + 1):
            began = time.monotonic()
            server.start()
            server.wait_ready(timeout=READY_WITHIN)
            ready = time.monotonic() - began
            took = place(server, token, orders)
            orders += 1
            print(f"start {start}: /healthz after {ready:.1f}s, order accepted in {took:.2f}s")
            if start == STARTS:
                break
            time.sleep(rng.uniform(0.0, 1.2))  # the old hub aborted within 1 s of a start
            assert server.current.process.poll() is None, \
                f"the hub died by itself\n{server.current.log_tail()}"
            server.kill()
        deadline = time.monotonic() + 60
        while True:
            seen = state(db, poison, healthy)
            if seen["backlog"] == 0 and len(seen["healthy_runs"]) == orders and all(
                    status == "succeeded" for _, status in seen["healthy_runs"]):
                break
            assert time.monotonic() < deadline, f"never settled: {seen}"
            time.sleep(0.25)
        assert server.current.process.poll() is None, server.current.log_tail()
        server.stop()
    finally:
        db.dispose()

    assert seen["status"] == "paused", seen
    assert seen["strikes"] >= 3 and seen["disabled"] == 1, seen
    assert len(seen["alerts"]) == 1 and "poison" in seen["alerts"][0], seen
    assert seen["poison_runs"] == 0
    assert len({order_id for order_id, _ in seen["healthy_runs"]}) == orders
