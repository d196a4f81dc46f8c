"""A DingTalk group robot: checks access_token and the timestamp+secret signature."""

from __future__ import annotations

import hmac
import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.adapters.connectors.signing import dingtalk_sign
from orderpilot.simulators.external.checks import text_refusal
from orderpilot.simulators.external.recorder import Answer, handle, read_body

NAME = "dingtalk"
router = APIRouter()


def sign_refusal(request: Request) -> Answer | None:
    query = request.query_params
    if query.get("access_token") != SIM.dingtalk_access_token:
        return 200, {"errcode": 300001, "errmsg": "token is not exist"}
    try:
        timestamp = int(query.get("timestamp", ""))
    except ValueError:
        return 200, {"errcode": 310000, "errmsg": "sign not match: timestamp missing"}
    if abs(time.time() * 1000 - timestamp) > 3_600_000:
        return 200, {"errcode": 310000, "errmsg": "sign not match: timestamp over an hour off"}
    if not hmac.compare_digest(dingtalk_sign(SIM.dingtalk_secret, timestamp),
                               query.get("sign", "")):
        return 200, {"errcode": 310000, "errmsg": "sign not match"}
    return None


@router.post("/robot/send")
async def send(request: Request) -> JSONResponse:
    _, body = await read_body(request)
    return await handle(request, NAME, body=body, key=request.headers.get("idempotency-key"),
                        reject=lambda: sign_refusal(request) or text_refusal(body),
                        answer=lambda: (200, {"errcode": 0, "errmsg": "ok"}))
