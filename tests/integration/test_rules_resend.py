"""Check before resend, in process: a step stopped inside its outside call (before the request
left, or after the answer came back but before the commit) or timed out is looked up at the
provider by its key when its run resumes, and resent, with the same key, only when the
provider has no record of it. The simulators run with de-duplication off, so every request
that reaches them counts as a real send. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import FakeClock
from integration.rules_support import place, publish, settle
from orderpilot.adapters import tables as t
from orderpilot.bootstrap import Hub
from orderpilot.simulators.external.server import SimServer

PROVIDER_SIM = {"aliyun": "aliyun-sms", "tencent": "tencent-sms"}


class Killed(BaseException):
    """Stands in for kill -9 at a point of the call: nothing after it runs."""


@pytest.fixture
def clock() -> FakeClock:
    # The providers' look-ups take real dates (Aliyun's SendDate, Tencent's BeginTime).
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


def sms_rule(hub: Hub, provider: str) -> None:
    hub.rules.put_sms_template("SMS_RESEND_1", provider, "订单助手", "订单 ${no} 已收到")
    publish(hub, {"name": "notify buyer", "trigger": {"kind": "event", "event": "order.placed"},
                  "conditions": {"all": []},
                  "actions": [{"id": "notify", "type": "sms.send",
                               "params": {"template": "SMS_RESEND_1",
                                          "params": {"no": "{{ order.external_id }}"}}}]},
            "notify-buyer")


def stop_inside_the_call(hub: Hub, point: str) -> None:
    hub.dispatcher("t").run_once()
    doomed = hub.runner("doomed")

    def stop(at: str) -> None:
        if at == point:
            raise Killed(at)

    doomed.settings.stop_at = stop
    with pytest.raises(Killed):
        doomed.run_once()


def outside_attempts(hub: Hub) -> list[Any]:
    with hub.db.read() as conn:
        return list(conn.execute(sa.select(t.outside_attempts)))


def run_statuses(hub: Hub) -> list[str]:
    with hub.db.read() as conn:
        return [r.status for r in conn.execute(sa.select(t.rule_runs.c.status))]


def dedupe_off(sim: SimServer, *names: str) -> None:
    for name in names:
        sim.admin().post(f"/_sim/{name}/dedupe", json={"enabled": False}).raise_for_status()


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_an_sms_whose_answer_was_lost_is_found_by_its_key_and_not_sent_again(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock,
        provider: str) -> None:
    name = PROVIDER_SIM[provider]
    dedupe_off(sim, name)
    sms_rule(rules_hub, provider)
    place(client, "RS-1")
    stop_inside_the_call(rules_hub, "outside_call.answered")
    [calling] = outside_attempts(rules_hub)
    assert calling.status == "calling" and len(sim.requests(name)) == 1

    clock.advance(seconds=61)  # the lease of the stopped runner runs out
    settle(rules_hub)

    assert run_statuses(rules_hub) == ["succeeded"]
    [sent] = sim.requests(name)
    key = sent["body"]["OutId" if provider == "aliyun" else "SessionContext"]
    assert key == calling.idempotency_key
    assert len(sim.state.recorders[name].look_ups) >= 1
    [done] = outside_attempts(rules_hub)
    assert (done.status, done.calls, done.look_ups) == ("sent", 1, 1)


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_an_sms_that_never_left_is_resent_once_with_the_same_key_after_the_grace(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock,
        provider: str) -> None:
    name = PROVIDER_SIM[provider]
    dedupe_off(sim, name)
    sms_rule(rules_hub, provider)
    place(client, "RS-2")
    stop_inside_the_call(rules_hub, "outside_call.sending")
    [calling] = outside_attempts(rules_hub)
    assert sim.requests(name) == []

    clock.advance(seconds=61)
    settle(rules_hub)  # not found yet, but the provider's records may lag: wait, do not send
    assert sim.requests(name) == [] and run_statuses(rules_hub) == ["pending"]
    clock.advance(seconds=120)
    settle(rules_hub)

    assert run_statuses(rules_hub) == ["succeeded"]
    [sent] = sim.requests(name)
    assert sent["body"]["OutId" if provider == "aliyun" else "SessionContext"] \
        == calling.idempotency_key
    assert len(sim.state.recorders[name].look_ups) == 2
    [done] = outside_attempts(rules_hub)
    assert (done.status, done.calls) == ("sent", 2)


def test_a_failing_look_up_is_asked_again_later_and_nothing_is_resent_blindly(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock) -> None:
    dedupe_off(sim, "aliyun-sms")
    sms_rule(rules_hub, "aliyun")
    place(client, "RS-3")
    stop_inside_the_call(rules_hub, "outside_call.answered")
    sim.admin().post("/_sim/aliyun-sms/faults", json={"status": 503, "times": 2})
    clock.advance(seconds=61)
    settle(rules_hub)
    assert run_statuses(rules_hub) == ["pending"] and len(sim.requests("aliyun-sms")) == 1
    for wait in (5, 10):  # the look-up's backoff doubles
        clock.advance(seconds=wait)
        settle(rules_hub)
    assert run_statuses(rules_hub) == ["succeeded"]
    assert len(sim.requests("aliyun-sms")) == 1
    with rules_hub.db.read() as conn:
        statuses = [r.status for r in conn.execute(
            sa.select(t.rule_attempts.c.status).order_by(t.rule_attempts.c.seq))]
    assert statuses == ["lookup_failed", "lookup_failed", "found", "ok"]


def test_a_timed_out_sms_is_looked_up_before_the_retry(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock) -> None:
    dedupe_off(sim, "aliyun-sms")
    sms_rule(rules_hub, "aliyun")
    rules_hub.connectors.sms["aliyun"].timeout_s = 0.3
    # The simulator sends, then keeps the hub waiting past its time-out.
    sim.admin().post("/_sim/aliyun-sms/faults", json={"hold_ms": 1200, "times": 1})
    place(client, "RS-4")
    settle(rules_hub)
    [unknown] = outside_attempts(rules_hub)
    assert unknown.status == "unknown" and run_statuses(rules_hub) == ["pending"]
    clock.advance(seconds=6)
    settle(rules_hub)
    assert run_statuses(rules_hub) == ["succeeded"]
    assert len(sim.requests("aliyun-sms")) == 1


def test_helpdesk_and_crm_calls_with_a_lost_answer_are_found_by_key(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock) -> None:
    dedupe_off(sim, "helpdesk", "crm")
    publish(rules_hub, {"name": "escalate", "trigger": {"kind": "event", "event": "order.placed"},
                        "conditions": {"all": []},
                        "actions": [{"id": "vip", "type": "crm.tag",
                                     "params": {"tags": ["vip"], "push": True}},
                                    {"id": "ticket", "type": "ticket.create",
                                     "params": {"title": "check {{ order.external_id }}",
                                                "webhook": True}}]}, "escalate")
    place(client, "RS-5")
    stop_inside_the_call(rules_hub, "outside_call.answered")  # the CRM push
    clock.advance(seconds=61)
    rules_hub.dispatcher("t").run_once()
    again = rules_hub.runner("again")
    again.settings.stop_at = lambda at: (_ for _ in ()).throw(Killed(at)) \
        if at == "outside_call.answered" else None
    with pytest.raises(Killed):  # the CRM push is found; the helpdesk call is cut short
        again.run_once()
    clock.advance(seconds=61)
    settle(rules_hub)

    assert run_statuses(rules_hub) == ["succeeded"]
    assert len(sim.requests("crm")) == 1 and len(sim.requests("helpdesk")) == 1
    assert len(sim.state.recorders["crm"].look_ups) == 1
    assert len(sim.state.recorders["helpdesk"].look_ups) == 1
    with rules_hub.db.read() as conn:
        external = conn.execute(sa.select(t.tickets.c.external_id)).scalar_one()
    assert external == "HD-000001"  # the look-up's answer fills the step's output


def test_an_http_call_has_no_look_up_and_is_repeated_with_the_same_key(
        rules_hub: Hub, client: TestClient, sim: SimServer, clock: FakeClock) -> None:
    """The documented limit: only the receiver's handling of Idempotency-Key protects it."""
    dedupe_off(sim, "customs")
    publish(rules_hub, {"name": "check", "trigger": {"kind": "event", "event": "order.placed"},
                        "conditions": {"all": []},
                        "actions": [{"id": "check", "type": "http.call", "params": {
                            "connector": "customs", "path": "/api/qualification/check",
                            "body": {"phone": "{{ order.customer.phone }}"}}}]}, "check")
    place(client, "RS-6")
    stop_inside_the_call(rules_hub, "outside_call.answered")
    clock.advance(seconds=61)
    settle(rules_hub)
    assert run_statuses(rules_hub) == ["succeeded"]
    first, repeat = sim.requests("customs")
    assert first["idempotency_key"] == repeat["idempotency_key"] \
        == outside_attempts(rules_hub)[0].idempotency_key
    assert sim.state.recorders["customs"].look_ups == []
