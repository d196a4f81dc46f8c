"""A WeCom (企业微信) group robot webhook, addressed by its key."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.simulators.external.checks import text_refusal
from orderpilot.simulators.external.recorder import Answer, handle, read_body

NAME = "wecom"
router = APIRouter()


def key_refusal(request: Request) -> Answer | None:
    if request.query_params.get("key") == SIM.wecom_key:
        return None
    return 200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: key not found"}


@router.post("/cgi-bin/webhook/send")
async def send(request: Request) -> JSONResponse:
    _, body = await read_body(request)
    return await handle(request, NAME, body=body, key=request.headers.get("idempotency-key"),
                        reject=lambda: key_refusal(request) or text_refusal(body),
                        answer=lambda: (200, {"errcode": 0, "errmsg": "ok"}))
