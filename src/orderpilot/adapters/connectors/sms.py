"""SMS through Aliyun (dysmsapi SendSms, RPC signature) and Tencent Cloud (SendSms, TC3)."""

from __future__ import annotations

import json
import re
import time
import uuid
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import Any

import httpx

from orderpilot.adapters.connectors.base import (
    CallResult,
    ConnectorError,
    PermanentError,
    TransientError,
    mask,
    send,
)
from orderpilot.adapters.connectors.http import json_bytes
from orderpilot.adapters.connectors.ratelimit import RateLimited, TokenBucket
from orderpilot.adapters.connectors.signing import (
    aliyun_signature,
    percent_encode,
    tc3_authorization,
)

ALIYUN_RETRY_CODES = ("isv.BUSINESS_LIMIT_CONTROL", "Throttling", "ServiceUnavailable",
                      "InternalError", "isp.SYSTEM_ERROR", "isv.DAY_LIMIT_CONTROL_TEMPORARY")
TENCENT_RETRY_CODES = ("RequestLimitExceeded", "InternalError", "LimitExceeded.AppCountryOrRegion",
                       "FailedOperation.FailResolvePacket", "ResourceUnavailable")
TENCENT_VERSION = "2021-01-11"


def national_number(phone: str) -> str:
    """138 1234 5678, +86 13812345678, 0086-138... all become 13812345678."""
    digits = re.sub(r"[\s\-()]", "", phone)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            return digits[len(prefix):]
    return digits


def e164(phone: str) -> str:
    stripped = re.sub(r"[\s\-()]", "", phone)
    return stripped if stripped.startswith("+") and not stripped.startswith("+86") \
        else "+86" + national_number(phone)


def _fail(error: type[ConnectorError], message: str, record: dict[str, Any], body: Any,
          status: int, latency: float) -> ConnectorError:
    return error(message, request=record, response=mask(body), status_code=status,
                 latency_ms=latency)


class SmsProvider(ABC):
    """Shared by both providers: the rate limit and the bounded wait for a send slot."""

    name = "sms"

    def __init__(self, client: httpx.Client, base_url: str, rate_per_second: float,
                 timeout_s: float) -> None:
        self.client, self.base_url, self.timeout_s = client, base_url, timeout_s
        self.bucket = TokenBucket(rate_per_second)

    def wait_for_slot(self, record: dict[str, Any]) -> None:
        try:
            self.bucket.acquire(max_wait_s=self.timeout_s)
        except RateLimited as error:
            raise TransientError(f"{self.name}: {error}", request=record) from error

    @abstractmethod
    def send(self, phone: str, template_code: str, params: dict[str, str], sign_name: str,
             idempotency_key: str) -> CallResult:
        """Send one templated SMS; the key makes a repeat a no-op at the provider."""


class AliyunSms(SmsProvider):
    name = "aliyun SMS"

    def __init__(self, client: httpx.Client, base_url: str, access_key_id: str,
                 access_key_secret: str, region: str, rate_per_second: float,
                 timeout_s: float) -> None:
        super().__init__(client, base_url, rate_per_second, timeout_s)
        self.access_key_id, self.secret, self.region = access_key_id, access_key_secret, region

    def signed_params(self, phone: str, template_code: str, params: dict[str, str],
                      sign_name: str, out_id: str) -> dict[str, str]:
        fields = {
            "AccessKeyId": self.access_key_id, "Action": "SendSms", "Format": "JSON",
            "RegionId": self.region, "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25", "PhoneNumbers": national_number(phone),
            "SignName": sign_name, "TemplateCode": template_code,
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            "OutId": out_id,
        }
        fields["Signature"] = aliyun_signature("POST", fields, self.secret)
        return fields

    def send(self, phone: str, template_code: str, params: dict[str, str], sign_name: str,
             idempotency_key: str) -> CallResult:
        fields = self.signed_params(phone, template_code, params, sign_name, idempotency_key)
        record = {"method": "POST", "url": self.base_url + "/", "body": mask(fields)}
        self.wait_for_slot(record)
        form = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in fields.items())
        request = self.client.build_request(
            "POST", self.base_url + "/", content=form.encode(), timeout=self.timeout_s,
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        what = f"aliyun SMS {template_code}"
        try:
            response, body, latency = send(self.client, request, record, what)
        except PermanentError as error:  # 4xx: still say which Aliyun code came back
            code = error.response.get("Code") if isinstance(error.response, dict) else None
            if code and code.startswith(ALIYUN_RETRY_CODES):
                raise TransientError(error.message, request=record, response=error.response,
                                     status_code=error.status_code,
                                     latency_ms=error.latency_ms) from error
            raise
        code = body.get("Code") if isinstance(body, dict) else None
        if code != "OK":
            kind = TransientError if str(code).startswith(ALIYUN_RETRY_CODES) else PermanentError
            message = body.get("Message") if isinstance(body, dict) else body
            raise _fail(kind, f"{what}: Aliyun answered {code}: {message}", record, body,
                        response.status_code, latency)
        return CallResult(record, body, response.status_code, latency,
                          {"biz_id": body.get("BizId"), "request_id": body.get("RequestId")})


class TencentSms(SmsProvider):
    name = "tencent SMS"

    def __init__(self, client: httpx.Client, base_url: str, secret_id: str, secret_key: str,
                 sdk_app_id: str, region: str, rate_per_second: float,
                 timeout_s: float) -> None:
        super().__init__(client, base_url, rate_per_second, timeout_s)
        self.secret_id, self.secret_key = secret_id, secret_key
        self.sdk_app_id, self.region = sdk_app_id, region

    def send(self, phone: str, template_code: str, params: dict[str, str], sign_name: str,
             idempotency_key: str) -> CallResult:
        # Tencent templates take positional parameters: {1}, {2}... in the dict's order.
        payload = {"PhoneNumberSet": [e164(phone)], "SmsSdkAppId": self.sdk_app_id,
                   "SignName": sign_name, "TemplateId": template_code,
                   "TemplateParamSet": list(params.values()), "SessionContext": idempotency_key}
        content = json_bytes(payload)
        url = httpx.URL(self.base_url + "/")
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Host": url.netloc.decode(), "X-TC-Action": "SendSms",
                   "X-TC-Timestamp": str(timestamp), "X-TC-Version": TENCENT_VERSION,
                   "X-TC-Region": self.region}
        headers["Authorization"] = tc3_authorization(
            self.secret_id, self.secret_key, "sms", timestamp, headers,
            ("content-type", "host"), content)
        record = {"method": "POST", "url": str(url), "headers": mask(headers),
                  "body": mask(payload)}
        self.wait_for_slot(record)
        request = self.client.build_request("POST", url, content=content, headers=headers,
                                            timeout=self.timeout_s)
        what = f"tencent SMS {template_code}"
        response, body, latency = send(self.client, request, record, what)
        answer = body.get("Response", {}) if isinstance(body, dict) else {}
        failure = answer.get("Error") or next(
            (s for s in answer.get("SendStatusSet", []) if s.get("Code") != "Ok"), None)
        if failure is None and not answer.get("SendStatusSet"):
            failure = {"Code": "NoSendStatus", "Message": "no SendStatusSet in the answer"}
        if failure:
            code = str(failure.get("Code"))
            kind = TransientError if code.startswith(TENCENT_RETRY_CODES) else PermanentError
            raise _fail(kind, f"{what}: Tencent answered {code}: {failure.get('Message')}",
                        record, body, response.status_code, latency)
        status = answer["SendStatusSet"][0]
        return CallResult(record, mask(body), response.status_code, latency,
                          {"biz_id": status.get("SerialNo"),
                           "request_id": answer.get("RequestId")})
