"""Aliyun SMS (dysmsapi SendSms, RPC signature SignatureVersion 1.0) and its look-up by key,
QuerySendDetails."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from orderpilot.adapters.connectors.base import (
    CallResult,
    PermanentError,
    TransientError,
    mask,
    send,
)
from orderpilot.adapters.connectors.lookups import SentRecord
from orderpilot.adapters.connectors.signing import aliyun_signature, percent_encode
from orderpilot.adapters.connectors.sms_provider import SmsProvider, national_number, provider_error
from orderpilot.domain.times import SHANGHAI  # Aliyun's SendDate is a Beijing day

ALIYUN_RETRY_CODES = ("isv.BUSINESS_LIMIT_CONTROL", "Throttling", "ServiceUnavailable",
                      "InternalError", "isp.SYSTEM_ERROR", "isv.DAY_LIMIT_CONTROL_TEMPORARY")
ALIYUN_PAGE_SIZE = 50  # QuerySendDetails: PageSize 1..50
ALIYUN_MAX_PAGES = 20


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
        last = datetime.now(SHANGHAI).date()  # SendDate reaches back 30 days, no further
        day = min(max(since.astimezone(SHANGHAI).date(), last - timedelta(days=30)), last)
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
            raise provider_error(kind, f"{what}: Aliyun answered {code}: {message}", record, body,
                        response.status_code, latency)
        return CallResult(record, body, response.status_code, latency,
                          {"biz_id": body.get("BizId"), "request_id": body.get("RequestId")})
