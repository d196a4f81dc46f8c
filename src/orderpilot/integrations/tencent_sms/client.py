"""Tencent Cloud SMS (SendSms 2021-01-11, TC3-HMAC-SHA256) and its look-up by key,
PullSmsSendStatusByPhoneNumber."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx

from orderpilot.adapters.connectors.base import (
    CallResult,
    PermanentError,
    TransientError,
    mask,
    send,
)
from orderpilot.adapters.connectors.http import json_bytes
from orderpilot.adapters.connectors.lookups import SentRecord
from orderpilot.adapters.connectors.signing import tc3_authorization
from orderpilot.adapters.connectors.sms_provider import SmsProvider, e164, provider_error

TENCENT_RETRY_CODES = ("RequestLimitExceeded", "InternalError", "LimitExceeded.AppCountryOrRegion",
                       "FailedOperation.FailResolvePacket", "ResourceUnavailable")
TENCENT_VERSION = "2021-01-11"
TENCENT_PULL_LIMIT = 100  # PullSmsSendStatusByPhoneNumber: Limit at most 100


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
            raise provider_error(kind, f"{what}: Tencent answered {code}: {failure.get('Message')}",
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
