"""kill -9 the hub inside an SMS call (and a helpdesk call), at chosen points, with the
simulators' de-duplication OFF: every request that reaches them is a real send, as with Aliyun
and Tencent, which document no idempotent sending. After the restart the SMS must have been
sent exactly once; where the outcome was unknown the provider must have been asked
(QuerySendDetails / PullSmsSendStatusByPhoneNumber / the helpdesk's GET by key); where a repeat
was needed it must carry the key of the first attempt.

The points:
* held: the simulator accepted and recorded the SMS and holds its answer; the test kills the
  hub while it waits (the outcome is unknown to the hub; the look-up finds the SMS);
* answered: the answer arrived, the process ends before committing it (the test-only
  ``ORDERPILOT_TEST_STOP_AT`` hook; the look-up finds the SMS);
* sending: the attempt is committed, the process ends before the request leaves (the look-up
  finds nothing; after the grace period the SMS is sent, with the same key).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from orderpilot.adapters import tables as t
from orderpilot.adapters.db import Database
from orderpilot.bootstrap import bootstrap
from orderpilot.config import Settings
from orderpilot.simulators.external.server import SimServer
from reliability.support.backends import Backend
from reliability.support.processes import Server, create_token, orderpilot_env, run_cli
from reliability.support.waiting import wait_for

pytestmark = pytest.mark.slow

PROVIDER_SIM = {"aliyun": "aliyun-sms", "tencent": "tencent-sms", "helpdesk": "helpdesk"}
KEY_FIELD = {"aliyun": "OutId", "tencent": "SessionContext"}
ORDER = {"channel": "youzan", "shop_id": "wx-mini", "external_id": "CRASH-SMS-1",
         "placed_at": "2026-11-26T10:00:00+08:00", "currency": "CNY",
         "customer": {"name": "王五", "phone": "13700001234"},
         "shipping_address": {"country": "CN", "province": "浙江省", "city": "宁波市",
                              "district": "北仑区", "line1": "保税区港城大道1号",
                              "postal_code": "315800"},
         "lines": [{"sku": "MILK-900", "quantity": 1, "unit_price": "800.00"}],
         "total": "800.00"}


def install_rule(backend: Backend, provider: str) -> None:
    """On order.placed: an SMS through PROVIDER, or a helpdesk ticket for "helpdesk"."""
    hub = bootstrap(Settings(data_dir=backend.data_dir, database_url=backend.database_url,
                             _env_file=None))  # type: ignore[call-arg]
    if provider == "helpdesk":
        step = {"id": "escalate", "type": "ticket.create",
                "params": {"title": "check {{ order.external_id }}", "webhook": True}}
    else:
        hub.rules.put_sms_template("SMS_CRASH_1", provider, "订单助手", "订单 ${no} 已收到")
        step = {"id": "notify", "type": "sms.send",
                "params": {"template": "SMS_CRASH_1",
                           "params": {"no": "{{ order.external_id }}"}}}
    try:
        rule_id = hub.rules.create(
            {"name": "on every order", "trigger": {"kind": "event", "event": "order.placed"},
             "conditions": {"all": []}, "actions": [step]}, "ops", key="on-every-order")
        hub.rules.publish(rule_id, "ops", "crash test")
    finally:
        hub.close()


def key_received(provider: str, record: dict[str, Any]) -> str:
    """The key as the provider got it: Aliyun OutId, Tencent SessionContext, or the header."""
    field = KEY_FIELD.get(provider)
    return str(record["body"][field] if field else record["idempotency_key"])


def run_status(db: Database) -> str | None:
    with db.read() as conn:
        return conn.execute(sa.select(t.rule_runs.c.status)).scalar()


@pytest.mark.parametrize(("provider", "point"), [
    ("aliyun", "held"), ("aliyun", "answered"), ("aliyun", "sending"),
    ("tencent", "held"), ("tencent", "sending"), ("helpdesk", "held")])
def test_an_outside_call_cut_off_by_kill_9_happens_exactly_once(
        backend: Backend, provider: str, point: str) -> None:
    name = PROVIDER_SIM[provider]
    marker = backend.data_dir / "stopped"
    stop = {} if point == "held" else {"test_stop_at": f"outside_call.{point}:{marker}"}
    with SimServer() as sim:
        env = orderpilot_env(backend.data_dir, backend.database_url, sim_url=sim.url,
                             rule_lease_seconds="2", rule_lookup_grace_seconds="2",
                             rule_lookup_backoff_seconds="0.5", **stop)
        run_cli(env, "db", "upgrade")
        install_rule(backend, provider)
        token = create_token(env, "ops", "crash")
        admin = sim.admin()
        admin.post(f"/_sim/{name}/dedupe", json={"enabled": False}).raise_for_status()
        if point == "held":
            admin.post(f"/_sim/{name}/faults", json={"hold_ms": 4000}).raise_for_status()
        server = Server(env, backend.data_dir)
        server.start()
        server.wait_ready()
        db = Database(backend.url)
        try:
            answer = httpx.post(f"{server.base_url}/api/v1/orders", json=ORDER, timeout=10,
                                headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 201, answer.text
            if point == "held":
                wait_for("the simulator to hold the SMS", lambda: sim.requests(name))
                server.kill()
            else:
                wait_for("the hub to stop itself", lambda: marker.exists()
                         and server.current.process.poll() is not None)
            with db.read() as conn:
                [first] = list(conn.execute(sa.select(t.outside_attempts)))
            assert first.status == "calling"
            assert len(sim.requests(name)) == (0 if point == "sending" else 1)

            server.start()
            server.wait_ready()
            wait_for("the run to finish", lambda: run_status(db) == "succeeded")
            time.sleep(1.0)  # a wrong resend would land now
            with db.read() as conn:
                attempts = list(conn.execute(sa.select(t.outside_attempts)))
        finally:
            db.dispose()
            server.stop()
        sent = sim.requests(name)
        look_ups = sim.state.recorders[name].look_ups

    assert len(sent) == 1, f"the call reached {name} {len(sent)} times"
    assert key_received(provider, sent[0]) == first.idempotency_key
    assert len(look_ups) >= 1, "the provider was never asked"
    [last] = attempts
    assert last.status == "sent" and last.look_ups >= 1
    assert last.calls == (2 if point == "sending" else 1)
