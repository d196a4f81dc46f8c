"""Aliyun dysmsapi SendSms: checks the RPC signature (SignatureVersion 1.0) for real."""

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
from orderpilot.simulators.external.recorder import Answer, handle, read_body, recorder_for

NAME = "aliyun-sms"
router = APIRouter()
COMMON = ("AccessKeyId", "Action", "SignatureMethod", "SignatureNonce", "SignatureVersion",
          "Timestamp", "Version", "Signature")
MOBILE = re.compile(r"^(86)?1\d{10}$")


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
    if params["Action"] != "SendSms" or params["Version"] != "2017-05-25":
        return _error(400, "InvalidAction.NotFound", "Only SendSms 2017-05-25 is simulated.")
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


@router.post("/")
async def send_sms(request: Request) -> JSONResponse:
    _, body = await read_body(request)
    params: dict[str, str] = {**request.query_params, **(body if isinstance(body, dict) else {})}
    recorder = recorder_for(request, NAME)

    def answer() -> tuple[int, Any]:
        biz_id = f"{900000000000000 + next(recorder.serial)}^0"
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id,
                     "RequestId": str(uuid.uuid4()).upper()}

    return await handle(request, NAME, body=params,
                        key=params.get("OutId") or request.headers.get("idempotency-key"),
                        reject=lambda: refusal(request.method, params), answer=answer)
