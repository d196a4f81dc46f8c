"""Tencent Cloud SMS SendSms and PullSmsSendStatusByPhoneNumber (2021-01-11): checks the
TC3-HMAC-SHA256 signature for real, on both.

Like the real API it answers HTTP 200 and puts failures in Response.Error. The status pull
answers from what SendSms recorded for PhoneNumber between BeginTime and EndTime, each status
with the SessionContext the send carried (API reference:
https://www.tencentcloud.com/document/api/382/40518). The simulator reports every send at once;
the real service lists a message only after the carrier's delivery report.
"""

from __future__ import annotations

import hmac
import re
import time
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.adapters.connectors.signing import (
    parse_tc3_authorization,
    tc3_canonical_request,
    tc3_date,
    tc3_signature,
    tc3_string_to_sign,
)
from orderpilot.simulators.external.recorder import (
    Answer,
    Recorder,
    handle,
    handle_look_up,
    read_body,
    recorder_for,
)

NAME = "tencent-sms"
router = APIRouter()
E164 = re.compile(r"^\+\d{6,15}$")
ACTIONS = ("SendSms", "PullSmsSendStatusByPhoneNumber")


def _error(code: str, message: str) -> Answer:
    return 200, {"Response": {"Error": {"Code": code, "Message": message},
                              "RequestId": str(uuid.uuid4())}}


def signature_refusal(request: Request, raw: bytes) -> Answer | None:
    auth = parse_tc3_authorization(request.headers.get("authorization", ""))
    if not auth:
        return _error("AuthFailure.InvalidAuthorization", "Authorization is not TC3 shaped.")
    if auth["secret_id"] != SIM.tencent_secret_id:
        return _error("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
    try:
        timestamp = int(request.headers.get("x-tc-timestamp", ""))
    except ValueError:
        return _error("MissingParameter", "X-TC-Timestamp is required.")
    if abs(time.time() - timestamp) > 300:
        return _error("AuthFailure.SignatureExpire", "Signature expired (over 5 minutes).")
    signed = auth["signed_headers"].split(";")
    if not {"content-type", "host"} <= set(signed) or auth["date"] != tc3_date(timestamp):
        return _error("AuthFailure.SignatureFailure", "Credential scope or headers are wrong.")
    canonical = tc3_canonical_request(request.method, dict(request.headers), signed, raw)
    expected = tc3_signature(SIM.tencent_secret_key, auth["date"], auth["service"],
                             tc3_string_to_sign(timestamp, auth["service"], canonical))
    if not hmac.compare_digest(expected, auth["signature"]):
        return _error("AuthFailure.SignatureFailure", "The request signature is not correct.")
    if request.headers.get("x-tc-action") not in ACTIONS:
        return _error("InvalidAction", f"Only {' and '.join(ACTIONS)} are simulated.")
    return None


def pull_refusal(body: Any) -> Answer | None:
    if not isinstance(body, dict):
        return _error("InvalidParameter", "The body must be a JSON object.")
    for name in ("BeginTime", "Limit", "PhoneNumber", "SmsSdkAppId"):
        if body.get(name) in (None, ""):
            return _error("MissingParameter", f"{name} is required.")
    if "Offset" not in body:
        return _error("MissingParameter", "Offset is required.")
    if body["SmsSdkAppId"] != SIM.tencent_sdk_app_id:
        return _error("InvalidParameterValue.SdkAppIdNotExist", "SmsSdkAppId does not exist.")
    numbers = (body["BeginTime"], body.get("EndTime", 0), body["Limit"], body["Offset"])
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers) \
            or not 0 < body["Limit"] <= 100:
        return _error("InvalidParameterValue", "BeginTime, EndTime, Offset and Limit "
                                               "(1..100) are integers.")
    if time.time() - body["BeginTime"] > 7 * 86400:
        return _error("InvalidParameterValue.TimeRangeTooLong", "BeginTime is over 7 days ago.")
    return None


def send_statuses(recorder: Recorder, body: dict[str, Any]) -> Answer:
    end = body.get("EndTime") or int(time.time())
    found = []
    for serial, record in enumerate(recorder.snapshot(), 1):
        sent, at = record["body"], datetime.fromisoformat(record["received_at"]).timestamp()
        if record["status_code"] != 200 or body["PhoneNumber"] not in sent["PhoneNumberSet"] \
                or not body["BeginTime"] <= at <= end:
            continue
        phone = body["PhoneNumber"]
        found.append({"UserReceiveTime": int(at), "CountryCode": "86",
                      "SubscriberNumber": phone.removeprefix("+86"), "PhoneNumber": phone,
                      "SerialNo": f"2640:{serial:012d}",
                      "ReportStatus": "SUCCESS", "Description": "DELIVRD",
                      "SessionContext": sent.get("SessionContext", "")})
    shown = found[body["Offset"]:body["Offset"] + body["Limit"]]
    return 200, {"Response": {"PullSmsSendStatusSet": shown, "RequestId": str(uuid.uuid4())}}


def body_refusal(body: Any) -> Answer | None:
    if not isinstance(body, dict):
        return _error("InvalidParameter", "The body must be a JSON object.")
    for name in ("PhoneNumberSet", "SmsSdkAppId", "SignName", "TemplateId"):
        if not body.get(name):
            return _error("MissingParameter", f"{name} is required.")
    if body["SmsSdkAppId"] != SIM.tencent_sdk_app_id:
        return _error("InvalidParameterValue.SdkAppIdNotExist", "SmsSdkAppId does not exist.")
    return None


@router.post("/")
async def send_sms(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)
    if request.headers.get("x-tc-action") == "PullSmsSendStatusByPhoneNumber":
        return await handle_look_up(
            request, NAME, query=body if isinstance(body, dict) else {},
            reject=lambda: signature_refusal(request, raw) or pull_refusal(body),
            answer=lambda: send_statuses(recorder, body))

    def answer() -> tuple[int, Any]:
        def status(phone: str) -> dict[str, Any]:
            ok = bool(E164.match(phone))
            return {"SerialNo": f"2640:{next(recorder.serial):012d}", "PhoneNumber": phone,
                    "Fee": 1 if ok else 0, "SessionContext": body.get("SessionContext", ""),
                    "Code": "Ok" if ok else "InvalidParameterValue.IncorrectPhoneNumber",
                    "Message": "send success" if ok else "incorrect phone number",
                    "IsoCode": "CN" if phone.startswith("+86") else "UNKNOWN"}

        return 200, {"Response": {"SendStatusSet": [status(p) for p in body["PhoneNumberSet"]],
                                  "RequestId": str(uuid.uuid4())}}

    key = (body.get("SessionContext") if isinstance(body, dict) else None) or \
        request.headers.get("idempotency-key")
    return await handle(request, NAME, body=body, key=key,
                        reject=lambda: signature_refusal(request, raw) or body_refusal(body),
                        answer=answer)
