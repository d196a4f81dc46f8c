"""Aliyun dysmsapi SendSms and QuerySendDetails: checks the RPC signature (SignatureVersion 1.0)
for real, on both.

QuerySendDetails answers from what SendSms recorded: the sends to PhoneNumber on SendDate (a
Beijing day), PageSize per page, each with the OutId it was sent with (the Alibaba Cloud API
reference, https://help.aliyun.com/document_detail/419277.html).
"""

from __future__ import annotations

import hmac
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.adapters.connectors.signing import aliyun_signature
from orderpilot.domain.times import SHANGHAI  # Aliyun's SendDate is a Beijing day
from orderpilot.simulators.external.recorder import (
    Answer,
    Recorder,
    handle,
    handle_look_up,
    read_body,
    recorder_for,
)

NAME = "aliyun-sms"
router = APIRouter()
COMMON = ("AccessKeyId", "Action", "SignatureMethod", "SignatureNonce", "SignatureVersion",
          "Timestamp", "Version", "Signature")
MOBILE = re.compile(r"^(86)?1\d{10}$")
ACTIONS = ("SendSms", "QuerySendDetails")


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"Code": code, "Message": message, "RequestId": str(uuid.uuid4()).upper()}


def refusal(method: str, params: dict[str, str]) -> Answer | None:
    for name in COMMON:
        if not params.get(name):
            return _error(400, f"Missing{name}", f"{name} is mandatory for this action.")
    if params["AccessKeyId"] != SIM.aliyun_access_key_id:
        return _error(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    expected = aliyun_signature(method, params, SIM.aliyun_access_key_secret)
    if not hmac.compare_digest(expected, params["Signature"]):
        return _error(403, "SignatureDoesNotMatch",
                      "Specified signature is not matched with our calculation.")
    try:
        sent = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return _error(400, "InvalidTimeStamp.Format", "Timestamp must be yyyy-MM-ddTHH:mm:ssZ.")
    if abs((datetime.now(UTC) - sent).total_seconds()) > 900:
        return _error(400, "InvalidTimeStamp.Expired", "Timestamp is more than 15 minutes off.")
    if params["Action"] not in ACTIONS or params["Version"] != "2017-05-25":
        return _error(400, "InvalidAction.NotFound",
                      "Only SendSms and QuerySendDetails 2017-05-25 are simulated.")
    if params["Action"] == "QuerySendDetails":
        return query_refusal(params)
    for name in ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam"):
        if not params.get(name):
            return _error(400, f"Missing{name}", f"{name} is mandatory for this action.")
    try:
        template = json.loads(params["TemplateParam"])
    except ValueError:
        template = None
    if not isinstance(template, dict):
        return _error(200, "isv.INVALID_JSON_PARAM", "TemplateParam is not a JSON object.")
    if not all(MOBILE.match(p) for p in params["PhoneNumbers"].split(",")):
        return _error(200, "isv.MOBILE_NUMBER_ILLEGAL", "PhoneNumbers has an invalid number.")
    return None


def query_refusal(params: dict[str, str]) -> Answer | None:
    for name in ("PhoneNumber", "SendDate", "PageSize"):
        if not params.get(name):
            return _error(400, f"Missing{name}", f"{name} is mandatory for this action.")
    try:
        day = datetime.strptime(params["SendDate"], "%Y%m%d").replace(tzinfo=SHANGHAI).date()
        size, page = int(params["PageSize"]), int(params.get("CurrentPage") or 1)
    except ValueError:
        return _error(400, "InvalidParameter", "SendDate is yyyyMMdd; PageSize and "
                                               "CurrentPage are numbers.")
    if not 1 <= size <= 50 or page < 1:
        return _error(400, "InvalidParameter", "PageSize is 1..50, CurrentPage from 1.")
    if (datetime.now(SHANGHAI).date() - day).days > 30:
        return _error(400, "isv.OUT_OF_SERVICE", "SendDate is more than 30 days ago.")
    return None


def send_details(recorder: Recorder, params: dict[str, str]) -> Answer:
    phone, day = params["PhoneNumber"], params["SendDate"]
    size, page = int(params["PageSize"]), int(params.get("CurrentPage") or 1)
    details = []
    for record in recorder.snapshot():
        sent = record["body"]
        at = datetime.fromisoformat(record["received_at"]).astimezone(SHANGHAI)
        if record["status_code"] != 200 or phone not in sent["PhoneNumbers"].split(",") \
                or at.strftime("%Y%m%d") != day:
            continue
        details.append({"PhoneNum": phone, "SendStatus": 3, "ErrCode": "DELIVERED",
                        "TemplateCode": sent["TemplateCode"], "Content": sent["TemplateParam"],
                        "SendDate": at.strftime("%Y-%m-%d %H:%M:%S"),
                        "ReceiveDate": at.strftime("%Y-%m-%d %H:%M:%S"),
                        "OutId": sent.get("OutId", "")})
    shown = details[(page - 1) * size:page * size]
    return 200, {"Code": "OK", "Message": "OK", "RequestId": str(uuid.uuid4()).upper(),
                 "TotalCount": len(details), "SmsSendDetailDTOs": {"SmsSendDetailDTO": shown}}


@router.post("/")
async def send_sms(request: Request) -> JSONResponse:
    _, body = await read_body(request)
    params: dict[str, str] = {**request.query_params, **(body if isinstance(body, dict) else {})}
    recorder = recorder_for(request, NAME)
    if params.get("Action") == "QuerySendDetails":
        return await handle_look_up(
            request, NAME, query={k: params.get(k) for k in (
                "PhoneNumber", "SendDate", "PageSize", "CurrentPage", "BizId")},
            reject=lambda: refusal(request.method, params),
            answer=lambda: send_details(recorder, params))

    def answer() -> tuple[int, Any]:
        biz_id = f"{900000000000000 + next(recorder.serial)}^0"
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id,
                     "RequestId": str(uuid.uuid4()).upper()}

    return await handle(request, NAME, body=params,
                        key=params.get("OutId") or request.headers.get("idempotency-key"),
                        reject=lambda: refusal(request.method, params), answer=answer)
