"""A slow outside provider does not stall the other rule runs: one runner carries out several
runs at once (RunnerSettings.concurrency), so while the customs check hangs for seconds the
orders' other runs finish. With ``concurrency=1`` (one run after the other) this test fails."""

from __future__ import annotations

import threading
import time
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from integration.rules_support import place, publish
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.simulators.external.server import SimServer

SLOW_MS = 2500
ORDERS = 3


def rule(name: str, action: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "trigger": {"kind": "event", "event": "order.placed"},
            "conditions": {"all": []}, "actions": [action]}


def statuses(hub: Hub, rule_id: str) -> list[str]:
    with hub.db.read() as conn:
        return list(conn.scalars(sa.select(t.rule_runs.c.status)
                                 .where(t.rule_runs.c.rule_id == rule_id)))


def test_a_slow_provider_holds_only_its_own_calls(rules_hub: Hub, client: TestClient,
                                                   sim: SimServer) -> None:
    slow = publish(rules_hub, rule("customs check", {
        "id": "check", "type": "http.call",
        "params": {"connector": "customs", "path": "/api/qualification/check",
                   "body": {"phone": "{{ order.customer.phone }}"}}}), "slow-customs")
    fast = publish(rules_hub, rule("tag", {"id": "tag", "type": "order.tag",
                                           "params": {"tags": ["seen"]}}), "fast-tag")
    sim.admin().post("/_sim/customs/faults", json={"delay_ms": SLOW_MS, "times": ORDERS})
    for i in range(ORDERS):
        place(client, f"SLOW{i}")
    rules_hub.dispatcher("test").run_once()  # the runs are recorded, none carried out yet
    assert len(statuses(rules_hub, slow)) == ORDERS == len(statuses(rules_hub, fast))

    runner = rules_hub.runner("pooled")
    runner.settings.batch_size = 2 * ORDERS
    runner.settings.concurrency = 4
    stop = threading.Event()
    thread = threading.Thread(target=runner.run_forever, args=(stop,))
    started = time.monotonic()
    thread.start()
    try:
        while statuses(rules_hub, fast) != ["succeeded"] * ORDERS:
            assert time.monotonic() - started < SLOW_MS / 1000, \
                f"the fast runs waited behind the slow provider: {statuses(rules_hub, fast)}"
            time.sleep(0.05)
        while statuses(rules_hub, slow) != ["succeeded"] * ORDERS:
            assert time.monotonic() - started < 30, statuses(rules_hub, slow)
            time.sleep(0.1)
    finally:
        stop.set()
        runner.wake()
        thread.join(timeout=30)
    # the slow calls overlapped too: far less than one after the other
    assert time.monotonic() - started < ORDERS * SLOW_MS / 1000
