"""SMS through Aliyun (dysmsapi SendSms, RPC signature) and Tencent Cloud (SendSms, TC3), and the
look-ups that say whether a send with a given key happened (see ``lookups``).

Neither provider documents idempotent sending: a SendSms repeated with the same OutId /
SessionContext is a second message. Those fields are only echoed back in the providers' send
records, which is what the look-ups search.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta, timezone
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
from orderpilot.adapters.connectors.lookups import SentRecord
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
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # Aliyun's SendDate is a Beijing day
ALIYUN_PAGE_SIZE = 50  # QuerySendDetails: PageSize 1..50
ALIYUN_MAX_PAGES = 20
TENCENT_PULL_LIMIT = 100  # PullSmsSendStatusByPhoneNumber: Limit at most 100


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
        except RateLimited as error:  # refused here, before sending: a known outcome
            raise TransientError(f"{self.name}: {error}", request=record,
                                 status_code=429) from error

    @abstractmethod
    def send(self, phone: str, template_code: str, params: dict[str, str], sign_name: str,
             idempotency_key: str) -> CallResult:
        """Send one templated SMS, the key in the provider's own correlation field."""

    @abstractmethod
    def find_sent(self, phone: str, idempotency_key: str, since: datetime) -> SentRecord:
        """Whether an SMS to PHONE carrying the key was sent since SINCE (a look-up that
        fails raises TransientError: the caller asks again later, it never resends blindly)."""


class AliyunSms(SmsProvider):
    name = "aliyun SMS"

    def __init__(self, client: httpx.Client, base_url: str, access_key_id: str,
                 access_key_secret: str, region: str, rate_per_second: float,
                 timeout_s: float) -> None:
        super().__init__(client, base_url, rate_per_second, timeout_s)
        self.access_key_id, self.secret, self.region = access_key_id, access_key_secret, region

    def signed(self, action: str, own: dict[str, str]) -> dict[str, str]:
        fields = {
            "AccessKeyId": self.access_key_id, "Action": action, "Format": "JSON",
            "RegionId": self.region, "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex, "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25", **own,
        }
        fields["Signature"] = aliyun_signature("POST", fields, self.secret)
        return fields

    def signed_params(self, phone: str, template_code: str, params: dict[str, str],
                      sign_name: str, out_id: str) -> dict[str, str]:
        return self.signed("SendSms", {
            "PhoneNumbers": national_number(phone), "SignName": sign_name,
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            "OutId": out_id})

    def _form_request(self, fields: dict[str, str]) -> httpx.Request:
        form = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in fields.items())
        return self.client.build_request(
            "POST", self.base_url + "/", content=form.encode(), timeout=self.timeout_s,
            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def find_sent(self, phone: str, idempotency_key: str, since: datetime) -> SentRecord:
        """QuerySendDetails, page by page, for every Beijing day from SINCE to today.

        Source: Alibaba Cloud SMS API reference, "QuerySendDetails" (dysmsapi 2017-05-25),
        https://help.aliyun.com/document_detail/419277.html and
        https://help.aliyun.com/en/sms/developer-reference/api-dysmsapi-2017-05-25-querysenddetails
        : PhoneNumber (one number), BizId (optional), SendDate (yyyyMMdd, the last 30
        days), PageSize (1-50) and CurrentPage; the answer's
        SmsSendDetailDTOs.SmsSendDetailDTO[] records carry OutId,
        SendStatus (1 waiting for the receipt, 2 failed, 3 delivered), PhoneNum, SendDate.
        """
        number = national_number(phone)
        last = datetime.now(CHINA).date()  # SendDate reaches back 30 days, no further
        day = min(max(since.astimezone(CHINA).date(), last - timedelta(days=30)), last)
        request: dict[str, Any] = {"action": "QuerySendDetails", "PhoneNumber": mask(number),
                                   "OutId": idempotency_key, "SendDate": []}
        latency = 0.0
        while day <= last:
            request["SendDate"].append(day.strftime("%Y%m%d"))
            for page in range(1, ALIYUN_MAX_PAGES + 1):
                fields = self.signed("QuerySendDetails", {
                    "PhoneNumber": number, "SendDate": day.strftime("%Y%m%d"),
                    "PageSize": str(ALIYUN_PAGE_SIZE), "CurrentPage": str(page)})
                record = {"method": "POST", "url": self.base_url + "/", "body": mask(fields)}
                _, body, took = send(self.client, self._form_request(fields), record,
                                     "aliyun SMS QuerySendDetails")
                latency += took
                code = body.get("Code") if isinstance(body, dict) else None
                if code != "OK":  # the look-up failed: ask again later, never guess
                    raise TransientError(f"aliyun SMS QuerySendDetails answered {code}",
                                         request=record, response=mask(body))
                details = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
                for detail in details:
                    if detail.get("OutId") == idempotency_key:
                        return SentRecord(True, request, mask(detail), latency, {
                            "send_status": detail.get("SendStatus"),
                            "send_date": detail.get("SendDate")})
                if page * ALIYUN_PAGE_SIZE >= int(body.get("TotalCount") or 0):
                    break
            day += timedelta(days=1)
        return SentRecord(False, request, None, latency)

    def send(self, phone: str, template_code: str, params: dict[str, str], sign_name: str,
             idempotency_key: str) -> CallResult:
        fields = self.signed_params(phone, template_code, params, sign_name, idempotency_key)
        record = {"method": "POST", "url": self.base_url + "/", "body": mask(fields)}
        self.wait_for_slot(record)
        request = self._form_request(fields)
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
        request, record = self._signed_request("SendSms", payload)
        self.wait_for_slot(record)
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

    def _signed_request(self, action: str,
                        payload: dict[str, Any]) -> tuple[httpx.Request, dict[str, Any]]:
        content = json_bytes(payload)
        url = httpx.URL(self.base_url + "/")
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "Host": url.netloc.decode(), "X-TC-Action": action,
                   "X-TC-Timestamp": str(timestamp), "X-TC-Version": TENCENT_VERSION,
                   "X-TC-Region": self.region}
        headers["Authorization"] = tc3_authorization(
            self.secret_id, self.secret_key, "sms", timestamp, headers,
            ("content-type", "host"), content)
        record = {"method": "POST", "url": str(url), "headers": mask(headers),
                  "body": mask(payload)}
        return self.client.build_request("POST", url, content=content, headers=headers,
                                         timeout=self.timeout_s), record

    def find_sent(self, phone: str, idempotency_key: str, since: datetime) -> SentRecord:
        """PullSmsSendStatusByPhoneNumber from a minute before SINCE until now.

        Source: Tencent Cloud SMS API 2021-01-11, "PullSmsSendStatusByPhoneNumber"
        (https://www.tencentcloud.com/document/api/382/40518; the PullSmsSendStatus type,
        with SessionContext, https://cloud.tencent.com/document/product/382/55977): BeginTime
        (UNIX seconds, at most 7 days back), Offset, Limit (at most 100), PhoneNumber
        (E.164), SmsSdkAppId, EndTime; the answer's PullSmsSendStatusSet[] (type
        PullSmsSendStatus) carries SerialNo,
        ReportStatus and the SessionContext given to SendSms. These are *delivery reports*:
        a message appears once the carrier reported on it, which is why the runner trusts
        "not found" only after a grace period.
        """
        now = int(time.time())  # BeginTime reaches back 7 days, no further
        begin = min(max(int(since.timestamp()) - 60, now - 7 * 86400 + 60), now - 60)
        payload = {"BeginTime": begin, "EndTime": now + 60,
                   "Offset": 0, "Limit": TENCENT_PULL_LIMIT, "PhoneNumber": e164(phone),
                   "SmsSdkAppId": self.sdk_app_id}
        request, record = self._signed_request("PullSmsSendStatusByPhoneNumber", payload)
        _, body, latency = send(self.client, request, record,
                                "tencent SMS PullSmsSendStatusByPhoneNumber")
        answer = body.get("Response", {}) if isinstance(body, dict) else {}
        if answer.get("Error") or "PullSmsSendStatusSet" not in answer:
            raise TransientError(f"tencent SMS PullSmsSendStatusByPhoneNumber answered "
                                 f"{answer.get('Error') or 'no PullSmsSendStatusSet'}",
                                 request=record, response=mask(body))
        for status in answer["PullSmsSendStatusSet"] or []:
            if status.get("SessionContext") == idempotency_key:
                return SentRecord(True, record, mask(status), latency, {
                    "biz_id": status.get("SerialNo"),
                    "report_status": status.get("ReportStatus")})
        return SentRecord(False, record, None, latency)
