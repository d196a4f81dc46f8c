"""Signing pinned to the providers' published worked examples, plus what run history keeps."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from orderpilot.adapters.connectors import Connectors, HostNotAllowed, PermanentError
from orderpilot.adapters.connectors.base import mask
from orderpilot.adapters.connectors.ratelimit import RateLimited, TokenBucket
from orderpilot.adapters.connectors.signing import (
    aliyun_signature,
    aliyun_string_to_sign,
    dingtalk_sign,
    hub_signature,
    percent_encode,
    tc3_authorization,
    tc3_canonical_request,
    verify_hub_signature,
)
from orderpilot.config import Settings

# Aliyun's RPC signature documentation (ECS DescribeRegions, AccessKeySecret "testsecret").
ALIYUN_DOC_PARAMS = {
    "AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
    "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
    "SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
}
# Tencent Cloud API v3 documentation (CVM DescribeInstances at 1551113065).
TC3_DOC_PAYLOAD = (b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], '
                   b'"Name": "instance-name"}]}')
TC3_DOC_HEADERS = {"Content-Type": "application/json; charset=utf-8",
                   "Host": "cvm.tencentcloudapi.com"}


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_aliyun_signature_matches_the_published_example() -> None:
    assert aliyun_string_to_sign("GET", ALIYUN_DOC_PARAMS).startswith(
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions")
    assert "Timestamp%3D2016-02-23T12%253A46%253A24Z" in aliyun_string_to_sign(
        "GET", ALIYUN_DOC_PARAMS)
    assert aliyun_signature("GET", ALIYUN_DOC_PARAMS, "testsecret") == \
        "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_aliyun_percent_encoding_follows_pop_rules() -> None:
    assert percent_encode("a b*c~d+e/f") == "a%20b%2Ac~d%2Be%2Ff"
    assert percent_encode("海豚") == "%E6%B5%B7%E8%B1%9A"


def test_aliyun_signature_covers_chinese_sign_name_and_ignores_signature_field() -> None:
    params = {**ALIYUN_DOC_PARAMS, "SignName": "海豚跨境", "TemplateParam": '{"code":"1234"}'}
    signed = aliyun_signature("POST", params, "s")
    assert aliyun_signature("POST", {**params, "Signature": signed}, "s") == signed
    assert aliyun_signature("POST", {**params, "SignName": "海豚"}, "s") != signed
    # An independent computation straight from the documented recipe.
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params.items())
    canonical = "&".join(f"{k}={v}" for k, v in pairs)
    text = "POST&%2F&" + percent_encode(canonical)
    expected = base64.b64encode(hmac.new(b"s&", text.encode(), hashlib.sha1).digest()).decode()
    assert signed == expected


def test_tc3_signature_matches_the_published_example() -> None:
    canonical = tc3_canonical_request("POST", TC3_DOC_HEADERS, ["content-type", "host"],
                                      TC3_DOC_PAYLOAD)
    assert canonical.endswith(
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
    assert hashlib.sha256(canonical.encode()).hexdigest() == \
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    authorization = tc3_authorization("AKIDEXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "cvm",
                                      1551113065, TC3_DOC_HEADERS, ["content-type", "host"],
                                      TC3_DOC_PAYLOAD)
    assert authorization == (
        "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168")


def test_tc3_credential_date_is_the_utc_day() -> None:
    # 1551113065 is 2019-02-26 00:44 in Beijing but still the 25th in UTC.
    assert "/2019-02-25/" in tc3_authorization("id", "key", "sms", 1551113065,
                                               TC3_DOC_HEADERS, ["host"], b"{}")


def test_dingtalk_sign_is_base64_hmac_of_timestamp_newline_secret() -> None:
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc",
                                         hashlib.sha256).digest()).decode()
    assert dingtalk_sign("SECabc", 1700000000000) == expected


def test_hub_signature_verifies_and_rejects_tampering_and_old_timestamps() -> None:
    body = json.dumps({"phone": "13800000000"}).encode()
    header = hub_signature("k", 1_700_000_000, body)
    digest = hmac.new(b"k", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={digest}"
    assert verify_hub_signature("k", header, body, now=1_700_000_010)
    assert not verify_hub_signature("k", header, body + b" ", now=1_700_000_010)
    assert not verify_hub_signature("other", header, body, now=1_700_000_010)
    assert not verify_hub_signature("k", header, body, now=1_700_001_000)


def test_run_history_masks_secrets_and_phone_numbers() -> None:
    record = mask({"headers": {"Authorization": "Bearer abc", "Idempotency-Key": "r1:s1"},
                   "body": {"PhoneNumbers": "13812345678", "Signature": "xyz",
                            "SignName": "海豚", "phone": "+86 13812345678"}})
    assert record["headers"] == {"Authorization": "***", "Idempotency-Key": "r1:s1"}
    assert record["body"]["PhoneNumbers"] == "138****5678"
    assert record["body"]["Signature"] == "***"
    assert record["body"]["SignName"] == "海豚"
    assert "12345678" not in json.dumps(record, ensure_ascii=False)


def test_allow_list_names_the_host_and_the_list() -> None:
    connectors = Connectors.from_settings(settings(
        outbound_allowlist="erp.example.com, *.dolphin.cn", helpdesk_url="https://hd.example.org"))
    try:
        connectors.check_url("https://erp.example.com/api")
        connectors.check_url("https://wms.dolphin.cn/x")
        connectors.check_url("https://hd.example.org/api/tickets")
        with pytest.raises(HostNotAllowed) as refused:
            connectors.check_url("https://evil.example.net/steal")
        assert "evil.example.net" in str(refused.value)
        assert "erp.example.com" in str(refused.value)
        with pytest.raises(PermanentError):
            connectors.check_url("file:///etc/passwd")
    finally:
        connectors.close()


def test_sim_url_points_every_connector_at_the_simulator() -> None:
    connectors = Connectors.from_settings(settings(sim_url="http://127.0.0.1:9100"))
    try:
        urls = connectors.endpoints.urls
        bases = connectors.endpoints.bases
        assert urls["customs"] == "http://127.0.0.1:9100/customs"
        assert bases["aliyun-sms"] == ("http://127.0.0.1:9100/aliyun-sms",)
        assert bases["tencent-sms"] == ("http://127.0.0.1:9100/tencent-sms",)
        assert connectors.configured["smtp"].port == 9101
        assert connectors.endpoints.url_for("wms") == "http://127.0.0.1:9100/wms"
        assert connectors.allowed_hosts() == {"127.0.0.1"}
    finally:
        connectors.close()


def test_unconfigured_connectors_fail_with_what_to_set() -> None:
    connectors = Connectors.from_settings(settings())
    try:
        with pytest.raises(PermanentError, match="aliyun"):
            connectors.send_sms("aliyun", "13800000000", "SMS_1", {}, "海豚", "k1")
        with pytest.raises(PermanentError, match="ORDERPILOT_SMTP_HOST"):
            connectors.send_email("a@b.cn", "s", "b", "k1")
        with pytest.raises(PermanentError, match="unknown connector 'erp'"):
            connectors.http_call("POST", connector="erp", idempotency_key="k1")
    finally:
        connectors.close()


def test_http_call_signs_the_exact_body_it_sends() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[1, 2])

    connectors = Connectors.from_settings(
        settings(outbound_allowlist="api.example.com", http_hmac_secret="shh"),
        transport=httpx.MockTransport(answer), resolver=lambda host, port: ["93.184.216.34"])
    try:
        result = connectors.http_call("POST", "https://api.example.com/hook",
                                      json_body={"order": "O-1"}, idempotency_key="r1:s2")
    finally:
        connectors.close()
    sent = seen[0]
    assert sent.headers["Idempotency-Key"] == "r1:s2"
    header = sent.headers["X-Orderpilot-Signature"]
    assert verify_hub_signature("shh", header, sent.content, now=int(header[2:12]))
    assert result.output == {"body": [1, 2]}
    assert result.request["headers"]["X-Orderpilot-Signature"] == "***"


def test_token_bucket_waits_briefly_then_gives_up() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(2, clock=lambda: now[0], sleep=sleep)
    assert bucket.acquire(1) == 0 and bucket.acquire(1) == 0  # the burst
    assert bucket.acquire(1) == pytest.approx(0.5)  # the third waits for a refill
    with pytest.raises(RateLimited):
        bucket.acquire(0.1)
