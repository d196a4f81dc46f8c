"""Every connector end to end against the loopback simulators, over real HTTP and SMTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from orderpilot.adapters.connectors import (
    Connectors,
    HostNotAllowed,
    PermanentError,
    TransientError,
)
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


def connectors_for(sim: SimServer, **overrides: Any) -> Connectors:
    values: dict[str, Any] = {"sim_url": sim.url, "outbound_timeout_seconds": 2, **overrides}
    return Connectors.from_settings(Settings(_env_file=None, **values))


@pytest.fixture
def hub_side(sim: SimServer, admin: httpx.Client) -> Iterator[Connectors]:
    connectors = connectors_for(sim)
    yield connectors
    connectors.close()


def recorded(admin: httpx.Client, name: str) -> list[dict[str, Any]]:
    response = admin.get(f"/_sim/{name}/requests")
    response.raise_for_status()
    body = response.json()
    assert body["name"] == name
    return list(body["requests"])


def test_customs_qualifies_only_registered_buyers(hub_side: Connectors,
                                                  admin: httpx.Client) -> None:
    admin.post("/_sim/customs/qualified", json={"phone": "+86 138 0000 1111"}).raise_for_status()
    yes = hub_side.http_call("POST", connector="customs", path="/api/qualification/check",
                             json_body={"phone": "13800001111", "order_id": "O-1"},
                             idempotency_key="run1:check")
    no = hub_side.http_call("POST", connector="customs", path="/api/qualification/check",
                            json_body={"phone": "13900002222"}, idempotency_key="run2:check")
    assert yes.output["qualified"] is True and no.output["qualified"] is False
    assert yes.request["body"]["phone"] == "138****1111"
    first = recorded(admin, "customs")[0]
    assert first["headers"]["x-orderpilot-signature"] == "***"  # signed, verified, masked


def test_a_repeated_idempotency_key_has_one_effect_and_the_same_answer(
        hub_side: Connectors, admin: httpx.Client) -> None:
    ticket = {"subject": "Parcel damaged", "order_id": "O-7"}
    first = hub_side.helpdesk_create_ticket(ticket, "run9:ticket")
    again = hub_side.helpdesk_create_ticket(ticket, "run9:ticket")
    other = hub_side.helpdesk_create_ticket(ticket, "run10:ticket")
    assert first.output == again.output == {"external_id": "HD-000001"}
    assert other.output == {"external_id": "HD-000002"}
    records = recorded(admin, "helpdesk")
    assert [r["deliveries"] for r in records] == [2, 1]
    assert records[0]["idempotency_key"] == "run9:ticket"
    assert records[0]["headers"]["authorization"] == "***"


def test_concurrent_retries_of_one_key_still_make_one_record(
        hub_side: Connectors, admin: httpx.Client) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: hub_side.crm_push_tags(
            "13800001111", ["vip"], "run3:tags"), range(8)))
    assert all(r.output["ok"] for r in results)
    assert [r["deliveries"] for r in recorded(admin, "crm")] == [8]


def test_aliyun_sms_is_signed_for_real(hub_side: Connectors, admin: httpx.Client) -> None:
    result = hub_side.send_sms("aliyun", "+86 138 1234 5678", "SMS_2001", {"order": "O-1"},
                               "海豚跨境", "run4:sms")
    repeat = hub_side.send_sms("aliyun", "13812345678", "SMS_2001", {"order": "O-1"},
                               "海豚跨境", "run4:sms")
    assert result.output["biz_id"] and result.output["biz_id"] == repeat.output["biz_id"]
    assert result.request["body"]["PhoneNumbers"] == "138****5678"
    assert result.request["body"]["Signature"] == "***"
    (record,) = recorded(admin, "aliyun-sms")
    assert record["body"]["PhoneNumbers"] == "13812345678"
    assert record["body"]["SignName"] == "海豚跨境"
    assert record["idempotency_key"] == "run4:sms" and record["deliveries"] == 2


def test_aliyun_refusals_are_permanent_and_throttling_transient(
        sim: SimServer, hub_side: Connectors, admin: httpx.Client) -> None:
    wrong = connectors_for(sim, aliyun_access_key_secret="not-the-secret")
    try:
        with pytest.raises(PermanentError, match="SignatureDoesNotMatch") as refused:
            wrong.send_sms("aliyun", "13812345678", "SMS_2001", {}, "海豚", "run5:sms")
        assert refused.value.status_code == 403
    finally:
        wrong.close()
    with pytest.raises(PermanentError, match=r"SMS_2001.*MOBILE_NUMBER_ILLEGAL"):
        hub_side.send_sms("aliyun", "12345", "SMS_2001", {}, "海豚", "run6:sms")
    admin.post("/_sim/aliyun-sms/faults", json={
        "status": 200, "body": {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "too fast"}})
    with pytest.raises(TransientError, match="BUSINESS_LIMIT_CONTROL"):
        hub_side.send_sms("aliyun", "13812345678", "SMS_2001", {}, "海豚", "run7:sms")
    assert recorded(admin, "aliyun-sms") == []


def test_tencent_sms_is_signed_for_real(sim: SimServer, hub_side: Connectors,
                                        admin: httpx.Client) -> None:
    result = hub_side.send_sms("tencent", "13812345678", "1100001", {"1": "O-1", "2": "3"},
                               "海豚跨境", "run8:sms")
    assert result.output["biz_id"].startswith("2640:")
    assert "13812345678" not in str(result.request) + str(result.response)
    (record,) = recorded(admin, "tencent-sms")
    assert record["body"]["PhoneNumberSet"] == ["+8613812345678"]
    assert record["body"]["TemplateParamSet"] == ["O-1", "3"]
    assert record["idempotency_key"] == "run8:sms"
    wrong = connectors_for(sim, tencent_secret_key="not-the-key")
    try:
        with pytest.raises(PermanentError, match="AuthFailure.SignatureFailure"):
            wrong.send_sms("tencent", "13812345678", "1100001", {}, "海豚", "run8b:sms")
    finally:
        wrong.close()


def test_robots_check_their_signature_and_key(sim: SimServer, hub_side: Connectors,
                                              admin: httpx.Client) -> None:
    assert hub_side.notify_dingtalk("订单 O-1 清关失败", "run11:ding").output == {"errcode": 0}
    assert hub_side.notify_wecom("订单 O-1 清关失败", "run11:wecom").output == {"errcode": 0}
    ding = recorded(admin, "dingtalk")[0]
    assert ding["body"]["text"]["content"] == "订单 O-1 清关失败"
    assert ding["query"]["sign"] == "***" and ding["query"]["access_token"] == "***"
    wrong = connectors_for(sim, dingtalk_secret="SECwrong", wecom_key="wrong-key")
    try:
        with pytest.raises(PermanentError, match="310000"):
            wrong.notify_dingtalk("x", "run12:ding")
        with pytest.raises(PermanentError, match="93000"):
            wrong.notify_wecom("x", "run12:wecom")
    finally:
        wrong.close()


def test_email_goes_through_smtp_once_per_key(hub_side: Connectors,
                                              admin: httpx.Client) -> None:
    first = hub_side.send_email("buyer@example.com", "您的订单已发货", "O-1 已发货。", "run13:mail")
    hub_side.send_email("buyer@example.com", "您的订单已发货", "O-1 已发货。", "run13:mail")
    (record,) = recorded(admin, "smtp")
    assert record["body"]["subject"] == "您的订单已发货"
    assert record["body"]["text"].strip() == "O-1 已发货。"
    assert record["body"]["to"] == ["buyer@example.com"]
    assert record["idempotency_key"] == first.output["message_id"]
    assert record["deliveries"] == 2
    admin.post("/_sim/smtp/faults", json={"status": 503})
    with pytest.raises(TransientError, match="451"):
        hub_side.send_email("buyer@example.com", "s", "b", "run14:mail")


def test_injected_outages_are_transient_until_they_pass(hub_side: Connectors,
                                                        admin: httpx.Client) -> None:
    admin.post("/_sim/helpdesk/faults", json={"status": 503, "times": 2}).raise_for_status()
    for _ in range(2):
        with pytest.raises(TransientError, match="503") as failed:
            hub_side.helpdesk_create_ticket({"subject": "x"}, "run15:ticket")
        assert failed.value.request["headers"]["Idempotency-Key"] == "run15:ticket"
    assert hub_side.helpdesk_create_ticket({"subject": "x"}, "run15:ticket").output[
        "external_id"] == "HD-000001"
    assert [r["deliveries"] for r in recorded(admin, "helpdesk")] == [1]


def test_a_slow_system_times_out_as_transient(sim: SimServer, admin: httpx.Client) -> None:
    admin.post("/_sim/crm/faults", json={"delay_ms": 800}).raise_for_status()
    slow = connectors_for(sim, outbound_timeout_seconds=0.2)
    try:
        with pytest.raises(TransientError, match="timed out"):
            slow.crm_push_tags("13800001111", ["vip"], "run16:tags")
    finally:
        slow.close()


def test_bad_input_is_a_permanent_error_naming_the_field(hub_side: Connectors) -> None:
    with pytest.raises(PermanentError, match="subject") as refused:
        hub_side.helpdesk_create_ticket({"order_id": "O-1"}, "run17:ticket")
    assert refused.value.status_code == 422


def test_hosts_off_the_allow_list_are_refused_before_any_request(
        hub_side: Connectors) -> None:
    with pytest.raises(HostNotAllowed, match="example.com"):
        hub_side.http_call("POST", "https://example.com/hook", json_body={},
                           idempotency_key="run18:hook")


def test_overview_counts_and_resets(hub_side: Connectors, admin: httpx.Client) -> None:
    hub_side.notify_wecom("hello", "run19:wecom")
    counts = {s["name"]: s["requests"] for s in admin.get("/_sim").json()["simulators"]}
    assert counts["wecom"] == 1 and counts["helpdesk"] == 0
    assert set(counts) >= {"customs", "aliyun-sms", "tencent-sms", "helpdesk", "crm",
                           "dingtalk", "wecom", "smtp"}
    admin.delete("/_sim/wecom/requests").raise_for_status()
    assert recorded(admin, "wecom") == []
    assert admin.get("/_sim/nope/requests").status_code == 404
    assert admin.get("/healthz").json() == {"status": "ok"}


def _serve_simulators() -> tuple[subprocess.Popen[bytes], int]:
    """`orderpilot sim serve` on a free port pair. The pair is free when picked but another
    process (a parallel test's outgoing connection takes an ephemeral port from the same range)
    can take it before the child binds: then the child exits saying so, and a new pair is
    tried. A loaded CI machine can take many seconds to import the CLI, hence the deadline."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for _ in range(5):
        port = free_port_pair()
        process = subprocess.Popen(
            [sys.executable, "-m", "orderpilot", "sim", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok":
                    return process, port
            except httpx.TransportError:
                time.sleep(0.1)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
            raise AssertionError("`orderpilot sim serve` did not answer /healthz in 60 s")
        error = process.stderr.read().decode() if process.stderr else ""
        if "cannot start the simulators" not in error:
            raise AssertionError(f"`orderpilot sim serve` exited: {error}")
    raise AssertionError("`orderpilot sim serve` found its port taken five times")


def test_the_cli_serves_the_simulators() -> None:
    process, port = _serve_simulators()
    try:
        import smtplib

        with smtplib.SMTP("127.0.0.1", port + 1, timeout=5) as smtp:
            assert smtp.noop()[0] == 250
    finally:
        process.terminate()
        process.wait(timeout=10)
