"""The look-ups by key, the no-dedupe mode and the hold fault, connector against simulator over
real HTTP: signatures are checked on the look-ups as on the sends, a send with de-duplication
off is counted every time, and a look-up sees exactly the sends made with its key."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from orderpilot.adapters.connectors import Connectors, TransientError
from orderpilot.adapters.connectors.base import ConnectorError
from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.config import Settings
from orderpilot.simulators.external.server import SimServer, free_port_pair


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def admin(sim: SimServer) -> Iterator[httpx.Client]:
    with sim.admin() as client:
        for name in sim.state.recorders:
            client.delete(f"/_sim/{name}").raise_for_status()
        yield client


def connectors(sim: SimServer, **overrides: object) -> Connectors:
    values = {"sim_url": sim.url, "outbound_timeout_seconds": 2, **overrides}
    settings = Settings(_env_file=None, **values)  # type: ignore[arg-type]
    return Connectors.from_settings(settings)


@pytest.mark.parametrize(("provider", "name"), [("aliyun", "aliyun-sms"),
                                                ("tencent", "tencent-sms")])
def test_an_sms_look_up_finds_the_send_by_its_key_and_only_that_one(
        sim: SimServer, admin: httpx.Client, provider: str, name: str) -> None:
    hub = connectors(sim)
    admin.post(f"/_sim/{name}/dedupe", json={"enabled": False}).raise_for_status()
    since = datetime.now(UTC) - timedelta(seconds=5)
    for _ in range(2):  # no de-duplication: both are real sends
        hub.send_sms(provider, "+86 137 0000 1234", "SMS_1", {"no": "1"}, "签名", "run1:sms")
    assert len(admin.get(f"/_sim/{name}/requests").json()["requests"]) == 2

    found = hub.sms_find_sent(provider, "13700001234", "run1:sms", since)
    other_key = hub.sms_find_sent(provider, "13700001234", "run2:sms", since)
    other_phone = hub.sms_find_sent(provider, "13700009999", "run1:sms", since)
    hub.close()
    assert found.found and not other_key.found and not other_phone.found
    assert len(admin.get(f"/_sim/{name}/look-ups").json()["look_ups"]) >= 3
    assert len(admin.get(f"/_sim/{name}/requests").json()["requests"]) == 2  # reads act not


@pytest.mark.parametrize(("provider", "setting"), [("aliyun", "aliyun_access_key_secret"),
                                                   ("tencent", "tencent_secret_key")])
def test_an_sms_look_up_with_a_wrong_secret_is_refused_and_never_reads_as_not_sent(
        sim: SimServer, admin: httpx.Client, provider: str, setting: str) -> None:
    hub = connectors(sim, **{setting: "not-the-secret"})
    with pytest.raises(ConnectorError) as refused:  # an error, never a "not found"
        hub.sms_find_sent(provider, "13700001234", "run1:sms", datetime.now(UTC))
    hub.close()
    assert "Signature" in str(refused.value) or "signature" in str(refused.value)


def test_a_held_send_is_recorded_before_the_caller_gets_an_answer(
        sim: SimServer, admin: httpx.Client) -> None:
    hub = connectors(sim, outbound_timeout_seconds=0.3)
    admin.post("/_sim/aliyun-sms/faults", json={"hold_ms": 1000}).raise_for_status()
    with pytest.raises(TransientError, match="timed out"):
        hub.send_sms("aliyun", "13700001234", "SMS_1", {}, "签名", "run3:sms")
    [sent] = admin.get("/_sim/aliyun-sms/requests").json()["requests"]
    assert sent["body"]["OutId"] == "run3:sms"
    assert hub.sms_find_sent("aliyun", "13700001234", "run3:sms",
                             datetime.now(UTC) - timedelta(seconds=5)).found
    hub.close()


def test_helpdesk_and_crm_look_ups_find_calls_by_key(sim: SimServer,
                                                     admin: httpx.Client) -> None:
    hub = connectors(sim)
    ticket = hub.helpdesk_create_ticket({"subject": "x", "order_id": "O-1"}, "run4:ticket")
    hub.crm_push_tags("13700001234", ["vip"], "run4:crm")
    assert hub.helpdesk_find_ticket("run4:ticket").output == {
        "external_id": ticket.output["external_id"]}
    assert not hub.helpdesk_find_ticket("run5:ticket").found
    assert hub.crm_find_tag_push("run4:crm").output == {"ok": True, "tags": ["vip"]}
    assert not hub.crm_find_tag_push("run5:crm").found
    hub.close()
    unauthorised = httpx.get(f"{sim.url}/helpdesk/api/tickets",
                             params={"external_key": "run4:ticket"})
    assert unauthorised.status_code == 401
    missing = httpx.get(f"{sim.url}/crm/api/customers/tags",
                        headers={"Authorization": f"Bearer {SIM.crm_token}"})
    assert missing.status_code == 422 and missing.json()["field"] == "request_key"


def test_the_dedupe_switch_refuses_bad_input(admin: httpx.Client) -> None:
    assert admin.post("/_sim/aliyun-sms/dedupe", json={"enabled": "maybe"}).status_code == 422
    assert admin.post("/_sim/nope/dedupe", json={"enabled": False}).status_code == 404


def test_the_cli_serves_the_simulators_without_dedupe_when_asked() -> None:
    port = free_port_pair()
    process = subprocess.Popen(
        [sys.executable, "-m", "orderpilot", "sim", "serve", "--port", str(port),
         "--no-dedupe"], env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                overview = httpx.get(f"http://127.0.0.1:{port}/_sim").json()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        assert {s["name"]: s["dedupe"] for s in overview["simulators"]}["aliyun-sms"] is False
        assert all(s["dedupe"] is False for s in overview["simulators"])
    finally:
        process.terminate()
        process.wait(timeout=10)
